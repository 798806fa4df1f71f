#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Topology: none (no namespace, no EAL started). The sluice binary's command
# line: --check on every configuration in configs/, bad configurations refused
# with file:line:col, one-line errors for bad options, and the refusal to
# start EAL without --no-pci or an explicit -a list.
#
# usage: test_cli.sh [BUILD_DIR]
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
sluice=$build/apps/sluice/sluice
# shellcheck source=tests/integration/lib.sh
. "$top/tests/integration/lib.sh"
tmp=$(mktemp -d)
tb_on_exit "rm -rf '$tmp'"

for f in "$top"/configs/*.yaml; do
	tb_check "--check accepts configs/$(basename "$f")" \
		bash -c "'$sluice' --check --config '$f' | python3 -c 'import json,sys; json.load(sys.stdin)'"
done
tb_check "--check without --config checks the built-in tap-demo config" \
	bash -c "'$sluice' --check | grep -q '\"198.18.0.2/24\"'"

# Bad configurations: exit 1, one line naming file:line:col and what was expected.
bad() { # name yaml line col needle
	printf '%s' "$2" >"$tmp/$1.yaml"
	local out rc
	out=$("$sluice" --check --config "$tmp/$1.yaml" 2>&1 >/dev/null)
	rc=$?
	if [ $rc -eq 1 ] && [ "$(wc -l <<<"$out")" -eq 1 ] &&
		grep -qF "$tmp/$1.yaml:$3:$4: " <<<"$out" && grep -qF "$5" <<<"$out"; then
		tb_pass "bad config ($1) refused: $out"
	else
		tb_fail "bad config ($1) refused with file:line:col" "rc=$rc out=$out"
	fi
}
bad unknown_key $'services:\n  - name: a\n    colour: red\n' 3 5 "unknown key 'colour'"
bad weight_zero $'port: 80\nbackends:\n  - url: http://198.18.0.11:8080\n    weight: 0\n' 4 13 "weight"
bad bad_url $'port: 80\nbackends:\n  - url: ftp://198.18.0.11\n' 3 10 "http"
bad bad_duration $'health_check:\n  interval: 5 parsecs\n' 2 13 "duration"
bad port_range $'port: 70000\nbackends:\n  - url: http://198.18.0.11:8080\n' 1 7 "65535"
bad dup_service $'services:\n  - name: a\n    locations: [{path: /, backends: [{url: "http://198.18.0.11"}]}]\n  - name: a\n    locations: [{path: /, backends: [{url: "http://198.18.0.12"}]}]\n' 4 11 "duplicate"
bad empty_backends $'services:\n  - name: a\n    locations:\n      - path: /\n        backends: []\n' 5 19 "backend"
out=$("$sluice" --check --config "$tmp/does-not-exist.yaml" 2>&1)
tb_check "an unreadable file is refused and named ($out)" \
	bash -c "! '$sluice' --check --config '$tmp/does-not-exist.yaml' 2>/dev/null && grep -q 'does-not-exist.yaml' <<<'$out'"

# Options.
one_line_error() { # name expected-rc args...
	local name=$1 want=$2 out rc
	shift 2
	out=$("$sluice" "$@" 2>&1)
	rc=$?
	if [ $rc -eq "$want" ] && [ "$(wc -l <<<"$out")" -eq 1 ]; then
		tb_pass "$name: $out"
	else
		tb_fail "$name" "rc=$rc (want $want) out=$out"
	fi
}
one_line_error "unknown option" 2 --frobnicate
one_line_error "--config without a value" 2 --check --config
one_line_error "stray argument" 2 --check extra
one_line_error "EAL without --no-pci or -a is refused" 1 -l 0-1 -- --config "$top/configs/tap-demo.yaml"
tb_check "--version prints the version" bash -c "'$sluice' --version | grep -q '^sluice [0-9]'"
tb_check "--help prints usage" bash -c "'$sluice' --help | grep -q 'usage: sluice'"
out=$("$sluice" --config "$top/configs/tap-demo.yaml" 2>&1)
tb_check "running without EAL arguments explains what is needed" \
	grep -q 'EAL arguments are required' <<<"$out"
tb_summary
