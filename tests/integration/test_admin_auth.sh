#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Topology: namespace sl-it-auth-<pid> holding sluice on a TAP (scripts/testbed.sh, no
# backends); the admin API on 127.0.0.1:1997 inside the namespace, reached with curl and
# sluicectl there. A temporary config (configs/tap-demo.yaml plus admin.auth and a small
# admin.rate_limit) points at a temporary users database made with sluicectl. Checks
# /health, bearer tokens (missing, wrong, expired, revoked), logins, the password change
# rules, both rate limits (429 + Retry-After), sluicectl login and its 0600 token file, a
# clean stop on SIGTERM, and a sluice without a users database refusing logins.
# Everything (namespace, processes, files) is removed on every exit path.
#
# usage: test_admin_auth.sh [BUILD_DIR]
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/integration/lib.sh
. "$top/tests/integration/lib.sh"
tb_init sl-it-auth "${1:-}"

tb_need_root
tb_need_cmd ip curl python3
ctl=$SL_BUILD/apps/sluicectl/sluicectl
[ -x "$ctl" ] || tb_die "no $ctl: build first"
api=http://127.0.0.1:1997
nsx() { ip netns exec "$SL_NS" "$@"; }

tmp=$(mktemp -d /tmp/sl-it-auth.XXXXXX)
tb_on_exit "rm -rf '$tmp'"
tb_on_exit "$top/scripts/testbed.sh down >/dev/null 2>&1"

# tap-demo.yaml ends with the admin section: add the auth and rate-limit settings to it.
cfg=$tmp/sluice.yaml
printf 'test-jwt-secret-%s\n' "$$" >"$tmp/jwt"
cp "$top/configs/tap-demo.yaml" "$cfg"
cat >>"$cfg" <<YAML
  auth:
    db_path: $tmp/users.db
    jwt_secret_file: $tmp/jwt
    token_ttl: 15s
    password_history_size: 2
    password_expiry_days: 7
  rate_limit:
    requests_per_second: 5
    burst: 40
YAML

# curl inside the namespace: prints "STATUS BODY" on one line; extra arguments go to curl.
req() { # METHOD PATH [curl args...]
	local m=$1 p=$2 out
	shift 2
	out=$(nsx curl -s -m 10 -X "$m" -w '\n%{http_code}' "$@" "$api$p")
	printf '%s %s\n' "${out##*$'\n'}" "$(tr -d '\n' <<<"${out%$'\n'*}")"
}
status_of() { printf '%s\n' "${1%% *}"; }
body_of() { printf '%s\n' "${1#* }"; }
json_field() { # JSON FIELD
	python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$1" "$2" 2>/dev/null
}
login() { # USER PASSWORD -> "STATUS BODY"
	req POST /api/auth/login -H 'Content-Type: application/json' \
		-d "{\"username\":\"$1\",\"password\":\"$2\"}"
}
has() { # RESPONSE STATUS TEXT: the status and a fixed string in the body
	[ "$(status_of "$1")" = "$2" ] && grep -qF -- "$3" <<<"$1"
}
is_json_error() { # RESPONSE STATUS ERROR
	[ "$(status_of "$1")" = "$2" ] && [ "$(json_field "$(body_of "$1")" error)" = "$3" ] &&
		[ -n "$(json_field "$(body_of "$1")" detail)" ]
}

pw1='correct horse battery'
pw2='tr0ub4dor and three'
pw3='a third fine passphrase'
pw4='yet another passphrase'

# Users made offline with sluicectl, from the same config file sluice reads.
tb_check "sluicectl user add alice" bash -c "echo '$pw1' | '$ctl' --config '$cfg' user add alice"
tb_check "sluicectl user add bob" bash -c "echo 'the builders long pass' | '$ctl' --config '$cfg' user add bob"
out=$(echo "$pw1" | "$ctl" --config "$cfg" user add alice 2>&1); rc=$?
tb_check "sluicectl user add of an existing user exits 1 and says so ($rc)" \
	bash -c "[ $rc = 1 ] && grep -q 'exists already' <<<'$out'"
out=$(echo short | "$ctl" --config "$cfg" user add carol 2>&1); rc=$?
tb_check "sluicectl refuses a weak password with exit 1 ($rc)" \
	bash -c "[ $rc = 1 ] && grep -q 'at least 12' <<<'$out'"
tb_check "sluicectl user list --json lists alice and bob" \
	bash -c "'$ctl' --json --config '$cfg' user list | python3 -c 'import json,sys; assert [u[\"name\"] for u in json.load(sys.stdin)] == [\"alice\", \"bob\"]'"
"$ctl" --db "$tmp/users.db" user nonsense >/dev/null 2>&1
tb_check "sluicectl usage error exits 2 ($?)" test $? = 2

"$top/scripts/testbed.sh" up --config "$cfg" --no-backends || tb_die "testbed did not come up"
pid=$(cat "$state/sluice.pid")
tb_wait_for "nsx curl -s -m 1 -o /dev/null $api/health" 10 || tb_die "no admin API"

r=$(req GET /health)
tb_check "GET /health is 200 without a token" test "$(status_of "$r")" = 200
tb_check "/health reports ok and 1 worker" \
	bash -c "[ '$(json_field "$(body_of "$r")" status)' = ok ] && [ '$(json_field "$(body_of "$r")" workers)' = 1 ]"

r=$(req GET /api/auth/whoami)
tb_check "an /api/ route without a token is 401 JSON ($r)" is_json_error "$r" 401 unauthorized
r=$(req GET /api/anything)
tb_check "an unknown /api/ route without a token is 401 too" is_json_error "$r" 401 unauthorized
r=$(req GET /api/auth/whoami -H 'Authorization: Bearer not.a.token')
tb_check "a malformed token is 401 invalid token" is_json_error "$r" 401 "invalid token"

r=$(login alice 'wrong password!')
tb_check "a wrong password is 401 ($r)" is_json_error "$r" 401 "invalid credentials"
r=$(login mallory 'whatever password')
tb_check "an unknown user is 401 the same way" is_json_error "$r" 401 "invalid credentials"
r=$(req POST /api/auth/login -d '{"username":"alice",')
tb_check "bad JSON is 400 with the position ($r)" has "$r" 400 "line 1, column"
r=$(req POST /api/auth/login -d '{"username":"alice","password":"x","otp":1}')
tb_check "an unknown field is 400 naming it" has "$r" 400 "unknown field 'otp'"
r=$(req POST /api/auth/login -d '{"username":"alice","password":7}')
tb_check "a bad value is 400 naming the field" has "$r" 400 "'password' must be"
r=$(req GET /api/auth/login)
tb_check "GET on the login route is 405" test "$(status_of "$r")" = 405

r=$(login alice "$pw1")
t_login=$(date +%s.%N) # the token's iat is at most this (expiry below counts from it)
tb_check "login with the right password is 200 ($(status_of "$r"))" test "$(status_of "$r")" = 200
tok=$(json_field "$(body_of "$r")" token)
tb_check "login returns a token and expires_at" \
	bash -c "[ -n '$tok' ] && [ -n '$(json_field "$(body_of "$r")" expires_at)' ]"
r=$(req GET /api/auth/whoami -H "Authorization: Bearer $tok")
tb_check "the token works ($r)" \
	bash -c "[ '$(status_of "$r")' = 200 ] && [ '$(json_field "$(body_of "$r")" user)' = alice ]"
r=$(req GET /api/anything -H "Authorization: Bearer $tok")
tb_check "with a token an unknown route is 404 JSON" is_json_error "$r" 404 "not found"
# A token signed with another key (the alg is right, the secret is not).
forged=$(python3 - "$tok" <<'PY'
import base64, hashlib, hmac, sys
h, p, _ = sys.argv[1].split(".")
sig = hmac.new(b"another-secret", f"{h}.{p}".encode(), hashlib.sha256).digest()
print(f"{h}.{p}." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode())
PY
)
r=$(req GET /api/auth/whoami -H "Authorization: Bearer $forged")
tb_check "a token signed with another secret is 401" is_json_error "$r" 401 "invalid token"
none=$(python3 - "$tok" <<'PY'
import base64, sys
_, p, _ = sys.argv[1].split(".")
h = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
print(f"{h}.{p}.")
PY
)
r=$(req GET /api/auth/whoami -H "Authorization: Bearer $none")
tb_check "an alg none token is 401" is_json_error "$r" 401 "invalid token"

# Expiry: token_ttl is 15 s, long enough for the checks above and the password changes
# below (argon2id) on a loaded machine; wait out what is left of it.
sleep "$(awk -v t="$t_login" -v now="$(date +%s.%N)" 'BEGIN { d = t + 15.2 - now; print (d > 0 ? d : 0) }')"
r=$(req GET /api/auth/whoami -H "Authorization: Bearer $tok")
tb_check "the token is refused once expired ($r)" is_json_error "$r" 401 "token expired"

# Password change through the API: revocation of older tokens, history 2, strength.
r=$(login alice "$pw1")
tok=$(json_field "$(body_of "$r")" token)
sleep 1.05 # the change falls in a later second than the token's iat (both are whole seconds)
r=$(req POST /api/auth/password -H "Authorization: Bearer $tok" \
	-d "{\"old_password\":\"$pw1\",\"new_password\":\"$pw2\"}")
tb_check "a good password change is 200 with a new token ($(status_of "$r"))" \
	test "$(status_of "$r")" = 200 -a -n "$(json_field "$(body_of "$r")" token)"
tok2=$(json_field "$(body_of "$r")" token)
r=$(req GET /api/auth/whoami -H "Authorization: Bearer $tok")
tb_check "the token from before the change is revoked ($r)" is_json_error "$r" 401 "token revoked"
r=$(req GET /api/auth/whoami -H "Authorization: Bearer $tok2")
tb_check "the new token works" test "$(status_of "$r")" = 200
# A fresh token for the refusals below (token_ttl is short).
r=$(login alice "$pw2")
auth=(-H "Authorization: Bearer $(json_field "$(body_of "$r")" token)")
r=$(req POST /api/auth/password "${auth[@]}" -d "{\"old_password\":\"$pw2\",\"new_password\":\"$pw1\"}")
tb_check "reusing the previous password is 400 password reused ($r)" is_json_error "$r" 400 "password reused"
r=$(req POST /api/auth/password "${auth[@]}" -d "{\"old_password\":\"$pw2\",\"new_password\":\"short\"}")
tb_check "a weak new password is 400 weak password" is_json_error "$r" 400 "weak password"
r=$(req POST /api/auth/password "${auth[@]}" -d "{\"old_password\":\"nope nope nope\",\"new_password\":\"$pw3\"}")
tb_check "a wrong old password is 403" is_json_error "$r" 403 "wrong password"
r=$(login alice "$pw1")
tb_check "the old password no longer logs in" test "$(status_of "$r")" = 401
out=$(echo "$pw1" | "$ctl" --config "$cfg" user passwd alice 2>&1); rc=$?
tb_check "sluicectl user passwd refuses a password in the history ($rc)" \
	bash -c "[ $rc = 1 ] && grep -q 'used recently' <<<'$out'"
tb_check "sluicectl user passwd sets a fresh one" \
	bash -c "echo '$pw3' | '$ctl' --config '$cfg' user passwd alice"

# Deleting a user revokes its tokens.
r=$(login bob 'the builders long pass')
btok=$(json_field "$(body_of "$r")" token)
tb_check "sluicectl user del bob" "$ctl" --config "$cfg" user del bob
r=$(req GET /api/auth/whoami -H "Authorization: Bearer $btok")
tb_check "a deleted user's token is refused" is_json_error "$r" 401 "token revoked"

# sluicectl login: the token file is written with mode 0600 and works.
tf=$tmp/cfgdir/sluice/token
out=$(echo "$pw3" | nsx env XDG_CONFIG_HOME="$tmp/cfgdir" "$ctl" login -u alice 2>&1); rc=$?
tb_check "sluicectl login succeeds ($rc: $out)" test "$rc" = 0
tb_check "the token file is mode 600" test "$(stat -c %a "$tf" 2>/dev/null)" = 600
tb_check "its folder is mode 700" test "$(stat -c %a "$tmp/cfgdir/sluice" 2>/dev/null)" = 700
r=$(req GET /api/auth/whoami -H "Authorization: Bearer $(cat "$tf" 2>/dev/null)")
tb_check "the stored token works" test "$(status_of "$r")" = 200
out=$(echo "$pw3" | nsx "$ctl" --json --token-file "$tmp/t2" login -u alice); rc=$?
tb_check "sluicectl --json login prints the token file and expiry" \
	bash -c "[ $rc = 0 ] && [ '$(json_field "$out" token_file)' = '$tmp/t2' ] && [ -n '$(json_field "$out" expires_at)' ]"
echo "$pw3" | nsx "$ctl" --url http://127.0.0.1:1 --token-file "$tmp/t3" login -u alice >/dev/null 2>&1
rc=$?
tb_check "sluicectl login to a closed port exits 3 ($rc)" test "$rc" = 3

# Password expiry (7 days): age alice's password by 8 days in the database.
python3 - "$tmp/users.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE users SET changed_at = changed_at - 8 * 86400 WHERE name = 'alice'")
db.commit()
PY
r=$(login alice "$pw3")
etok=$(json_field "$(body_of "$r")" token)
tb_check "a login with an expired password gets a password-change token ($r)" \
	test "$(status_of "$r")" = 200 -a "$(json_field "$(body_of "$r")" password_expired)" = True \
	-a "$(json_field "$(body_of "$r")" scope)" = password_change
r=$(req GET /api/anything -H "Authorization: Bearer $etok")
tb_check "that token is 403 password expired elsewhere ($r)" is_json_error "$r" 403 "password expired"
tb_check "sluicectl user list shows the password expired" \
	bash -c "'$ctl' --config '$cfg' user list | grep -q '^alice .* expired'"
r=$(req POST /api/auth/password -H "Authorization: Bearer $etok" \
	-d "{\"old_password\":\"$pw3\",\"new_password\":\"$pw4\"}")
tb_check "it can change the password, and gets a full token back ($(status_of "$r"))" \
	test "$(status_of "$r")" = 200 -a "$(json_field "$(body_of "$r")" scope)" = api
r=$(req GET /api/auth/whoami -H "Authorization: Bearer $(json_field "$(body_of "$r")" token)")
tb_check "the full token works" test "$(status_of "$r")" = 200

# Failed logins so far: 4 (the limiter allows 5 a minute); this is the fifth.
echo 'wrong password!' | nsx "$ctl" --token-file "$tmp/t3" login -u alice >/dev/null 2>&1
rc=$?
tb_check "sluicectl login with a wrong password exits 1 ($rc) and writes no file" \
	bash -c "[ $rc = 1 ] && [ ! -e '$tmp/t3' ]"

# Failed logins: 5 per client address, then 429 with Retry-After, even with the right password.
codes=""
for i in 1 2 3 4 5 6; do codes+="$(status_of "$(login alice 'wrong password!')") "; done
tb_check "repeated failed logins turn into 429 ($codes)" grep -q 429 <<<"$codes"
hdr=$(nsx curl -s -m 10 -D - -o /dev/null -X POST -d "{\"username\":\"alice\",\"password\":\"$pw4\"}" "$api/api/auth/login")
tb_check "then even the right password gets 429 with Retry-After" \
	bash -c "grep -q '^HTTP/1.1 429' <<<'$hdr' && grep -qi '^Retry-After: [0-9]' <<<'$hdr'"

# The admin rate limit: 5/s, burst 40, per client address; bounded: at most 120 requests.
n429=0
for i in $(seq 1 120); do
	c=$(nsx curl -s -m 5 -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' "$api/health")
	if [ "$c" = 429 ]; then
		n429=$((n429 + 1))
		cp "$tmp/h" "$tmp/h429"
		cp "$tmp/b" "$tmp/b429"
		[ "$n429" -ge 3 ] && break
	fi
done
tb_check "a burst of requests gets 429 from the admin rate limit ($n429 after $i requests)" test "$n429" -ge 1
tb_check "the 429 carries Retry-After" grep -qi '^Retry-After: [0-9]' "$tmp/h429"
tb_check "the 429 body is the JSON error" grep -q '"error":"too many requests"' "$tmp/b429"

# Clean stop with the admin server running.
kill -TERM "$pid"
tb_wait_for "! kill -0 $pid 2>/dev/null" 15
tb_check "sluice exits on SIGTERM" bash -c "! kill -0 $pid 2>/dev/null"
tb_wait_for "[ -s '$state/sluice.rc' ]" 5
tb_check "sluice exit status is 0 after SIGTERM ($(cat "$state/sluice.rc" 2>/dev/null))" \
	test "$(cat "$state/sluice.rc" 2>/dev/null)" = 0
"$top/scripts/testbed.sh" down >/dev/null 2>&1

# No users database (the built-in demo config): the API runs, logins are refused.
"$top/scripts/testbed.sh" up --no-backends || tb_die "testbed (default config) did not come up"
tb_wait_for "nsx curl -s -m 1 -o /dev/null $api/health" 10
r=$(login alice "$pw4")
tb_check "without admin.auth.db_path a login is 503 no user database ($r)" \
	is_json_error "$r" 503 "no user database"
tb_check "sluice says so in its log" grep -q 'db_path is not set' "$state/sluice.log"
"$top/scripts/testbed.sh" down >/dev/null 2>&1

tb_summary
