#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR
# HTTP -> HTTPS redirects and automatic certificates (ACME HTTP-01) end to end in the TAP
# testbed (scripts/testbed.sh, namespace sl-acme-<pid>): sluice at 198.18.0.2 with
#   - service `secure`, host acme.sluice.test, TLS port 443, http_port 8080, its certificate
#     from auto_cert (uacme driven by sluice), `/` with http_redirect and `/keep/` without;
#   - service `plain` for any host on 8080 (plain requests there are routed normally);
#   - service `alt`, alt.sluice.test on TLS port 8443 with a certificate the test makes and
#     http_redirect on its default plain port 80;
# and Debian's pebble (the ACME test server) on the kernel side, 198.18.0.1:14000, validating
# HTTP-01 on acme.sluice.test:8080, which /etc/netns/<ns>/hosts resolves to sluice (ip netns
# exec mounts it over /etc/hosts). pebble's HTTPS certificate comes from a CA the test makes:
# tls.acme.ca_file makes uacme trust it. pebble starts after sluice, so the first attempt
# fails and is retried (backoff capped by check_interval).
#
# Usage: test_acme.sh [BUILD_DIR]   (default build/)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

tb_init sl-acme "${1:-}"
VIP=198.18.0.2
HOST_IP=198.18.0.1
DOMAIN=acme.sluice.test
FAIL=fail.sluice.test
api=http://127.0.0.1:1997
ctl=$SL_BUILD/apps/sluicectl/sluicectl

tb_need_root
tb_need_cmd ip curl python3 openssl pebble uacme
TMP=$(mktemp -d /tmp/sl-acme-test.XXXXXX)
tb_on_exit "rm -rf '$TMP'"
nsx() { ip netns exec "$SL_NS" "$@"; }
expect() { if [ "$2" = "$3" ]; then tb_pass "$1"; else tb_fail "$1" "got '$2', expected '$3'"; fi; }

# --- certificates the test makes: pebble's HTTPS listener, and alt.sluice.test --------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj "/CN=sluice test CA for pebble" -keyout "$TMP/ca.key" -out "$TMP/ca.pem" 2>/dev/null
leaf() { # NAME SAN
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
		-keyout "$TMP/$1.key" -out "$TMP/$1.csr" 2>/dev/null
	printf 'subjectAltName=%s\n' "$2" >"$TMP/$1.ext"
	openssl x509 -req -in "$TMP/$1.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" \
		-CAcreateserial -days 2 -extfile "$TMP/$1.ext" -out "$TMP/$1.pem" 2>/dev/null
}
leaf pebble "IP:$HOST_IP"
leaf alt "DNS:alt.sluice.test"

cat >"$TMP/pebble.json" <<EOF
{"pebble": {"listenAddress": "$HOST_IP:14000", "managementListenAddress": "$HOST_IP:15000",
  "certificate": "$TMP/pebble.pem", "privateKey": "$TMP/pebble.key",
  "httpPort": 8080, "tlsPort": 5001, "ocspResponderURL": "",
  "externalAccountBindingRequired": false}}
EOF

cfg=$TMP/acme.yaml
cat >"$cfg" <<EOF
dataplane:
  ports:
    - name: tap0
      device: net_tap0
      ip: $VIP/24
      mtu: 1500
  idle: adaptive
  mbufs: 8191
health_check: {enabled: false}
tls:
  auto_cert: true
  cert_dir: $TMP/certs
  domains: [$DOMAIN, $FAIL]        # $FAIL resolves to where nothing answers HTTP
  acme:
    directory: https://$HOST_IP:14000/dir
    email: ops@sluice.test
    renew_before_days: 30           # pebble's certificates last 5 years: no renewal unless forced
    check_interval: 4s
    ca_file: $TMP/ca.pem
services:
  - name: secure
    host: $DOMAIN
    port: 443
    http_port: 8080
    tls: {enabled: true}
    locations:
      - path: /keep/
        backends: [{url: http://198.18.0.11:8080}]
      - path: /
        http_redirect: true
        backends: [{url: http://198.18.0.11:8080}]
  - name: unvalidated                # pebble cannot reach $FAIL: issuance fails
    host: $FAIL
    port: 443
    http_port: 8080
    tls: {enabled: true}
    locations:
      - path: /
        backends: [{url: http://198.18.0.11:8080}]
  - name: plain
    host: "*"
    port: 8080
    locations:
      - path: /
        backends: [{url: http://198.18.0.12:8080}]
  - name: alt
    host: alt.sluice.test
    port: 8443
    tls: {cert_file: $TMP/alt.pem, key_file: $TMP/alt.key}
    locations:
      - path: /
        http_redirect: true
        backends: [{url: http://198.18.0.11:8080}]
admin:
  listen: 127.0.0.1:1997
  auth:
    db_path: $TMP/users.db
    jwt_secret: acme-test-secret-$$
  rate_limit: {requests_per_second: 1000, burst: 1000}
EOF
if ! "$SL_BUILD/apps/sluice/sluice" --check --config "$cfg" >/dev/null 2>"$TMP/check.err"; then
	cat "$TMP/check.err" >&2
	tb_die "the test configuration does not load"
fi
pw='acme test passphrase'
echo "$pw" | "$ctl" --config "$cfg" user add ops >/dev/null || tb_die "sluicectl user add failed"

# The test domain resolves to sluice inside the namespace only.
[ -e "/etc/netns/$SL_NS" ] && tb_die "/etc/netns/$SL_NS exists; not touching it"
mkdir -p "/etc/netns/$SL_NS"
tb_on_exit "rm -rf '/etc/netns/$SL_NS'"
printf '127.0.0.1 localhost\n%s %s alt.sluice.test\n%s %s\n' "$VIP" "$DOMAIN" "$HOST_IP" "$FAIL" \
	>"/etc/netns/$SL_NS/hosts"

tb_on_exit "'$top/scripts/testbed.sh' down"
"$top/scripts/testbed.sh" up --config "$cfg" >"$TMP/up.log" 2>&1 ||
	{ cat "$TMP/up.log" >&2; tb_die "testbed did not come up"; }
log=$state/sluice.log
tb_wait_for "nsx curl -s -m 1 -o /dev/null $api/health" 15 ||
	{ tail -20 "$log" >&2; tb_die "no admin API"; }

# --- before any certificate: a placeholder, and the plain port's behaviour ----------------
cert=$TMP/certs/$DOMAIN/cert.pem
expect "placeholder_written_at_start" \
	"$(openssl x509 -in "$cert" -noout -subject 2>/dev/null | grep -c 'sluice placeholder')" 1
expect "placeholder_logged" "$(grep -c "$DOMAIN: no certificate yet; serving a self-signed placeholder" "$log")" 1
# served_serial: the serial of the certificate the workers serve for $DOMAIN (TLS on 443)
served_serial() {
	echo | nsx timeout 10 openssl s_client -connect "$VIP:443" -servername "$DOMAIN" 2>/dev/null |
		openssl x509 -noout -serial 2>/dev/null
}
expect "placeholder_served_over_tls" "$(served_serial)" \
	"$(openssl x509 -in "$cert" -noout -serial 2>/dev/null)"

# status LOCATION of one plain request (curl -i), CRs removed
redirect_of() { nsx curl -sS -m 10 -o /dev/null -w '%{http_code} %{redirect_url}' "$@"; }
expect "redirect_308_to_https_same_url" \
	"$(redirect_of -H "Host: $DOMAIN" "http://$VIP:8080/a/b?x=1&y=2")" \
	"308 https://$DOMAIN/a/b?x=1&y=2"
nsx curl -si -m 10 -H "Host: $DOMAIN" "http://$VIP:8080/shop?id=7" | tr -d '\r' >"$TMP/308"
expect "curl_i_shows_308_and_location" \
	"$(head -1 "$TMP/308" | cut -d' ' -f2) $(grep -i '^location:' "$TMP/308" | cut -d' ' -f2)" \
	"308 https://$DOMAIN/shop?id=7"
expect "redirect_keeps_post_a_post" \
	"$(redirect_of -X POST -d x=1 -H "Host: $DOMAIN" "http://$VIP:8080/form")" \
	"308 https://$DOMAIN/form"
expect "redirect_names_a_tls_port_other_than_443" \
	"$(redirect_of -H 'Host: alt.sluice.test' "http://$VIP/x?y=1")" \
	"308 https://alt.sluice.test:8443/x?y=1"
# locations without http_redirect, and other hosts, are routed as on any plain port
body=$(nsx curl -sS -m 10 -H "Host: $DOMAIN" "http://$VIP:8080/keep/z")
expect "location_without_redirect_routed_normally" \
	"$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["backend"])' "$body" 2>/dev/null)" \
	backend2
expect "other_host_on_plain_port_routed_normally" \
	"$(nsx curl -sS -m 10 -o /dev/null -w '%{http_code}' -H 'Host: other.example' "http://$VIP:8080/x")" 200
expect "no_service_on_port_80_for_other_hosts_404" \
	"$(nsx curl -sS -m 10 -o /dev/null -w '%{http_code}' -H 'Host: other.example' "http://$VIP/x")" 404
# challenges: answered by sluice before routing; unknown tokens are 404 on both plain ports
expect "unknown_challenge_token_404" \
	"$(nsx curl -sS -m 10 -o /dev/null -w '%{http_code}' -H "Host: $DOMAIN" "http://$VIP:8080/.well-known/acme-challenge/nope-123")" 404
expect "unknown_challenge_token_404_on_port_80" \
	"$(nsx curl -sS -m 10 -o /dev/null -w '%{http_code}' "http://$VIP/.well-known/acme-challenge/nope-123")" 404

# --- pebble, then issuance ---------------------------------------------------------------
ip netns exec "$SL_NS" env PEBBLE_VA_NOSLEEP=1 PEBBLE_VA_ALWAYS_VALID=0 PEBBLE_WFE_NONCEREJECT=0 \
	pebble -config "$TMP/pebble.json" </dev/null >"$TMP/pebble.log" 2>&1 &
pebble_pid=$!
tb_on_exit "tb_stop_pid $pebble_pid"
tb_wait_for "nsx curl -s -m 1 --cacert '$TMP/ca.pem' -o /dev/null https://$HOST_IP:14000/dir" 20 ||
	{ cat "$TMP/pebble.log" >&2; tb_die "pebble does not answer"; }

issuer_of() { openssl x509 -in "$cert" -noout -issuer 2>/dev/null; }
serial_of() { openssl x509 -in "$cert" -noout -serial 2>/dev/null; }
# issuance NAME TIMEOUT_S CMD: a check waiting (tb_wait_for) for issuance or its reload; when
# one fails, the last lines of sluice's and pebble's logs go to stderr, once (pebble's is gone
# after the test, and sluice's tail at the end is past the moment of the failure)
logs_shown=0
issuance() {
	if tb_wait_for "$3" "$2"; then
		tb_pass "$1"
		return
	fi
	tb_fail "$1" "not within $2 s: $3"
	[ "$logs_shown" -eq 0 ] || return 0
	logs_shown=1
	tb_log "$1 failed: sluice.log (last 30 lines):"
	tail -n 30 "$log" >&2 || true
	tb_log "$1 failed: pebble.log (last 30 lines):"
	tail -n 30 "$TMP/pebble.log" >&2 || true
}
issuance "certificate_issued_by_pebble_into_cert_dir" 120 "issuer_of | grep -q 'Pebble Intermediate CA'"
tb_log "issued: $(issuer_of); $(openssl x509 -in "$cert" -noout -subject -enddate | tr '\n' ' ')"
expect "issued_certificate_names_the_domain" \
	"$(openssl x509 -in "$cert" -noout -ext subjectAltName 2>/dev/null | grep -c "DNS:$DOMAIN")" 1
nsx curl -s -m 5 --cacert "$TMP/ca.pem" "https://$HOST_IP:15000/roots/0" >"$TMP/root.pem"
nsx curl -s -m 5 --cacert "$TMP/ca.pem" "https://$HOST_IP:15000/intermediates/0" >"$TMP/inter.pem"
expect "issued_chain_verifies_against_pebbles_root" \
	"$(openssl verify -CAfile "$TMP/root.pem" -untrusted "$TMP/inter.pem" "$cert" 2>&1 | tail -1)" \
	"$cert: OK"
expect "key_matches_certificate" \
	"$(openssl x509 -in "$cert" -noout -pubkey | openssl sha256)" \
	"$(openssl pkey -in "$TMP/certs/private/$DOMAIN/key.pem" -pubout | openssl sha256)"
tb_check "challenge_published_and_withdrawn" \
	tb_wait_for "grep -q 'http-01 challenge .* validated; withdrawn' '$log'" 10
token=$(grep -o 'http-01 challenge [A-Za-z0-9_-]* published' "$log" | head -1 | cut -d' ' -f3)
# A token may begin with '-': -e keeps grep from reading it as an option,
# and an empty token (nothing logged) must not match every line.
tb_check "pebble_validated_against_sluice" \
	sh -c '[ -n "$1" ] && grep -qF -e "$1" "$2"' _ "$token" "$TMP/pebble.log"
expect "withdrawn_token_is_404" \
	"$(nsx curl -sS -m 10 -o /dev/null -w '%{http_code}' "http://$VIP:8080/.well-known/acme-challenge/$token")" 404
issuance "certificate_loaded_by_reload" 20 \
	"grep -q '$DOMAIN: certificate loaded (configuration reloaded' '$log'"
expect "issued_certificate_served_over_tls" "$(served_serial)" "$(serial_of)"
expect "https_verifies_against_pebbles_root" \
	"$(nsx curl -sS -m 10 --cacert "$TMP/root.pem" --resolve "$DOMAIN:443:$VIP" -o /dev/null \
		-w '%{http_code} %{ssl_verify_result}' "https://$DOMAIN/x")" "200 0"

# the control plane's view: API and metrics
tok=$(nsx curl -sS -m 10 -d "{\"username\":\"ops\",\"password\":\"$pw\"}" "$api/api/auth/login" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
[ -n "$tok" ] || tb_die "cannot log in"
A=(-H "Authorization: Bearer $tok")
acme_json() { nsx curl -sS -m 10 "${A[@]}" "$api/api/tls/acme"; }
field() { acme_json | python3 -c "import json,sys; print(json.load(sys.stdin)['certificates'][0]['$1'])"; }
expect "api_shows_pebble_issuer" "$(field issuer | grep -c 'Pebble Intermediate CA')" 1
expect "api_not_placeholder" "$(field placeholder)" False
expect "api_issued_once" "$(field issued)" 1
metric() { # NAME [DOMAIN]
	nsx curl -sS -m 10 "$api/metrics" | grep "^$1{domain=\"${2:-$DOMAIN}\"}" | awk '{print $2}'
}
expect "metric_issued_total" "$(metric sluice_acme_issued_total)" 1
expect "metric_no_failure" "$(metric sluice_acme_failures_total)" 0
expect "metric_expiry_years_away" "$(metric sluice_acme_cert_expiry_seconds | awk '{print ($1 > 86400 * 365)}')" 1
expect "metric_last_success_recent" \
	"$(metric sluice_acme_last_success_timestamp_seconds | awk -v now="$(date +%s)" '{print ($1 > now - 300 && $1 <= now + 1)}')" 1

# a name the ACME server cannot validate: failures counted and retried, the placeholder stays
tb_check "unvalidated_name_fails_and_is_retried" \
	tb_wait_for "[ \$(grep -c '$FAIL: next attempt in' '$log') -ge 2 ]" 90
expect "failed_name_keeps_its_placeholder" \
	"$(openssl x509 -in "$TMP/certs/$FAIL/cert.pem" -noout -subject | grep -c 'sluice placeholder')" 1
expect "metric_failures_of_failed_name" "$(metric sluice_acme_failures_total "$FAIL" | awk '{print ($1 >= 2)}')" 1
expect "metric_placeholder_of_failed_name" "$(metric sluice_acme_placeholder "$FAIL")" 1
expect "api_names_the_failure" "$(acme_json | python3 -c "import json,sys; print([c for c in json.load(sys.stdin)['certificates'] if c['domain'] == '$FAIL'][0]['last_error'])" | grep -c 'issuance failed')" 1

# --- renewal: none while the certificate is fresh; forced by the API --------------------------
s1=$(serial_of)
sleep 10 # two and a half check intervals
expect "no_renewal_while_fresh" "$(serial_of)" "$s1"
expect "renew_api_accepts" \
	"$(nsx curl -sS -m 10 -o /dev/null -w '%{http_code}' -X POST "${A[@]}" "$api/api/tls/renew")" 202
issuance "renewal_replaces_the_certificate" 90 "[ \"\$(serial_of)\" != '$s1' ]"
issuance "renewed_by_pebble" 5 "issuer_of | grep -q 'Pebble Intermediate CA'"
issuance "renewal_reloaded" 20 \
	"[ \$(grep -c '$DOMAIN: certificate loaded (configuration reloaded' '$log') -ge 2 ]"
expect "metric_issued_total_after_renewal" "$(metric sluice_acme_issued_total)" 2
expect "renewed_certificate_served_over_tls" "$(served_serial)" "$(serial_of)"
expect "renewal_kept_the_key" \
	"$(openssl x509 -in "$cert" -noout -pubkey | openssl sha256)" \
	"$(openssl pkey -in "$TMP/certs/private/$DOMAIN/key.pem" -pubout | openssl sha256)"
expect "redirect_still_works_after_reloads" \
	"$(redirect_of -H "Host: $DOMAIN" "http://$VIP:8080/after")" "308 https://$DOMAIN/after"

if kill -0 "$(cat "$state/sluice.pid")" 2>/dev/null; then tb_pass "sluice_still_running"; else
	tb_fail "sluice_still_running"; fi
[ "$TB_FAILED" -eq 0 ] || { tb_log "sluice.log (last lines):"; tail -40 "$log" >&2; }

tb_summary
