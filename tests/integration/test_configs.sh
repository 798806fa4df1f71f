#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR
# Every configuration in configs/ serves traffic: sluice starts with each one in turn in the TAP
# testbed (namespace sl-cf-<pid>) and a request goes through every location of every service.
#
# What is adapted for the testbed, and nothing else:
#   - a file without a `dataplane` section gets tap-demo's (the TAP device, 198.18.0.2/24)
#     prepended, in a copy;
#   - backend host names resolve inside the namespace only, through /etc/netns/NS/hosts (which
#     `ip netns exec` mounts over /etc/hosts): the names in file order get 198.18.0.11, .12,
#     .13 in turn (configs_plan.py); sluice resolves them itself when it starts;
#   - sluice-backend serves every (address, port) the file's backends use;
#   - TLS certificate and key paths point to a certificate the test makes (openssl), and the
#     probes of a TLS service go over HTTPS;
#   - a port on a PCI device (configs/sluice.yaml, the installed example for a NIC host) gets
#     the TAP device net_tap0 instead, and files under /var/lib/sluice and /var/log/sluice (the
#     service's directories) go to the test's temporary folder.
# Each probe checks the answering backend's address (the one its name resolved to), the path
# it saw (rewrite), or the redirect. Also: a name that does not resolve refuses the start
# with file:line:col (and a reload with one is refused, the running configuration stays), and
# a name with two addresses uses the first.
#
# Usage: test_configs.sh [BUILD_DIR]   (default build/)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

tb_init sl-cf "${1:-}"

tb_need_root
tb_need_cmd ip python3 curl openssl
TMP=$(mktemp -d /tmp/sl-cf-test.XXXXXX)
tb_on_exit "rm -rf '$TMP'"
etc=/etc/netns/$SL_NS
[ ! -e "$etc" ] || tb_die "$etc exists already; not touching it"
mkdir -p "$etc"
tb_on_exit "rm -rf '$etc'"

nsx() { ip netns exec "$SL_NS" "$@"; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=probe.test \
	-keyout "$TMP/tls.key" -out "$TMP/tls.pem" 2>/dev/null || tb_die "openssl cannot make a certificate"
DATAPLANE='dataplane:
  ports:
    - name: tap0
      device: net_tap0
      ip: 198.18.0.2/24
      mtu: 1500
  idle: adaptive
  mbufs: 8191
'
bk_pids=()
stop_backends() {
	local p
	for p in "${bk_pids[@]}"; do tb_stop_pid "$p" 2; done
	bk_pids=()
}
tb_on_exit "stop_backends"
tb_on_exit "'$top/scripts/testbed.sh' down"

# serve_config NAME FILE: sluice with FILE (adapted), probes through every location.
serve_config() {
	local name=$1 src=$2 cfg=$TMP/$1.yaml n=0 ip ports args p
	if grep -q '^dataplane:' "$src"; then cp "$src" "$cfg"; else
		{ printf '%s' "$DATAPLANE"; cat "$src"; } >"$cfg"
	fi
	sed -i -E -e "s#^( *cert_file: *).*#\1$TMP/tls.pem#" -e "s#^( *key_file: *).*#\1$TMP/tls.key#" \
		-e "s#^( *device: *)[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]#\1net_tap0#" \
		-e "s#/var/(lib|log)/sluice/#$TMP/$name-#" "$cfg"
	if ! "$SL_BUILD/apps/sluice/sluice" --check --config "$cfg" >"$TMP/$name.json" 2>"$TMP/$name.err"; then
		tb_fail "config_${name}_serves" "does not load: $(cat "$TMP/$name.err")"
		return
	fi
	python3 "$HERE/configs_plan.py" plan "$TMP/$name.json" "$etc/hosts" "$TMP/$name.plan"
	# sluice runs in $TMP: a relative path in the file (auth.db) lands there.
	if ! (cd "$TMP" && "$top/scripts/testbed.sh" up --config "$cfg" --no-backends) >"$TMP/up.log" 2>&1; then
		tb_fail "config_${name}_serves" "sluice did not start: $(tail -3 "$TMP/up.log" | tr '\n' ' ')"
		return
	fi
	while read -r ip ports; do
		n=$((n + 1))
		nsx ip addr add "$ip/32" dev sl0 2>/dev/null || true # .11-.13 are there already
		args=()
		for p in $ports; do args+=(--listen "$ip:$p"); done
		ip netns exec "$SL_NS" "$SL_BUILD/apps/sluice-backend/sluice-backend" "${args[@]}" \
			--name "b$n" </dev/null >"$TMP/$name-b$n.log" 2>&1 &
		bk_pids+=($!)
		for p in $ports; do
			tb_wait_for "nsx ss -Hltn 'src $ip:$p' | grep -q ." 5 || tb_log "no backend on $ip:$p"
		done
	done < <(python3 -c 'import json,sys
for ip, ports in json.load(open(sys.argv[1]))["serve"].items(): print(ip, *ports)' "$TMP/$name.plan")
	if nsx python3 "$HERE/configs_plan.py" probe "$TMP/$name.plan" >"$TMP/$name.probe" 2>&1; then
		tb_pass "config_${name}_serves ($(grep -c '^ok' "$TMP/$name.probe") locations)"
	else
		tb_fail "config_${name}_serves" "$(grep -v '^ok' "$TMP/$name.probe" | tr '\n' ' ')"
	fi
	sed 's/^/    /' "$TMP/$name.probe"
	stop_backends
	"$top/scripts/testbed.sh" down >/dev/null 2>&1
}

n_configs=0
for f in "$top"/configs/*.yaml; do
	serve_config "$(basename "$f" .yaml)" "$f"
	n_configs=$((n_configs + 1))
done
[ "$n_configs" -ge 4 ] || tb_fail "configs_found" "only $n_configs files in configs/"

# --- names: one that does not resolve refuses the start; one with two addresses ------------

cat >"$TMP/names.yaml" <<EOF
${DATAPLANE}services:
  - name: s
    port: 80
    locations:
      - path: /
        backends:
          - url: http://two-addresses.test:8080
      - path: /nx/
        backends:
          - url: http://198.18.0.12:8080
          - url:   http://no-such-backend.invalid:8080
EOF
printf '127.0.0.1 localhost\n198.18.0.13 two-addresses.test\n198.18.0.11 two-addresses.test\n' \
	>"$etc/hosts"
out=$( (cd "$TMP" && "$top/scripts/testbed.sh" up --config "$TMP/names.yaml" --no-backends) 2>&1) && rc=0 || rc=$?
if [ "$rc" -ne 0 ] && grep -qF "$TMP/names.yaml:19:20: backend http://no-such-backend.invalid:8080: cannot resolve 'no-such-backend.invalid'" <<<"$out"; then
	tb_pass "unresolvable_backend_refused_with_file_line_col"
else
	tb_fail "unresolvable_backend_refused_with_file_line_col" "rc=$rc: $(grep sluice: <<<"$out" | tail -2 | tr '\n' ' ')"
fi
"$top/scripts/testbed.sh" down >/dev/null 2>&1 || true
printf '198.18.0.12 no-such-backend.invalid\n' >>"$etc/hosts"
if (cd "$TMP" && "$top/scripts/testbed.sh" up --config "$TMP/names.yaml") >"$TMP/up.log" 2>&1; then
	got=$(for _ in 1 2 3 4; do
		nsx curl -sS --max-time 10 http://198.18.0.2/x | python3 -c 'import json,sys; print(json.load(sys.stdin)["local"])'
	done | sort -u | tr '\n' ' ')
	if [ "$got" = "198.18.0.13:8080 " ]; then tb_pass "name_with_two_addresses_uses_the_first"; else
		tb_fail "name_with_two_addresses_uses_the_first" "answered by $got"; fi
	# A reload (SIGHUP) with a name that does not resolve is refused; the running one stays.
	sed -i 's/no-such-backend.invalid/not-in-hosts.test/' "$TMP/names.yaml"
	kill -HUP "$(cat "$top/.run/$SL_NS/sluice.pid")"
	if tb_wait_for "grep -q \"SIGHUP: configuration refused.*cannot resolve 'not-in-hosts.test'\" '$top/.run/$SL_NS/sluice.log'" 10 &&
		[ "$(nsx curl -sS -m 10 -o /dev/null -w '%{http_code}' http://198.18.0.2/nx/x)" = 200 ]; then
		tb_pass "reload_with_unresolvable_name_refused_running_config_stays"
	else
		tb_fail "reload_with_unresolvable_name_refused_running_config_stays" \
			"$(grep SIGHUP "$top/.run/$SL_NS/sluice.log" | tail -1)"
	fi
else
	tb_fail "name_with_two_addresses_uses_the_first" "sluice did not start: $(tail -3 "$TMP/up.log" | tr '\n' ' ')"
fi

tb_summary
