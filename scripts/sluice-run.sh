#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR
#
# Launch sluice on NIC ports bound to vfio-pci, in the manner of dpdk-testpmd:
#
#   sluice-run.sh -a 0000:03:00.0 [-a ...] -l 0-3 -c config.yaml [--huge N] [--dry-run]
#                 [-- extra sluice arguments]
#
# Checks first that every -a device is bound to vfio-pci, that hugepages are reserved and
# mounted, and that the binary exists; then execs
#   sluice -l CORES -a ADDR... --file-prefix sluice-<pid> -- --config FILE [extra...]
# EAL always gets the explicit -a list, so it never probes a device that was not named.
#
#   --huge N    reserve at least N hugepages first (dpdk-setup/hugepages.sh reserve N)
#   --dry-run   print the command instead of running it (check failures become warnings for
#               hugepages and the binary; device checks still apply)
# Environment: SLUICE_BIN (default build/apps/sluice/sluice under the repository),
#              SKIP_BIND_CHECK=1 (do not look the -a devices up in sysfs).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SETUP=$REPO/dpdk-setup
# shellcheck source=../dpdk-setup/pci.sh
. "$SETUP/pci.sh"

usage() {
	awk 'NR >= 5 && /^#/ { sub(/^# ?/, ""); print; next } NR >= 5 { exit }' "${BASH_SOURCE[0]}"
}

die() {
	echo "sluice-run.sh: $*" >&2
	exit 1
}

usage_error() {
	echo "sluice-run.sh: $*" >&2
	usage >&2
	exit 2
}

ADDRS=()
CORES=""
CONFIG=""
HUGE=""
DRY_RUN=0
EXTRA=()

while [ $# -gt 0 ]; do
	case $1 in
	-a | --allow)
		[ $# -ge 2 ] || usage_error "$1 needs a PCI address"
		ADDRS+=("$2")
		shift 2
		;;
	-l | --lcores)
		[ $# -ge 2 ] || usage_error "$1 needs a core list"
		CORES=$2
		shift 2
		;;
	-c | --config)
		[ $# -ge 2 ] || usage_error "$1 needs a file"
		CONFIG=$2
		shift 2
		;;
	--huge)
		[ $# -ge 2 ] || usage_error "--huge needs a page count"
		HUGE=$2
		shift 2
		;;
	--dry-run)
		DRY_RUN=1
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	--)
		shift
		EXTRA=("$@")
		break
		;;
	*) usage_error "unknown argument '$1'" ;;
	esac
done

[ ${#ADDRS[@]} -gt 0 ] || usage_error "at least one -a PCI address is required"
[ -n "$CORES" ] || usage_error "-l CORES is required (e.g. -l 0-3)"
[[ $CORES =~ ^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$ ]] ||
	usage_error "-l takes a core list such as 0-3 or 0,2,4, not '$CORES'"
[ -n "$CONFIG" ] || usage_error "-c CONFIG is required"
if [ ! -f "$CONFIG" ] || [ ! -r "$CONFIG" ]; then
	die "config file $CONFIG does not exist or is unreadable"
fi
if [ -n "$HUGE" ] && ! [[ $HUGE =~ ^[1-9][0-9]*$ ]]; then
	usage_error "--huge takes a page count, not '$HUGE'"
fi

# Devices: full PCI addresses, bound to vfio-pci.
NORM=()
for a in "${ADDRS[@]}"; do
	n=$(pci_normalize "$a") || die "'$a' is not a PCI address (expected 0000:03:00.0)"
	for seen in "${NORM[@]}"; do
		[ "$seen" != "$n" ] || die "$n is listed twice"
	done
	NORM+=("$n")
	if [ "${SKIP_BIND_CHECK:-0}" = 1 ]; then
		continue
	fi
	pci_exists "$n" ||
		die "$n is not bound to vfio-pci: there is no such PCI device on this host" \
			"(see: $SETUP/nic.sh list)"
	drv=$(pci_driver "$n")
	if [ "$drv" != vfio-pci ]; then
		die "$n is not bound to vfio-pci (driver: ${drv:-none}). Bind it first:" \
			"$SETUP/nic.sh bind $n"
	fi
done

# Hugepages.
if [ -n "$HUGE" ]; then
	if [ "$DRY_RUN" -eq 1 ]; then
		echo "would run: $SETUP/hugepages.sh reserve $HUGE" >&2
	else
		"$SETUP/hugepages.sh" reserve "$HUGE" >&2 || die "could not reserve $HUGE hugepages"
	fi
fi
huge_total=0
for d in "$SLUICE_SYSFS"/kernel/mm/hugepages/hugepages-*; do
	[ -r "$d/nr_hugepages" ] && huge_total=$((huge_total + $(cat "$d/nr_hugepages")))
done
problem=""
if [ "$huge_total" -eq 0 ]; then
	problem="no hugepages are reserved: $SETUP/hugepages.sh reserve 1024 (or pass --huge 1024)"
elif ! awk '$3 == "hugetlbfs" { found = 1 } END { exit !found }' /proc/mounts; then
	problem="no hugetlbfs is mounted: $SETUP/hugepages.sh reserve $huge_total mounts one"
fi
if [ -n "$problem" ] && [ -z "$HUGE" ]; then
	[ "$DRY_RUN" -eq 1 ] || die "$problem"
	echo "sluice-run.sh: warning: $problem" >&2
fi

# Binary.
BIN=${SLUICE_BIN:-$REPO/build/apps/sluice/sluice}
if [ ! -x "$BIN" ]; then
	[ "$DRY_RUN" -eq 1 ] ||
		die "no sluice binary at $BIN: build it (meson setup build && ninja -C build) or set SLUICE_BIN"
	echo "sluice-run.sh: warning: no sluice binary at $BIN yet" >&2
fi

# The file prefix names this process, which exec turns into sluice: sluice-<its pid>.
CMD=("$BIN" -l "$CORES")
for n in "${NORM[@]}"; do
	CMD+=(-a "$n")
done
CMD+=(--file-prefix "sluice-$$" -- --config "$CONFIG")
CMD+=("${EXTRA[@]}")

if [ "$DRY_RUN" -eq 1 ]; then
	printf '%q ' "${CMD[@]}" | sed 's/ $//'
	echo
	exit 0
fi
echo "sluice-run.sh: exec $(printf '%q ' "${CMD[@]}")" >&2
exec "${CMD[@]}"
