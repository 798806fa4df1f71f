# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# PCI and network-interface lookups shared by nic.sh and scripts/sluice-run.sh (sourced).
# Everything reads sysfs under $SLUICE_SYSFS (default /sys) so that the logic can be exercised
# against a fake tree; nothing here writes anything.

SLUICE_SYSFS=${SLUICE_SYSFS:-/sys}
PCI_DEVICES=$SLUICE_SYSFS/bus/pci/devices
# shellcheck disable=SC2034 # used by the scripts that source this file
PCI_DRIVERS=$SLUICE_SYSFS/bus/pci/drivers
NET_CLASS=$SLUICE_SYSFS/class/net

# pci_normalize ADDR: prints DDDD:BB:DD.F in lower case ("03:00.0" gains the 0000 domain).
pci_normalize() {
	local a=${1,,}
	if [[ $a =~ ^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]]; then
		a=0000:$a
	fi
	[[ $a =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]] || return 1
	printf '%s\n' "$a"
}

# pci_resolve NAME: a PCI address or the name of a network interface on a PCI device.
# Prints the PCI address; returns 1 (with a message on stderr) when it cannot.
pci_resolve() {
	local arg=$1 path addr
	if addr=$(pci_normalize "$arg"); then
		printf '%s\n' "$addr"
		return 0
	fi
	if [[ $arg =~ ^[A-Za-z0-9_.:@-]{1,15}$ ]] && [ -e "$NET_CLASS/$arg" ]; then
		if [ ! -e "$NET_CLASS/$arg/device" ]; then
			echo "interface $arg is not backed by a device (virtual interface)" >&2
			return 1
		fi
		# The device link may point below the PCI function (virtio: .../0000:00:03.0/virtio2).
		path=$(readlink -f "$NET_CLASS/$arg/device")
		while [ -n "$path" ] && [ "$path" != / ]; do
			addr=$(basename "$path")
			if pci_normalize "$addr" >/dev/null && [ -e "$PCI_DEVICES/$addr" ]; then
				printf '%s\n' "$addr"
				return 0
			fi
			path=$(dirname "$path")
		done
		echo "interface $arg is not on a PCI device" >&2
		return 1
	fi
	echo "'$arg' is neither a PCI address (0000:03:00.0) nor a network interface name" >&2
	return 1
}

pci_exists() {
	[ -e "$PCI_DEVICES/$1/class" ]
}

# pci_driver ADDR: the bound driver's name, or nothing.
pci_driver() {
	if [ -e "$PCI_DEVICES/$1/driver" ]; then
		basename "$(readlink -f "$PCI_DEVICES/$1/driver")"
	fi
}

pci_is_network() {
	local class
	class=$(cat "$PCI_DEVICES/$1/class" 2>/dev/null) || return 1
	[[ $class == 0x02* ]]
}

# pci_vendor_device ADDR: "8086:1572".
pci_vendor_device() {
	local v d
	v=$(cat "$PCI_DEVICES/$1/vendor" 2>/dev/null || echo 0x????)
	d=$(cat "$PCI_DEVICES/$1/device" 2>/dev/null || echo 0x????)
	printf '%s:%s\n' "${v#0x}" "${d#0x}"
}

# pci_ifaces ADDR: kernel network interfaces of the device, one per line (possibly none).
pci_ifaces() {
	local dev=$PCI_DEVICES/$1 n
	for n in "$dev"/net/* "$dev"/*/net/*; do
		[ -e "$n" ] && basename "$n"
	done
	return 0
}

# iface_facts IFACE: sets IF_UP (0/1), IF_ADDRS (non-link-local addresses, space separated),
# IF_ROUTES (main-table routes through it, "; " separated) and IF_DEFAULT (0/1).
iface_facts() {
	local ifc=$1 flags
	flags=$(cat "$NET_CLASS/$ifc/flags" 2>/dev/null || echo 0)
	IF_UP=$(((flags & 1) == 1 ? 1 : 0))
	IF_ADDRS=$(ip -o addr show dev "$ifc" 2>/dev/null |
		awk '($3 == "inet" || $3 == "inet6") && $0 !~ / scope link / { printf "%s%s", sep, $4; sep = " " }')
	IF_ROUTES=$({
		ip -4 route show dev "$ifc" 2>/dev/null
		ip -6 route show dev "$ifc" 2>/dev/null | grep -v -E '^(fe80::/64|multicast|ff00::/8)' || true
	} | awk '{ sub(/ +$/, ""); printf "%s%s", sep, $0; sep = "; " }')
	IF_DEFAULT=0
	case "; $IF_ROUTES" in
	*"; default"*) IF_DEFAULT=1 ;;
	esac
}

# iface_usage IFACE: prints why the kernel is using the interface ("up", its addresses, its
# routes), one reason per line; returns 0 when it is in use, 1 when it is idle.
iface_usage() {
	local ifc=$1 in_use=1
	iface_facts "$ifc"
	if [ "$IF_UP" -eq 1 ]; then
		echo "interface $ifc is up"
		in_use=0
	fi
	if [ -n "$IF_ADDRS" ]; then
		echo "interface $ifc has addresses: $IF_ADDRS"
		in_use=0
	fi
	if [ -n "$IF_ROUTES" ]; then
		if [ "$IF_DEFAULT" -eq 1 ]; then
			echo "interface $ifc carries the default route: $IF_ROUTES"
		else
			echo "interface $ifc carries routes: $IF_ROUTES"
		fi
		in_use=0
	fi
	return "$in_use"
}

# iface_summary IFACE: one short phrase for listings, e.g. "IN USE (up, 192.0.2.2/24, default
# route)" or "idle".
iface_summary() {
	local parts=()
	iface_facts "$1"
	[ "$IF_UP" -eq 0 ] || parts+=(up)
	[ -z "$IF_ADDRS" ] || parts+=("$IF_ADDRS")
	if [ "$IF_DEFAULT" -eq 1 ]; then
		parts+=("default route")
	elif [ -n "$IF_ROUTES" ]; then
		parts+=(routes)
	fi
	if [ ${#parts[@]} -eq 0 ]; then
		echo idle
	else
		local IFS=,
		echo "IN USE (${parts[*]})" | sed 's/,/, /g'
	fi
}
