#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR
#
# Get the host ready for one start of sluice, from the environment that sluice.service gives
# it (its ExecStartPre, settings in /etc/sluice/sluice.env); by hand the same way:
#
#   SLUICE_EAL         sluice's EAL arguments: must hold --no-pci or at least one -a/--allow
#                      device (sluice refuses anything else; said here first, before any change)
#   SLUICE_HUGEPAGES   N: hugepages.sh reserve N (never lowers the count); 0 or empty: nothing
#   SLUICE_BIND        yes: nic.sh bind each -a device (refused while its interface is up, has
#                      an address or carries a route); no (default): check each is on vfio-pci
#   SLUICE_HOST_CHECK  nic (default): host-check.sh; tap: host-check.sh --tap; off
#
# In that order; the first step that fails stops it with the reason on stderr.
# Exit status: 0 ready, 1 refused or failed, 2 a bad setting.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=pci.sh
. "$HERE/pci.sh"

die() {
	echo "prepare.sh: $*" >&2
	exit 1
}

bad_setting() {
	echo "prepare.sh: $*" >&2
	exit 2
}

hugepages=${SLUICE_HUGEPAGES:-0}
bind=${SLUICE_BIND:-no}
check=${SLUICE_HOST_CHECK:-nic}
[[ $hugepages =~ ^[0-9]+$ ]] || bad_setting "SLUICE_HUGEPAGES is a page count, not '$hugepages'"
case $bind in yes | no) ;; *) bad_setting "SLUICE_BIND is yes or no, not '$bind'" ;; esac
case $check in
nic | tap | off) ;;
*) bad_setting "SLUICE_HOST_CHECK is nic, tap or off, not '$check'" ;;
esac

# The -a devices of SLUICE_EAL (split on blanks, as systemd splits $SLUICE_EAL), without their
# device arguments (-a 0000:03:00.0,rxq_pkt_len=... names 0000:03:00.0).
read -ra eal <<<"${SLUICE_EAL:-}"
devices=()
no_pci=0
for ((i = 0; i < ${#eal[@]}; i++)); do
	dev=""
	case ${eal[i]} in
	--no-pci) no_pci=1 ;;
	-a | --allow) dev=${eal[i + 1]:-} && i=$((i + 1)) ;;
	--allow=*) dev=${eal[i]#--allow=} ;;
	-a?*) dev=${eal[i]#-a} ;;
	esac
	[ -z "$dev" ] && continue
	dev=${dev%%,*}
	addr=$(pci_normalize "$dev") || die "-a $dev in SLUICE_EAL is not a PCI address (0000:03:00.0)"
	devices+=("$addr")
done
if [ "$no_pci" -eq 0 ] && [ ${#devices[@]} -eq 0 ]; then
	die "SLUICE_EAL has neither --no-pci nor an -a device (set it in /etc/sluice/sluice.env):" \
		"EAL would probe every PCI device of this host"
fi

if [ "$hugepages" -gt 0 ]; then
	"$HERE/hugepages.sh" reserve "$hugepages" || die "cannot reserve $hugepages hugepages"
fi

for addr in "${devices[@]}"; do
	if [ "$bind" = yes ]; then
		"$HERE/nic.sh" bind "$addr" || die "$addr not bound to vfio-pci (see above); sluice not started"
		continue
	fi
	pci_exists "$addr" || die "$addr (-a in SLUICE_EAL): no such PCI device on this host" \
		"(see: $HERE/nic.sh list)"
	drv=$(pci_driver "$addr")
	[ "$drv" = vfio-pci ] || die "$addr is not bound to vfio-pci (driver: ${drv:-none}):" \
		"$HERE/nic.sh bind $addr, or SLUICE_BIND=yes"
	echo "$addr is bound to vfio-pci"
done

case $check in
nic) "$HERE/host-check.sh" || die "the host check failed (MISSING lines above)" ;;
tap) "$HERE/host-check.sh" --tap || die "the host check failed (MISSING lines above)" ;;
esac
echo "prepare.sh: ready"
