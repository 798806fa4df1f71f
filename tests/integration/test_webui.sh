#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The web UI at /ui/ in a headless Chromium (Debian's chromium), driven over the DevTools
# protocol by tests/tools/webui_driver.py (Debian's python3-websocket).
# Topology: namespace sl-it-ui-<pid> (scripts/testbed.sh): sluice at 198.18.0.2 with
# configs/tap-demo.yaml plus a users database (sluicectl user add), the demo backends, the
# admin API on 127.0.0.1:1997 inside the namespace; Chromium runs in the same namespace with
# a profile in the test's temp dir and DevTools on a port it picks. First the files with curl
# (the page, its script and style built into the binary, Chart.js from libjs-chart.js, the
# security headers, the redirects, 404s); then, while a bounded request loop runs, the driver
# logs in through the form, waits for the charts and the backend table, drains a backend with
# its button and sees the row change and GET /api/backends agree, sets its weight, enables it,
# logs out. The screenshot is kept (its path is printed); everything else goes away on every
# exit path, Chromium by its process group (started with setsid here).
#
# usage: test_webui.sh [BUILD_DIR]
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/integration/lib.sh
. "$top/tests/integration/lib.sh"
tb_init sl-it-ui "${1:-}"

tb_need_root
tb_need_cmd ip curl chromium setsid /usr/bin/python3 cmp
/usr/bin/python3 -c 'import websocket' 2>/dev/null ||
	tb_die "needs Debian's python3-websocket for /usr/bin/python3 (scripts/deps.sh test)"
chartjs=/usr/share/javascript/chart.js/chart.min.js
[ -f "$chartjs" ] || tb_die "no $chartjs: install libjs-chart.js (scripts/deps.sh test)"
api=http://127.0.0.1:1997
VIP=198.18.0.2
nsx() { ip netns exec "$SL_NS" "$@"; }

tmp=$(mktemp -d /tmp/sl-it-ui.XXXXXX)
shots=$(mktemp -d /tmp/sl-it-ui-shot.XXXXXX) # kept: the screenshot is the test's artefact
tb_on_exit "rm -rf '$tmp'"
pw='web ui test passphrase'
tb_demo_up "$tmp" ops "$pw"

# --- the files, with curl -------------------------------------------------------------------
# fetch PATH: status, content type and body in $tmp/f.{code,hdr,body}
fetch() {
	nsx curl -s -m 10 -D "$tmp/f.hdr" -o "$tmp/f.body" -w '%{http_code}' "$api$1" >"$tmp/f.code"
}
hdr() { grep -i "^$1:" "$tmp/f.hdr" | head -1 | cut -d: -f2- | tr -d '\r' | sed 's/^ //'; }

fetch /ui/
tb_check "GET /ui/ is 200 text/html without a token ($(cat "$tmp/f.code"))" \
	bash -c "[ \"\$(cat '$tmp/f.code')\" = 200 ] && grep -qi '^content-type: text/html' '$tmp/f.hdr'"
tb_check "/ui/ is the embedded page (login form, Chart.js and app.js from this origin)" \
	bash -c "grep -q 'id=\"login-form\"' '$tmp/f.body' && grep -q 'src=\"chart.min.js\"' '$tmp/f.body' && ! grep -Eqi '(src|href)=\"(https?:)?//' '$tmp/f.body'"
csp=$(hdr content-security-policy)
tb_check "/ui/ has a CSP allowing scripts from 'self' only ($csp)" \
	bash -c "[[ \"$csp\" == *\"script-src 'self';\"* && \"$csp\" == *\"frame-ancestors 'none'\"* ]]"
fetch /ui/app.js
tb_check "GET /ui/app.js is 200 JavaScript" \
	bash -c "[ \"\$(cat '$tmp/f.code')\" = 200 ] && grep -qi '^content-type: text/javascript' '$tmp/f.hdr' && grep -q 'api/auth/login' '$tmp/f.body'"
cmp -s "$tmp/f.body" "$top/controlplane/ui/app.js"
tb_check "app.js is byte for byte controlplane/ui/app.js" test $? = 0
fetch /ui/app.css
tb_check "GET /ui/app.css is 200 text/css" \
	bash -c "[ \"\$(cat '$tmp/f.code')\" = 200 ] && grep -qi '^content-type: text/css' '$tmp/f.hdr'"
fetch /ui/chart.min.js
tb_check "GET /ui/chart.min.js is 200, the file of libjs-chart.js" \
	bash -c "[ \"\$(cat '$tmp/f.code')\" = 200 ] && cmp -s '$tmp/f.body' '$chartjs'"
fetch /ui/nothing.js
tb_check "an unknown UI file is a JSON 404 ($(cat "$tmp/f.code"))" \
	bash -c "[ \"\$(cat '$tmp/f.code')\" = 404 ] && grep -q '\"error\"' '$tmp/f.body'"
fetch /
tb_check "GET / redirects to /ui/" bash -c "[ \"\$(cat '$tmp/f.code')\" = 302 ] && [ \"$(hdr location)\" = /ui/ ]"
fetch /ui
tb_check "GET /ui redirects to /ui/" bash -c "[ \"\$(cat '$tmp/f.code')\" = 302 ]"
code=$(nsx curl -s -m 5 -o /dev/null -w '%{http_code}' "$api/api/stats")
tb_check "the API behind the UI still needs a token ($code)" test "$code" = 401

# --- the page in Chromium --------------------------------------------------------------------
# Traffic for the charts: bounded (at most 90 s or 3,000 requests), stopped by its PID.
(
	end=$((SECONDS + 90))
	for ((i = 0; i < 3000 && SECONDS < end; i++)); do
		ip netns exec "$SL_NS" curl -s -m 5 -o /dev/null "http://$VIP/ui-test-$i"
		sleep 0.02
	done
) &
load=$!
tb_on_exit "kill $load 2>/dev/null; wait $load 2>/dev/null; true"

prof=$tmp/chromium
mkdir -p "$prof"
# setsid: Chromium and its helper processes share a process group of our own, stopped as one.
# Not through nsx: a function run in the background is a subshell, and $! would be its PID;
# ip netns exec and setsid (not a group leader here, so it does not fork) exec in place.
ip netns exec "$SL_NS" setsid chromium --headless --no-sandbox --disable-gpu --no-first-run \
	--no-default-browser-check --disable-extensions --disable-background-networking \
	--disable-sync --disable-component-update --mute-audio --user-data-dir="$prof" \
	--remote-debugging-port=0 --window-size=1280,1100 about:blank \
	</dev/null >"$tmp/chromium.log" 2>&1 &
chrome=$!
tb_on_exit "kill -TERM -- -$chrome 2>/dev/null; sleep 1; kill -KILL -- -$chrome 2>/dev/null; true"
sleep 0.5
[ "$(ps -o pgid= -p "$chrome" | tr -d ' ')" = "$chrome" ] ||
	tb_die "Chromium ($chrome) does not lead its own process group: cannot stop it as one"
tb_wait_for "test -s '$prof/DevToolsActivePort'" 60 ||
	{ tail -20 "$tmp/chromium.log" >&2; tb_die "Chromium did not open its DevTools port"; }

shot=$shots/webui.png
nsx /usr/bin/python3 "$top/tests/tools/webui_driver.py" --devtools-file "$prof/DevToolsActivePort" \
	--ui "$api/ui/" --user ops --password "$pw" --shot "$shot" --timeout 30 >"$tmp/driver.out" 2>&1
drv=$?
while IFS=$'\t' read -r kind name why; do
	case $kind in
	ok) tb_pass "$name" ;;
	FAIL) tb_fail "$name" "$why" ;;
	SKIP) printf 'skip - %s: %s\n' "$name" "$why" ;;
	*) tb_log "driver: $kind $name $why" ;;
	esac
done <"$tmp/driver.out"
tb_check "the driver ran to its end (status $drv)" test "$drv" = 0
if [ -s "$shot" ]; then
	tb_check "the screenshot is a PNG" bash -c "head -c 8 '$shot' | od -An -tx1 | grep -q '89 50 4e 47'"
	tb_log "screenshot: $shot"
else
	tb_fail "a screenshot was saved"
	rmdir "$shots" 2>/dev/null
fi
kill -TERM -- "-$chrome" 2>/dev/null
tb_wait_for "! pgrep -g $chrome" 10 || kill -KILL -- "-$chrome" 2>/dev/null
tb_wait_for "! pgrep -g $chrome" 5
tb_check "Chromium stopped: nothing left in its process group" bash -c "! pgrep -g $chrome >/dev/null"

tb_summary
