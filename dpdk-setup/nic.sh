#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR
#
# List PCI network devices, and move one between its kernel driver and vfio-pci for DPDK.
#
#   nic.sh list
#   nic.sh bind   ADDR|IFACE [--force] [--dry-run]
#   nic.sh unbind ADDR|IFACE [--dry-run]
#
# bind refuses a device whose kernel interface is up, has an address or carries a route: that
# is how a machine loses its own network. --force overrides; --dry-run prints the sysfs writes
# instead of making them. Exit status: 0 done, 1 refused or failed, 2 usage error.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=pci.sh
. "$HERE/pci.sh"

STATE_DIR=${SLUICE_STATE_DIR:-/run/sluice}/nic
# Drivers a device is handed to for userspace I/O; anything else is a kernel network driver.
USERSPACE_DRIVERS="vfio-pci uio_pci_generic igb_uio"
DRY_RUN=0

usage() {
	cat <<'EOF'
Usage: nic.sh list
       nic.sh bind ADDR|IFACE [--force] [--dry-run]
       nic.sh unbind ADDR|IFACE [--dry-run]

  list    PCI network devices: address, vendor:device, driver, kernel interface, whether the
          kernel uses it (up, addresses, routes).
  bind    hand the device to vfio-pci (driver_override, unbind, drivers_probe). Refused while
          its interface is up or carries an address or route, unless --force.
  unbind  give a device bound to vfio-pci (or another userspace driver) back to its kernel
          driver (clears driver_override, drivers_probe).

ADDR is a PCI address (0000:03:00.0 or 03:00.0); IFACE is a kernel interface name.
--dry-run prints the sysfs writes instead of making them.
EOF
}

die() {
	echo "nic.sh: $*" >&2
	exit 1
}

# sysfs_write FILE VALUE
sysfs_write() {
	if [ "$DRY_RUN" -eq 1 ]; then
		echo "would write '$2' to $1"
		return 0
	fi
	printf '%s\n' "$2" >"$1"
}

is_userspace_driver() {
	[[ " $USERSPACE_DRIVERS " == *" $1 "* ]]
}

cmd_list() {
	local dev addr drv ifcs ifc state use found=0
	printf '%-13s %-10s %-16s %-12s %-6s %s\n' PCI VENDOR:DEV DRIVER INTERFACE STATE "KERNEL USE"
	for dev in "$PCI_DEVICES"/*; do
		[ -e "$dev/class" ] || continue
		addr=$(basename "$dev")
		pci_is_network "$addr" || continue
		found=1
		drv=$(pci_driver "$addr")
		ifcs=$(pci_ifaces "$addr")
		if [ -z "$ifcs" ]; then
			use="none"
			is_userspace_driver "${drv:-none}" && use="bound for userspace I/O"
			printf '%-13s %-10s %-16s %-12s %-6s %s\n' "$addr" "$(pci_vendor_device "$addr")" \
				"${drv:-none}" - - "$use"
			continue
		fi
		for ifc in $ifcs; do
			state=$(cat "$NET_CLASS/$ifc/operstate" 2>/dev/null || echo unknown)
			use=$(iface_summary "$ifc")
			printf '%-13s %-10s %-16s %-12s %-6s %s\n' "$addr" "$(pci_vendor_device "$addr")" \
				"${drv:-none}" "$ifc" "$state" "$use"
		done
	done
	[ "$found" -eq 1 ] || echo "(no PCI network devices)"
}

# vfio_ready ADDR: vfio-pci is registered and can take the device (IOMMU group or noiommu).
vfio_ready() {
	local addr=$1 noiommu
	if [ ! -d "$PCI_DRIVERS/vfio-pci" ]; then
		if [ "$DRY_RUN" -eq 1 ]; then
			echo "would run: modprobe vfio-pci"
		elif ! command -v modprobe >/dev/null 2>&1; then
			die "vfio-pci is not loaded and modprobe is missing (apt-get install kmod)"
		elif ! modprobe vfio-pci; then
			die "modprobe vfio-pci failed: the kernel has no vfio-pci module"
		fi
		if [ "$DRY_RUN" -eq 0 ] && [ ! -d "$PCI_DRIVERS/vfio-pci" ]; then
			die "vfio-pci did not register with the PCI bus after modprobe"
		fi
	fi
	if [ ! -e "$PCI_DEVICES/$addr/iommu_group" ]; then
		noiommu=$(cat "$SLUICE_SYSFS/module/vfio/parameters/enable_unsafe_noiommu_mode" \
			2>/dev/null || echo N)
		if [ "$noiommu" != Y ]; then
			die "$addr has no IOMMU group, so vfio-pci cannot take it. Enable the IOMMU" \
				"(kernel command line: intel_iommu=on iommu=pt, or amd_iommu=on) and reboot," \
				"or, without an IOMMU and at your own risk:" \
				"echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode"
		fi
	fi
}

cmd_bind() {
	local arg=$1 force=$2 addr dev drv ifc ifcs reasons="" r after
	addr=$(pci_resolve "$arg") || exit 1
	dev=$PCI_DEVICES/$addr
	pci_exists "$addr" || die "no PCI device $addr (see: nic.sh list)"
	pci_is_network "$addr" ||
		die "$addr is not a network controller (class $(cat "$dev/class")); not binding it"
	drv=$(pci_driver "$addr")
	if [ "$drv" = vfio-pci ]; then
		echo "$addr is already bound to vfio-pci"
		return 0
	fi

	# Every check that can refuse comes before the first write.
	ifcs=$(pci_ifaces "$addr")
	for ifc in $ifcs; do
		if r=$(iface_usage "$ifc"); then
			reasons+="$r"$'\n'
		fi
	done
	if [ -n "$reasons" ]; then
		if [ "$force" -eq 0 ]; then
			{
				echo "nic.sh: REFUSED to bind $addr to vfio-pci: the kernel is using it."
				printf '%s' "$reasons" | sed 's/^/  - /'
				echo "  Taking it from the kernel would cut this machine off that network."
				echo "  Nothing was changed; $addr stays on driver ${drv:-none}."
				echo "  If you really mean it (e.g. from a console): nic.sh bind $addr --force"
			} >&2
			exit 1
		fi
		echo "nic.sh: --force: binding $addr although the kernel is using it:" >&2
		printf '%s' "$reasons" | sed 's/^/  - /' >&2
	fi
	vfio_ready "$addr"

	if [ -n "$drv" ] && [ "$DRY_RUN" -eq 0 ]; then
		mkdir -p "$STATE_DIR"
		printf '%s\n' "$drv" >"$STATE_DIR/$addr.driver"
	fi
	sysfs_write "$dev/driver_override" vfio-pci
	if [ -n "$drv" ]; then
		sysfs_write "$dev/driver/unbind" "$addr"
	fi
	sysfs_write "$SLUICE_SYSFS/bus/pci/drivers_probe" "$addr"
	[ "$DRY_RUN" -eq 0 ] || return 0

	after=$(pci_driver "$addr")
	if [ "$after" != vfio-pci ]; then
		# Undo: let the kernel driver have it back.
		sysfs_write "$dev/driver_override" "" || true
		sysfs_write "$SLUICE_SYSFS/bus/pci/drivers_probe" "$addr" || true
		die "$addr did not bind to vfio-pci (driver now: $(pci_driver "$addr" || true));" \
			"see dmesg"
	fi
	echo "$addr bound to vfio-pci (was ${drv:-none})"
	if [ -e "$dev/iommu_group" ]; then
		echo "vfio group: /dev/vfio/$(basename "$(readlink -f "$dev/iommu_group")")"
	fi
}

cmd_unbind() {
	local arg=$1 addr dev drv orig="" after
	addr=$(pci_resolve "$arg") || exit 1
	dev=$PCI_DEVICES/$addr
	pci_exists "$addr" || die "no PCI device $addr (see: nic.sh list)"
	drv=$(pci_driver "$addr")
	if [ -n "$drv" ] && ! is_userspace_driver "$drv"; then
		echo "$addr is already on its kernel driver ($drv); nothing to do"
		return 0
	fi
	if [ -r "$STATE_DIR/$addr.driver" ]; then
		orig=$(cat "$STATE_DIR/$addr.driver")
	fi
	if [ -n "$drv" ]; then
		sysfs_write "$dev/driver/unbind" "$addr"
	fi
	sysfs_write "$dev/driver_override" ""
	sysfs_write "$SLUICE_SYSFS/bus/pci/drivers_probe" "$addr"
	if [ -n "$orig" ] && [ "$DRY_RUN" -eq 0 ] && [ -z "$(pci_driver "$addr")" ] &&
		[ -d "$PCI_DRIVERS/$orig" ]; then
		sysfs_write "$PCI_DRIVERS/$orig/bind" "$addr" || true
	fi
	[ "$DRY_RUN" -eq 0 ] || return 0
	rm -f "$STATE_DIR/$addr.driver"
	after=$(pci_driver "$addr")
	if [ -z "$after" ]; then
		die "$addr has no driver now; no kernel driver claimed it (module not loaded?)"
	fi
	echo "$addr returned to kernel driver $after (was ${drv:-none})"
	local ifc
	for ifc in $(pci_ifaces "$addr"); do
		echo "interface: $ifc (down until you bring it up)"
	done
}

main() {
	local cmd=${1:-} target="" force=0 a
	[ $# -gt 0 ] && shift
	for a in "$@"; do
		case $a in
		--force) force=1 ;;
		--dry-run) DRY_RUN=1 ;;
		-h | --help)
			usage
			exit 0
			;;
		-*)
			echo "nic.sh: unknown option $a" >&2
			usage >&2
			exit 2
			;;
		*)
			if [ -n "$target" ]; then
				echo "nic.sh: one device at a time (got '$target' and '$a')" >&2
				exit 2
			fi
			target=$a
			;;
		esac
	done
	case $cmd in
	list) cmd_list ;;
	bind | unbind)
		if [ -z "$target" ]; then
			echo "nic.sh: $cmd needs a PCI address or interface name" >&2
			usage >&2
			exit 2
		fi
		if [ "$(id -u)" -ne 0 ] && [ "$DRY_RUN" -eq 0 ]; then
			die "$cmd needs root"
		fi
		if [ "$cmd" = bind ]; then
			cmd_bind "$target" "$force"
		else
			cmd_unbind "$target"
		fi
		;;
	-h | --help | help)
		usage
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
}

main "$@"
