#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR
# Topology: none. Exercises dpdk-setup/ and scripts/sluice-run.sh without changing any NIC:
#  - nic.sh list on the real host, and nic.sh bind on the host's own up interface, which must
#    be refused (a --dry-run goes first, so a broken refusal fails the test before a real
#    attempt); the device's driver is compared before and after;
#  - bind/unbind flows only with --dry-run against a fake sysfs tree under a temporary folder;
#  - hugepages.sh reserve 64 / status / release with a private state folder (release restores
#    the previous page count; reserve never lowers it);
#  - host-check.sh's report (its exit status may be 1 here);
#  - sluice-run.sh checks and --dry-run.
# Cleanup (temporary folder, a hugepage reservation left by a failed step) runs on every exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

NIC=$REPO/dpdk-setup/nic.sh
HUGE=$REPO/dpdk-setup/hugepages.sh
CHECK=$REPO/dpdk-setup/host-check.sh
RUN=$REPO/scripts/sluice-run.sh

tb_need_root
tb_need_cmd ip awk readlink

TMP=$(mktemp -d /tmp/sl-dpdk-test.XXXXXX)
tb_on_exit "rm -rf '$TMP'"

# contains NAME FILE PATTERN (extended regex)
contains() {
	if grep -qE -- "$3" "$2"; then
		tb_pass "$1"
	else
		tb_fail "$1" "no line matching '$3' in: $(head -c 1500 "$2")"
	fi
}

# --- nic.sh list ---------------------------------------------------------------------------

HOST_IF=$(ip route show default 2>/dev/null |
	awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')
if [ -z "$HOST_IF" ]; then
	HOST_IF=$(ip -o link show up | awk -F': ' '$2 != "lo" { sub(/@.*/, "", $2); print $2; exit }')
fi
HOST_PCI=""
if [ -n "$HOST_IF" ] && [ -e "/sys/class/net/$HOST_IF/device" ]; then
	# shellcheck source=../../dpdk-setup/pci.sh
	HOST_PCI=$(. "$REPO/dpdk-setup/pci.sh" && pci_resolve "$HOST_IF" 2>/dev/null) || HOST_PCI=""
fi
tb_log "host interface: ${HOST_IF:-none}, PCI device: ${HOST_PCI:-none}"

if "$NIC" list >"$TMP/list.out" 2>"$TMP/list.err"; then
	tb_pass "nic_list_runs"
else
	tb_fail "nic_list_runs" "$(cat "$TMP/list.err")"
fi
contains "nic_list_has_header" "$TMP/list.out" '^PCI +VENDOR:DEV +DRIVER +INTERFACE +STATE'

if [ -n "$HOST_PCI" ]; then
	contains "nic_list_shows_host_interface_up_and_in_use" "$TMP/list.out" \
		"^$HOST_PCI .* $HOST_IF +up +IN USE"

	# --- nic.sh bind on the host's own interface is refused -------------------------------
	dev=/sys/bus/pci/devices/$HOST_PCI
	drv_before=$(readlink -f "$dev/driver" || true)
	ovr_before=$(cat "$dev/driver_override" 2>/dev/null || true)

	rc=0
	"$NIC" bind "$HOST_IF" --dry-run >"$TMP/dry.out" 2>"$TMP/dry.err" || rc=$?
	if [ "$rc" -eq 1 ] && grep -q REFUSED "$TMP/dry.err" && ! grep -q 'would write' "$TMP/dry.out"; then
		tb_pass "bind_dry_run_on_host_interface_refused"
		rc=0
		"$NIC" bind "$HOST_IF" >"$TMP/bind.out" 2>"$TMP/bind.err" || rc=$?
		expect_rc=$rc
		if [ "$expect_rc" -ne 0 ]; then
			tb_pass "bind_on_host_interface_exits_nonzero"
		else
			tb_fail "bind_on_host_interface_exits_nonzero" "exit 0: $(cat "$TMP/bind.out")"
		fi
		contains "bind_refusal_says_refused" "$TMP/bind.err" "REFUSED to bind $HOST_PCI"
		contains "bind_refusal_explains_interface_is_up" "$TMP/bind.err" "interface $HOST_IF is up"
		contains "bind_refusal_names_force" "$TMP/bind.err" '--force'
		contains "bind_refusal_says_nothing_changed" "$TMP/bind.err" 'Nothing was changed'
	else
		tb_fail "bind_dry_run_on_host_interface_refused" \
			"rc=$rc; not attempting a real bind: $(cat "$TMP/dry.out" "$TMP/dry.err")"
	fi

	rc=0
	"$NIC" bind "$HOST_PCI" --dry-run >/dev/null 2>"$TMP/dry2.err" || rc=$?
	if [ "$rc" -eq 1 ] && grep -q REFUSED "$TMP/dry2.err"; then
		tb_pass "bind_by_pci_address_refused_too"
	else
		tb_fail "bind_by_pci_address_refused_too" "rc=$rc"
	fi

	if [ "$(readlink -f "$dev/driver" || true)" = "$drv_before" ] &&
		[ "$(cat "$dev/driver_override" 2>/dev/null || true)" = "$ovr_before" ]; then
		tb_pass "host_device_driver_unchanged_after_refusals"
	else
		tb_fail "host_device_driver_unchanged_after_refusals" \
			"driver $(readlink -f "$dev/driver" || true) (was $drv_before)"
	fi
	if [ $(($(cat "/sys/class/net/$HOST_IF/flags") & 1)) -eq 1 ]; then
		tb_pass "host_interface_still_up"
	else
		tb_fail "host_interface_still_up"
	fi
	rc=0
	"$NIC" unbind "$HOST_PCI" --dry-run >"$TMP/unbind.out" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ] && grep -q 'already on its kernel driver' "$TMP/unbind.out" &&
		! grep -q 'would write' "$TMP/unbind.out"; then
		tb_pass "unbind_leaves_a_kernel_bound_device_alone"
	else
		tb_fail "unbind_leaves_a_kernel_bound_device_alone" "rc=$rc $(cat "$TMP/unbind.out")"
	fi
else
	tb_log "no PCI-backed host interface: skipping the host refusal checks"
fi

rc=0
"$NIC" bind 0000:ff:1f.7 >"$TMP/none.out" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
	tb_pass "bind_nonexistent_address_fails"
else
	tb_fail "bind_nonexistent_address_fails" "exit 0"
fi
contains "bind_nonexistent_address_says_so" "$TMP/none.out" 'no PCI device 0000:ff:1f.7'
rc=0
"$NIC" bind no-such-if0 >"$TMP/noif.out" 2>&1 || rc=$?
if [ "$rc" -ne 0 ] && grep -q 'neither a PCI address' "$TMP/noif.out"; then
	tb_pass "bind_unknown_interface_fails"
else
	tb_fail "bind_unknown_interface_fails" "rc=$rc $(cat "$TMP/noif.out")"
fi

# --- bind / unbind flows against a fake sysfs tree (dry run) -------------------------------

FAKE=$TMP/sys
fdev=$FAKE/bus/pci/devices/0000:aa:00.0
mkdir -p "$fdev/net/slfake0" "$FAKE/bus/pci/drivers/i40e" "$FAKE/bus/pci/drivers/vfio-pci" \
	"$FAKE/kernel/iommu_groups/7" "$FAKE/class/net/slfake0"
echo 0x020000 >"$fdev/class"
echo 0x8086 >"$fdev/vendor"
echo 0x1572 >"$fdev/device"
echo '(null)' >"$fdev/driver_override"
ln -s ../../drivers/i40e "$fdev/driver"
ln -s ../../../../kernel/iommu_groups/7 "$fdev/iommu_group"
echo 0x1002 >"$FAKE/class/net/slfake0/flags"
echo down >"$FAKE/class/net/slfake0/operstate"
fvf=$FAKE/bus/pci/devices/0000:bb:00.0
mkdir -p "$fvf"
echo 0x020000 >"$fvf/class"
echo 0x8086 >"$fvf/vendor"
echo 0x1572 >"$fvf/device"
ln -s ../../drivers/vfio-pci "$fvf/driver"

SLUICE_SYSFS=$FAKE "$NIC" list >"$TMP/flist.out" 2>&1 || true
contains "fake_list_shows_idle_device" "$TMP/flist.out" '^0000:aa:00.0 +8086:1572 +i40e +slfake0 +down +idle'
contains "fake_list_shows_vfio_device" "$TMP/flist.out" '^0000:bb:00.0 .* vfio-pci .*bound for userspace I/O'
rc=0
SLUICE_SYSFS=$FAKE SLUICE_STATE_DIR=$TMP/state "$NIC" bind 0000:aa:00.0 --dry-run \
	>"$TMP/fbind.out" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] && [ "$(grep -c 'would write' "$TMP/fbind.out")" -eq 3 ] &&
	grep -q "^would write 'vfio-pci' to $fdev/driver_override" "$TMP/fbind.out" &&
	grep -q "^would write '0000:aa:00.0' to $fdev/driver/unbind" "$TMP/fbind.out" &&
	grep -q "^would write '0000:aa:00.0' to $FAKE/bus/pci/drivers_probe" "$TMP/fbind.out"; then
	tb_pass "bind_idle_device_dry_run_steps"
else
	tb_fail "bind_idle_device_dry_run_steps" "rc=$rc $(cat "$TMP/fbind.out")"
fi
rc=0
SLUICE_SYSFS=$FAKE SLUICE_STATE_DIR=$TMP/state "$NIC" unbind 0000:bb:00.0 --dry-run \
	>"$TMP/funbind.out" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] && grep -q "^would write '' to $fvf/driver_override" "$TMP/funbind.out" &&
	grep -q "^would write '0000:bb:00.0' to $fvf/driver/unbind" "$TMP/funbind.out" &&
	grep -q "drivers_probe" "$TMP/funbind.out"; then
	tb_pass "unbind_vfio_device_dry_run_steps"
else
	tb_fail "unbind_vfio_device_dry_run_steps" "rc=$rc $(cat "$TMP/funbind.out")"
fi
rm -f "$fdev/iommu_group"
rc=0
SLUICE_SYSFS=$FAKE "$NIC" bind 0000:aa:00.0 --dry-run >"$TMP/fnoiommu.out" 2>&1 || rc=$?
if [ "$rc" -eq 1 ] && grep -q 'no IOMMU group' "$TMP/fnoiommu.out" &&
	! grep -q 'would write' "$TMP/fnoiommu.out"; then
	tb_pass "bind_without_iommu_group_refused_before_any_write"
else
	tb_fail "bind_without_iommu_group_refused_before_any_write" "rc=$rc $(cat "$TMP/fnoiommu.out")"
fi

# --- hugepages.sh --------------------------------------------------------------------------

export SLUICE_STATE_DIR=$TMP/state
nr_before=$(cat /proc/sys/vm/nr_hugepages)
mounts_before=$(awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts | sort | paste -sd ' ' -)
tb_on_exit "SLUICE_STATE_DIR='$TMP/state' '$HUGE' release"

rc=0
"$HUGE" reserve 64 >"$TMP/reserve.out" 2>&1 || rc=$?
"$HUGE" status >"$TMP/status.out" 2>&1 || true
nr_now=$(awk -F'[= ]' '/^nr_hugepages=/ { print $2 }' "$TMP/status.out")
if [ "$rc" -eq 0 ]; then
	if [ "${nr_now:-0}" -ge 64 ]; then
		tb_pass "hugepages_reserve_64_status_shows_at_least_64"
	else
		tb_fail "hugepages_reserve_64_status_shows_at_least_64" "status: $nr_now"
	fi
else
	tb_log "the kernel did not grant 64 hugepages ($(cat "$TMP/reserve.out")); not counted"
fi
contains "hugepages_status_shows_mount" "$TMP/status.out" '^hugetlbfs mounted at: /'
contains "hugepages_status_shows_record" "$TMP/status.out" "previous nr_hugepages=$nr_before"
"$HUGE" release >"$TMP/release.out" 2>&1 || true
expect_nr=$(cat /proc/sys/vm/nr_hugepages)
if [ "$expect_nr" = "$nr_before" ]; then
	tb_pass "hugepages_release_restores_previous_count"
else
	tb_fail "hugepages_release_restores_previous_count" "now $expect_nr, before $nr_before"
fi
mounts_after=$(awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts | sort | paste -sd ' ' -)
if [ "$mounts_after" = "$mounts_before" ]; then
	tb_pass "hugepages_release_restores_mounts"
else
	tb_fail "hugepages_release_restores_mounts" "now '$mounts_after', before '$mounts_before'"
fi
if [ -e "$TMP/state/hugepages.state" ]; then
	tb_fail "hugepages_release_forgets_state"
else
	tb_pass "hugepages_release_forgets_state"
fi
rc=0
"$HUGE" reserve lots >/dev/null 2>&1 || rc=$?
if [ "$rc" -ne 0 ] && [ "$(cat /proc/sys/vm/nr_hugepages)" = "$nr_before" ]; then
	tb_pass "hugepages_reserve_rejects_non_numbers"
else
	tb_fail "hugepages_reserve_rejects_non_numbers" "rc=$rc"
fi
unset SLUICE_STATE_DIR

# --- host-check.sh -------------------------------------------------------------------------

rc=0
"$CHECK" >"$TMP/check.out" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]; then
	tb_pass "host_check_exits_0_or_1"
else
	tb_fail "host_check_exits_0_or_1" "exit $rc"
fi
for what in 'CPU flag sse4_2' 'CPU flag avx2' 'pdpe1gb' 'IOMMU' 'hugepages reserved' \
	'hugetlbfs' 'NUMA' 'vfio-pci' 'DPDK'; do
	contains "host_check_reports_${what// /_}" "$TMP/check.out" "^(OK|MISSING|WARN) +.*$what"
done
if grep -E '^(MISSING|WARN) ' "$TMP/check.out" | grep -qv -- ' -- fix: '; then
	tb_fail "host_check_every_missing_line_has_a_fix"
else
	tb_pass "host_check_every_missing_line_has_a_fix"
fi
if { [ "$rc" -eq 1 ] && grep -q '^MISSING' "$TMP/check.out"; } ||
	{ [ "$rc" -eq 0 ] && ! grep -q '^MISSING' "$TMP/check.out"; }; then
	tb_pass "host_check_exit_status_matches_missing_lines"
else
	tb_fail "host_check_exit_status_matches_missing_lines" "exit $rc"
fi
rc2=0
"$CHECK" --quiet >"$TMP/quiet.out" 2>&1 || rc2=$?
if [ ! -s "$TMP/quiet.out" ] && [ "$rc2" -eq "$rc" ]; then
	tb_pass "host_check_quiet_prints_nothing_same_status"
else
	tb_fail "host_check_quiet_prints_nothing_same_status" "exit $rc2"
fi

# --- scripts/sluice-run.sh -----------------------------------------------------------------

printf 'dataplane: {}\n' >"$TMP/config.yaml"
rc=0
"$RUN" -a 0000:42:00.0 -l 0-1 -c "$TMP/config.yaml" --dry-run >"$TMP/run1.out" 2>&1 || rc=$?
if [ "$rc" -eq 1 ] && grep -q 'not bound to vfio-pci' "$TMP/run1.out"; then
	tb_pass "run_refuses_fake_address_as_not_bound"
else
	tb_fail "run_refuses_fake_address_as_not_bound" "rc=$rc $(cat "$TMP/run1.out")"
fi
if [ -n "$HOST_PCI" ]; then
	rc=0
	"$RUN" -a "$HOST_PCI" -l 0-1 -c "$TMP/config.yaml" --dry-run >"$TMP/run2.out" 2>&1 || rc=$?
	if [ "$rc" -eq 1 ] && grep -q "nic.sh bind $HOST_PCI" "$TMP/run2.out"; then
		tb_pass "run_refuses_kernel_bound_nic_and_names_the_bind_command"
	else
		tb_fail "run_refuses_kernel_bound_nic_and_names_the_bind_command" \
			"rc=$rc $(cat "$TMP/run2.out")"
	fi
fi
rc=0
SKIP_BIND_CHECK=1 SLUICE_BIN=/nonexistent/sluice "$RUN" -a 0000:42:00.0 -a 43:00.1 -l 0-1 \
	-c "$TMP/config.yaml" --dry-run -- --extra-flag >"$TMP/run3.out" 2>"$TMP/run3.err" || rc=$?
cmdline=$(cat "$TMP/run3.out")
if [ "$rc" -eq 0 ]; then
	tb_pass "run_dry_run_exits_0"
else
	tb_fail "run_dry_run_exits_0" "rc=$rc $(cat "$TMP/run3.err")"
fi
case " $cmdline " in
*" -a 0000:42:00.0 -a 0000:43:00.1 "*) tb_pass "run_dry_run_passes_each_device_with_-a" ;;
*) tb_fail "run_dry_run_passes_each_device_with_-a" "$cmdline" ;;
esac
case " $cmdline " in
*" --file-prefix sluice-"[0-9]*) tb_pass "run_dry_run_has_file_prefix" ;;
*) tb_fail "run_dry_run_has_file_prefix" "$cmdline" ;;
esac
case " $cmdline " in
" /nonexistent/sluice -l 0-1 "*" -- --config $TMP/config.yaml --extra-flag ") tb_pass "run_dry_run_app_args_after_--" ;;
*) tb_fail "run_dry_run_app_args_after_--" "$cmdline" ;;
esac
case " $cmdline " in
*--no-pci* | *" -b "* | *--vdev*) tb_fail "run_dry_run_only_allow_list" "$cmdline" ;;
*) tb_pass "run_dry_run_only_allow_list" ;;
esac
rc=0
"$RUN" -l 0-1 -c "$TMP/config.yaml" --dry-run >/dev/null 2>&1 || rc=$?
expect_usage=$rc
if [ "$expect_usage" -eq 2 ]; then
	tb_pass "run_without_devices_is_a_usage_error"
else
	tb_fail "run_without_devices_is_a_usage_error" "rc=$rc"
fi

tb_summary
