#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR
#
# The install layout and sluice.service, run as systemd would run them. Topology: namespace
# sl-in-<pid> where the *installed* sluice owns the TAP sl0 (198.18.0.2), the kernel side has
# 198.18.0.1/24 and two sluice-backends (198.18.0.11 and .12, port 8080).
#
# `meson install --destdir` of the build into a temporary root; every file where the build's
# prefix puts it, with its mode, no template placeholder left, no test backend; the installed
# config passes `sluice --check`; `systemd-analyze verify` on the installed unit (its paths
# moved under the temporary root); the unit's stop timeout exceeds the config's drain; the
# logrotate snippet covers the config's access log. Then the unit's own lines run the way
# systemd runs them: its Environment= defaults, the installed env file (its TAP example line
# enabled, a unique --file-prefix) as EnvironmentFile=, ExecStartPre (prepare.sh; it refuses
# an EAL line without --no-pci/-a and, when the host has a PCI NIC that is up, binding it),
# ExecStart split as systemd splits $VAR and ${VAR}, in a state directory as working
# directory, with NOTIFY_SOCKET. Checks: READY=1, requests proxied to both backends, the
# access log reopened after a rename and SIGUSR2 (logrotate's way), ExecReload (SIGHUP)
# reloads a changed file (RELOADING=1 then READY=1, traffic follows), SIGTERM stops it with
# STOPPING=1 and exit status 0, the TAP gone. Everything is removed on every exit.
#
# usage: test_install.sh [BUILD_DIR]
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
tb_init sl-in "${1:-}"

tb_need_root
tb_need_cmd ip curl python3 meson systemd-analyze setpriv capsh promtool
backend=$SL_BUILD/apps/sluice-backend/sluice-backend
[ -x "$backend" ] || tb_die "no $backend: build first"
TMP=$(mktemp -d /tmp/sl-in-test.XXXXXX)
tb_on_exit "rm -rf '$TMP'"
DEST=$TMP/root
nsx() { ip netns exec "$SL_NS" "$@"; }

# --- the layout ----------------------------------------------------------------------------
if ! meson install -C "$SL_BUILD" --destdir "$DEST" --quiet >"$TMP/install.log" 2>&1; then
	tail -5 "$TMP/install.log" >&2
	tb_die "meson install --destdir failed"
fi
# The build's directories, as meson resolves them (sysconfdir is /etc for prefix /usr).
{ read -r prefix && read -r bindir && read -r sysconfdir && read -r libexecdir && read -r datadir &&
	read -r unit_opt; } < <(meson introspect "$SL_BUILD" --buildoptions | python3 -c '
import json, os, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
p = o["prefix"]
print(p)
for k in ("bindir", "sysconfdir", "libexecdir", "datadir"):
    print(os.path.join(p, o[k]))
print(o["systemdsystemunitdir"] if o["systemd_unit"] else "-")
') || tb_die "cannot read the build's directories (meson introspect)"
[ "$unit_opt" != - ] || tb_die "the build has -Dsystemd_unit=false: nothing to test the unit with"
if [ -n "$unit_opt" ]; then
	unitdir=$unit_opt
elif pkg-config --exists systemd 2>/dev/null; then
	unitdir=$(pkg-config --define-variable=rootprefix="$prefix" --variable=systemdsystemunitdir systemd)
else
	unitdir=$prefix/lib/systemd/system
fi
tb_log "prefix $prefix: $bindir, $sysconfdir, $libexecdir, $datadir, $unitdir"

layout_ok=1
expect() { # MODE PATH
	local got
	got=$(stat -c %a "$DEST$2" 2>/dev/null) || { tb_fail "installed $2" "missing"; layout_ok=0; return; }
	[ "$got" = "$1" ] || { tb_fail "installed $2" "mode $got, expected $1"; layout_ok=0; }
}
expect 755 "$bindir/sluice"
expect 755 "$bindir/sluicectl"
expect 640 "$sysconfdir/sluice/sluice.yaml"
expect 644 "$sysconfdir/sluice/sluice.env"
expect 644 "$sysconfdir/logrotate.d/sluice"
for s in hugepages.sh nic.sh host-check.sh prepare.sh; do expect 755 "$libexecdir/sluice/$s"; done
expect 644 "$libexecdir/sluice/pci.sh"
expect 644 "$datadir/sluice/monitoring/prometheus.yml"
expect 644 "$datadir/sluice/monitoring/grafana/sluice-dashboard.json"
expect 644 "$datadir/sluice/monitoring/alerts.yml"
expect 644 "$unitdir/sluice.service"
[ "$layout_ok" = 1 ] && tb_pass "every file installed where the prefix says, with its mode"
# The installed prometheus.yml loads the rules beside it (rule_files is relative to it).
tb_check "promtool check config on the installed prometheus.yml finds alerts.yml" \
	bash -c "cd / && promtool check config '$DEST$datadir/sluice/monitoring/prometheus.yml' >'$TMP/promtool.out' 2>&1 && grep -q 'SUCCESS: 1 rule files found' '$TMP/promtool.out' || { cat '$TMP/promtool.out' >&2; false; }"
if [ -e "$DEST$bindir/sluice-backend" ]; then
	tb_fail "test_backend_not_installed" "$bindir/sluice-backend is there"
else
	tb_pass "test_backend_not_installed"
fi
left=$(grep -l '@[A-Z]*@' "$DEST$unitdir/sluice.service" "$DEST$sysconfdir/sluice/sluice.env" 2>/dev/null)
if [ -z "$left" ]; then
	tb_pass "templates_filled_in"
else
	tb_fail "templates_filled_in" "placeholders left in $left"
fi

# --- the installed configuration and unit ----------------------------------------------------
unit=$DEST$unitdir/sluice.service
if "$DEST$bindir/sluice" --check --config "$DEST$sysconfdir/sluice/sluice.yaml" \
	>"$TMP/check.json" 2>"$TMP/check.err"; then
	tb_pass "installed sluice --check accepts the installed sluice.yaml"
else
	tb_fail "installed sluice --check accepts the installed sluice.yaml" "$(cat "$TMP/check.err")"
fi
# systemd-analyze checks that the commands exist: the unit's paths, moved under $DEST.
sed -e "s#=\\(+\\?\\)$bindir/#=\\1$DEST$bindir/#" -e "s#=\\(+\\?\\)$libexecdir/#=\\1$DEST$libexecdir/#" \
	"$unit" >"$TMP/sluice.service"
if systemd-analyze verify --man=no "$TMP/sluice.service" >"$TMP/verify.log" 2>&1 &&
	[ ! -s "$TMP/verify.log" ]; then
	tb_pass "systemd-analyze verify (no warning)"
else
	tb_fail "systemd-analyze verify (no warning)" "$(head -5 "$TMP/verify.log")"
fi
ukey() { sed -n "s/^$1=//p" "$unit" | tail -1; }
checked() { # KEY...: a value of the installed config, normalised by sluice --check
	python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    v = v[k]
print(v)' "$TMP/check.json" "$@" 2>/dev/null
}
grace=$(checked timeouts shutdown_grace)
stop=$(ukey TimeoutStopSec)
# shellcheck disable=SC2016 # $MAINPID is systemd's, literally in the unit
if [ "$(ukey Type)" = notify ] && [ "$(ukey LimitMEMLOCK)" = infinity ] &&
	[ "$(ukey ExecReload)" = '/bin/kill -HUP $MAINPID' ] && [ -n "$grace" ] &&
	python3 - "$grace" "$stop" <<'EOF'
import sys
def secs(v):
    for unit, mul in (("ms", 0.001), ("min", 60), ("s", 1), ("m", 60), ("h", 3600)):
        if v.endswith(unit):
            return float(v[:-len(unit)]) * mul
    return float(v)
sys.exit(0 if secs(sys.argv[2]) > secs(sys.argv[1]) + 5 else 1)
EOF
then
	tb_pass "unit: Type=notify, LimitMEMLOCK, ExecReload SIGHUP, TimeoutStopSec $stop > drain $grace"
else
	tb_fail "unit_settings" "Type=$(ukey Type) LimitMEMLOCK=$(ukey LimitMEMLOCK)" \
		"ExecReload=$(ukey ExecReload) TimeoutStopSec=$stop shutdown_grace=$grace"
fi
alog=$(checked admin access_log path)
lr=$DEST$sysconfdir/logrotate.d/sluice
# shellcheck disable=SC2053 # the snippet's first line is a glob, matched as one
if [ -n "$alog" ] && [[ $alog == $(awk '/^\// { print $1; exit }' "$lr") ]] &&
	grep -q 'signal=USR2 sluice.service' "$lr"; then
	tb_pass "logrotate snippet covers $alog and sends SIGUSR2"
else
	tb_fail "logrotate_snippet" "access log '$alog', snippet: $(grep '^/' "$lr")"
fi
if command -v logrotate >/dev/null 2>&1; then
	tb_check "logrotate -d parses the snippet" logrotate -d -s "$TMP/logrotate.state" "$lr"
fi

# --- the service's environment, as systemd builds it ---------------------------------------
declare -A ENV=()
# EnvironmentFile= syntax: KEY=VALUE, one pair of quotes around VALUE removed, # comments.
read_env_file() {
	local line k v
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line#"${line%%[![:space:]]*}"}
		case $line in '' | '#'* | ';'*) continue ;; esac
		k=${line%%=*} v=${line#*=}
		if [[ $v =~ ^\"(.*)\"$ || $v =~ ^\'(.*)\'$ ]]; then v=${BASH_REMATCH[1]}; fi
		ENV[$k]=$v
	done <"$1"
}
while IFS= read -r kv; do ENV[${kv%%=*}]=${kv#*=}; done < <(sed -n 's/^Environment=//p' "$unit")
envfile=$(ukey EnvironmentFile)
envfile=${envfile#-}
[ "$envfile" = "$sysconfdir/sluice/sluice.env" ] ||
	tb_fail "unit_reads_installed_env_file" "EnvironmentFile=$envfile"
# The installed file with its TAP example enabled: --file-prefix unique to this test.
sed -e 's/^#\(SLUICE_EAL=.*--no-pci.*net_tap0.*\)$/\1/' \
	-e "s/--file-prefix sluice\"/--file-prefix $SL_NS\"/" \
	-e 's/^#SLUICE_HUGEPAGES=.*/SLUICE_HUGEPAGES=0/' -e 's/^#SLUICE_HOST_CHECK=.*/SLUICE_HOST_CHECK=tap/' \
	"$DEST$envfile" >"$TMP/env" && cp "$TMP/env" "$DEST$envfile"
echo "SLUICE_CONFIG=$TMP/sluice.yaml" >>"$DEST$envfile"
read_env_file "$DEST$envfile"
if [[ ${ENV[SLUICE_EAL]:-} == *--no-pci*net_tap0*"--file-prefix $SL_NS"* ]]; then
	tb_pass "env file's TAP example line (--no-pci, file prefix)"
else
	tb_fail "env_file_tap_example" "SLUICE_EAL='${ENV[SLUICE_EAL]:-}'"
fi
# The installed config for the TAP: its device and the service's directories only.
mkdir -p "$TMP/state" "$TMP/log"
sed -E -e 's#^( *device: *)[0-9a-fA-F]{4}:[0-9a-fA-F:.]+#\1net_tap0#' \
	-e "s#/var/lib/sluice/#$TMP/state/#" -e "s#/var/log/sluice/#$TMP/log/#" \
	"$DEST$sysconfdir/sluice/sluice.yaml" >"$TMP/sluice.yaml"

# systemd's splitting: $VAR as a word becomes the value's words, ${VAR} one word.
expand_cmd() {
	local w n
	CMD=()
	for w in $1; do
		if [[ $w =~ ^\$([A-Za-z_][A-Za-z0-9_]*)$ ]]; then
			# shellcheck disable=SC2206 # split on purpose, as systemd does
			CMD+=(${ENV[${BASH_REMATCH[1]}]:-})
		elif [[ $w =~ ^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$ ]]; then
			CMD+=("${ENV[${BASH_REMATCH[1]}]:-}")
		else
			CMD+=("$w")
		fi
	done
	n=${CMD[0]#+}
	CMD[0]=$DEST$n
}
envargs() { # the service's environment for env -i
	local k
	ENVARGS=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
	for k in "${!ENV[@]}"; do ENVARGS+=("$k=${ENV[$k]}"); done
}

# --- ExecStartPre ------------------------------------------------------------------------
expand_cmd "$(ukey ExecStartPre)"
pre=("${CMD[@]}")
envargs
if env -i "${ENVARGS[@]}" SLUICE_STATE_DIR="$TMP/run" "${pre[@]}" >"$TMP/pre.log" 2>&1; then
	tb_pass "ExecStartPre (prepare.sh: TAP host check) passes"
else
	tb_fail "ExecStartPre (prepare.sh: TAP host check) passes" "$(tail -3 "$TMP/pre.log")"
fi
if env -i "${ENVARGS[@]}" SLUICE_EAL="-l 0-1 --vdev net_tap0" "${pre[@]}" >"$TMP/pre2.log" 2>&1; then
	tb_fail "prepare_refuses_eal_without_no_pci_or_a" "it passed"
elif grep -q 'neither --no-pci nor an -a device' "$TMP/pre2.log"; then
	tb_pass "prepare_refuses_eal_without_no_pci_or_a"
else
	tb_fail "prepare_refuses_eal_without_no_pci_or_a" "$(cat "$TMP/pre2.log")"
fi
env -i "${ENVARGS[@]}" SLUICE_HUGEPAGES=lots "${pre[@]}" >"$TMP/pre5.log" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "SLUICE_HUGEPAGES is a page count, not 'lots'" "$TMP/pre5.log"; then
	tb_pass "prepare_refuses_a_bad_setting_by_name"
else
	tb_fail "prepare_refuses_a_bad_setting_by_name" "rc $rc: $(cat "$TMP/pre5.log")"
fi
# The host's own NIC (the default route's interface, on a PCI device), up: binding refused,
# its driver untouched; without SLUICE_BIND, refused for not being on vfio-pci.
host_if=$(ip -o route show default 2>/dev/null |
	awk '!found { for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); found = 1 } }')
host_pci=""
# shellcheck source=../../dpdk-setup/pci.sh
[ -z "$host_if" ] ||
	host_pci=$(. "$DEST$libexecdir/sluice/pci.sh" && pci_resolve "$host_if" 2>/dev/null) ||
	host_pci=""
if [ -n "$host_pci" ]; then
	drv_before=$(readlink -f "/sys/bus/pci/devices/$host_pci/driver")
	env -i "${ENVARGS[@]}" SLUICE_EAL="-l 0-1 -a $host_pci" SLUICE_BIND=yes SLUICE_HOST_CHECK=off \
		"${pre[@]}" >"$TMP/pre3.log" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -qi 'refus' "$TMP/pre3.log" &&
		[ "$(readlink -f "/sys/bus/pci/devices/$host_pci/driver")" = "$drv_before" ]; then
		tb_pass "prepare refuses to bind the host's NIC $host_if ($host_pci), driver kept"
	else
		tb_fail "prepare_refuses_host_nic" "rc $rc: $(cat "$TMP/pre3.log")"
	fi
	env -i "${ENVARGS[@]}" SLUICE_EAL="-l 0-1 -a $host_pci" SLUICE_HOST_CHECK=off \
		"${pre[@]}" >"$TMP/pre4.log" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -q 'is not bound to vfio-pci' "$TMP/pre4.log"; then
		tb_pass "prepare refuses an -a device not on vfio-pci"
	else
		tb_fail "prepare_refuses_unbound_device" "rc $rc: $(cat "$TMP/pre4.log")"
	fi
else
	tb_log "no PCI NIC behind the default route: the refusal checks are skipped"
fi

# --- ExecStart -----------------------------------------------------------------------------
tb_netns_add "$SL_NS"
nsx ip link set lo up
expand_cmd "$(ukey ExecStart)"
tb_log "ExecStart: ${CMD[*]}"
python3 - "$TMP/notify.sock" "$TMP/notify.log" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(600)
with open(sys.argv[2], "a") as out:
    while True:
        try:
            m = s.recv(4096)
        except socket.timeout:
            break
        out.write(m.decode().replace("\n", ";") + "\n")
        out.flush()
EOF
listener=$!
tb_on_exit "tb_stop_pid $listener 1"
tb_wait_for "[ -S '$TMP/notify.sock' ]" 5 || tb_die "notify listener did not start"
envargs
# The unit's CapabilityBoundingSet= and NoNewPrivileges=, as setpriv gives them.
caps=-all
for c in $(ukey CapabilityBoundingSet); do c=${c#CAP_} && caps+=,+${c,,}; done
nnp=()
[ "$(ukey NoNewPrivileges)" != yes ] || nnp=(--no-new-privs)
tb_log "capabilities: $caps ${nnp[*]}"
# Not through nsx: $! must be sluice itself (ip netns exec, env and setpriv exec it): $MAINPID.
# JOURNAL_STREAM: stdout is the journal (sluice then logs to stdout only, a line at a time).
: >"$TMP/sluice.log"
journal=$(stat -c '%d:%i' "$TMP/sluice.log")
(cd "$TMP/state" && exec ip netns exec "$SL_NS" env -i "${ENVARGS[@]}" NOTIFY_SOCKET="$TMP/notify.sock" \
	JOURNAL_STREAM="$journal" \
	setpriv --bounding-set="$caps" "${nnp[@]}" "${CMD[@]}" </dev/null >"$TMP/sluice.log" 2>&1) &
MAINPID=$!
tb_on_exit "tb_stop_pid $MAINPID 10"
t0=$(date +%s.%N)
if tb_wait_for "grep -q '^READY=1' '$TMP/notify.log'" 30; then
	tb_pass "READY=1 after $(python3 -c "import time; print('%.1f' % (time.time() - $t0))") s"
else
	tail -5 "$TMP/sluice.log" >&2
	tb_die "no READY=1 from sluice"
fi
# The bounding set sluice runs with is the unit's, no more.
bnd=$(awk '/^CapBnd:/ { print $2 }' "/proc/$MAINPID/status")
got=$(capsh --decode="$bnd" | sed 's/.*=//' | tr ',' '\n' | sort | tr '\n' ' ')
want=$(for c in $(ukey CapabilityBoundingSet); do echo "${c,,}"; done | sort | tr '\n' ' ')
if [ -n "$want" ] && [ "$got" = "$want" ]; then
	tb_pass "sluice runs with the unit's capability bounding set (${want% })"
else
	tb_fail "capability_bounding_set" "running with '$got', unit says '$want'"
fi
nsx sysctl -qw net.ipv6.conf.sl0.disable_ipv6=1
nsx ip addr add 198.18.0.1/24 dev sl0
nsx ip addr add 198.18.0.11/32 dev sl0
nsx ip addr add 198.18.0.12/32 dev sl0
nsx ip link set sl0 up
for n in 1 2; do
	ip netns exec "$SL_NS" "$backend" --listen "198.18.0.1$n:8080" --name "backend$n" \
		</dev/null >"$TMP/backend$n.log" 2>&1 &
	tb_on_exit "tb_stop_pid $! 2"
done

# Both backends answer through sluice (round robin; health checks may take a few seconds).
seen() { # N: requests; prints the backend names that answered, sorted, unique
	local i
	for ((i = 0; i < $1; i++)); do
		nsx curl -s -m 2 http://198.18.0.2/ |
			python3 -c 'import json, sys; print(json.load(sys.stdin)["backend"])' 2>/dev/null
	done | sort -u | tr '\n' ' '
}
# Time-bounded (tb_wait_for counts tries, and one try here takes up to 8 s).
within() { # SECONDS CMD: eval CMD until it succeeds; 1 when SECONDS have passed
	local end=$((SECONDS + $1))
	until eval "$2" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}
if within 25 "[ \"\$(seen 4)\" = 'backend1 backend2 ' ]"; then
	tb_pass "requests proxied to both backends"
else
	tb_fail "requests proxied to both backends" "seen: $(seen 4)"
fi

# logrotate's way: rename, SIGUSR2, the next lines go to a new file.
if tb_wait_for "[ -s '$TMP/log/access.log' ]" 5; then
	mv "$TMP/log/access.log" "$TMP/log/access.log.1"
	kill -USR2 "$MAINPID"
	if within 10 "nsx curl -s -m 2 -o /dev/null http://198.18.0.2/reopened &&
		grep -q 'GET /reopened' '$TMP/log/access.log'"; then
		tb_pass "SIGUSR2 reopens the access log after a rename"
	else
		tb_fail "access_log_reopen" "no new access.log line"
	fi
else
	tb_fail "access_log_written" "no $TMP/log/access.log"
fi

# ExecReload with $MAINPID: a changed file (only backend2 left) is read again.
sed -i '/- url: http:\/\/198.18.0.11:8080/d' "$TMP/sluice.yaml"
reload=$(ukey ExecReload)
read -ra rl <<<"${reload//\$MAINPID/$MAINPID}"
"${rl[@]}"
if tb_wait_for "grep -q 'SIGHUP: configuration reloaded' '$TMP/sluice.log'" 10 &&
	grep -A1 '^RELOADING=1;MONOTONIC_USEC=[0-9]' "$TMP/notify.log" | grep -q '^READY=1'; then
	tb_pass "ExecReload: reloaded, RELOADING=1 then READY=1"
else
	tb_fail "exec_reload" "log: $(grep SIGHUP "$TMP/sluice.log") notify: $(tr '\n' ' ' <"$TMP/notify.log")"
fi
tb_check "after the reload only backend2 answers" within 15 "[ \"\$(seen 4)\" = 'backend2 ' ]"

# SIGTERM (systemctl stop, KillMode=mixed): STOPPING=1, exit status 0, the TAP gone.
t0=$(date +%s.%N)
kill -TERM "$MAINPID"
tb_wait_for "! kill -0 $MAINPID" 40
wait "$MAINPID"
rc=$?
took=$(python3 -c "import time; print('%.1f' % (time.time() - $t0))")
# The stop timeout stretched to the config's drain plus 15 s (EXTEND_TIMEOUT_USEC).
ext=$(python3 -c 'import sys; print(int((float(sys.argv[1].rstrip("s")) + 15) * 1000000))' "$grace")
if [ "$rc" -eq 0 ] && grep -q "^STOPPING=1;EXTEND_TIMEOUT_USEC=$ext;" "$TMP/notify.log" &&
	! nsx ip link show sl0 >/dev/null 2>&1; then
	tb_pass "SIGTERM: STOPPING=1 (stop timeout $((ext / 1000000)) s), exit 0 after $took s, sl0 gone"
else
	tb_fail "sigterm_stop" "exit $rc after $took s; notify: $(tr '\n' ' ' <"$TMP/notify.log")"
	tail -5 "$TMP/sluice.log" >&2
fi
tb_log "notifications: $(tr '\n' ' ' <"$TMP/notify.log")"
tb_summary
