#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# monitoring/alerts.yml without a running sluice (a few seconds, no namespace, no root):
# promtool checks the rule file and prometheus.yml (which loads it, from monitoring/ and from
# another directory, as in the installed datadir), runs the rule unit tests
# (monitoring/alerts_test.yml), and checks that every alert of the file is seen firing there
# and has for:, a severity (page or ticket), a summary and a description. The tests are shown
# to be able to fail: with a threshold changed in a copy of the rules, they must fail.
# test_monitoring.sh loads the same rules into a Prometheus scraping a testbed sluice, and
# checks there that every metric they read is one sluice exports.
#
# usage: test_alerts.sh [BUILD_DIR]   (BUILD_DIR unused: nothing is built or run)
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/integration/lib.sh
. "$top/tests/integration/lib.sh"

tb_need_cmd promtool python3
/usr/bin/python3 -c 'import yaml' 2>/dev/null || tb_die "python3-yaml is missing (scripts/deps.sh test)"
mon=$top/monitoring
tmp=$(mktemp -d /tmp/sl-it-alerts.XXXXXX)
tb_on_exit "rm -rf '$tmp'"

tb_check "promtool check rules monitoring/alerts.yml" \
	bash -c "promtool check rules '$mon/alerts.yml' >'$tmp/rules.out' 2>&1 || { cat '$tmp/rules.out' >&2; false; }"
tb_check "promtool check config monitoring/prometheus.yml (loads alerts.yml)" \
	bash -c "promtool check config '$mon/prometheus.yml' >'$tmp/config.out' 2>&1 && grep -q 'SUCCESS: 1 rule files found' '$tmp/config.out' || { cat '$tmp/config.out' >&2; false; }"
# The rule file's path is relative to prometheus.yml, wherever both are copied together
# (meson install's datadir, compose's /etc/prometheus), whatever the working directory.
mkdir -p "$tmp/datadir"
cp "$mon/prometheus.yml" "$mon/alerts.yml" "$tmp/datadir/"
tb_check "prometheus.yml finds alerts.yml beside it from another directory" \
	bash -c "cd / && promtool check config '$tmp/datadir/prometheus.yml' >'$tmp/config2.out' 2>&1 || { cat '$tmp/config2.out' >&2; false; }"

tb_check "promtool test rules monitoring/alerts_test.yml" \
	bash -c "cd '$mon' && promtool test rules alerts_test.yml >'$tmp/test.out' 2>&1 || { cat '$tmp/test.out' >&2; false; }"

# Every alert is tested, every rule has for:, severity page or ticket, summary and description;
tb_check "every alert has a unit test, for:, a severity and annotations" /usr/bin/python3 - "$mon/alerts.yml" "$mon/alerts_test.yml" <<'PY'
import sys, yaml
rules = [r for g in yaml.safe_load(open(sys.argv[1]))["groups"] for r in g["rules"]]
tests = yaml.safe_load(open(sys.argv[2]))["tests"]
tested = {a["alertname"] for t in tests for a in t["alert_rule_test"] if a.get("exp_alerts")}
bad = []
for r in rules:
    n = r["alert"]
    if n not in tested: bad.append(n + ": never seen firing in alerts_test.yml")
    if not r.get("for"): bad.append(n + ": no for:")
    if r.get("labels", {}).get("severity") not in ("page", "ticket"): bad.append(n + ": severity")
    a = r.get("annotations", {})
    if not a.get("summary") or not a.get("description"): bad.append(n + ": annotations")
assert len(rules) >= 15, len(rules)
assert not bad, bad
print(len(rules), "rules,", len(tested), "alert names tested")
PY
# The tests can fail: a threshold changed in a copy of the rules breaks them.
mkdir -p "$tmp/mut"
cp "$mon/alerts_test.yml" "$tmp/mut/"
sed 's/^\(\s*\)) > 0.05$/\1) > 0.5/' "$mon/alerts.yml" >"$tmp/mut/alerts.yml"
tb_check "the mutated copy differs (5xx threshold 0.05 -> 0.5)" bash -c "! cmp -s '$mon/alerts.yml' '$tmp/mut/alerts.yml'"
tb_check "the unit tests fail on the mutated rules" \
	bash -c "cd '$tmp/mut' && ! promtool test rules alerts_test.yml >'$tmp/mut.out' 2>&1 && grep -q 'SluiceHigh5xxRatio' '$tmp/mut.out'"
sed -E 's/^(\s*sluice_backend_up) == 0$/\1 == 2/' "$mon/alerts.yml" >"$tmp/mut/alerts.yml"
tb_check "the unit tests fail when SluiceBackendDown never fires" \
	bash -c "! cmp -s '$mon/alerts.yml' '$tmp/mut/alerts.yml' && cd '$tmp/mut' && ! promtool test rules alerts_test.yml >'$tmp/mut2.out' 2>&1 && grep -q 'SluiceBackendDown' '$tmp/mut2.out'"

tb_summary
