#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Reserve default-size hugepages for DPDK and give them back.
#
#   hugepages.sh reserve N [--force]   at least N pages in /proc/sys/vm/nr_hugepages (never
#                                      lowers it), hugetlbfs mounted at /dev/hugepages if no
#                                      hugetlbfs is mounted anywhere
#   hugepages.sh release               undo what reserve did, and only that
#   hugepages.sh status                totals per page size and NUMA node, mounts, state
#
# reserve records the previous page count and whether it mounted anything in
# $SLUICE_STATE_DIR/hugepages.state (default /run/sluice). release restores that count (unless
# someone changed it since) and unmounts only a mount that reserve made.
# Exit status: 0 done, 1 refused or failed, 2 usage error.
set -euo pipefail

STATE_DIR=${SLUICE_STATE_DIR:-/run/sluice}
STATE=$STATE_DIR/hugepages.state
NR=/proc/sys/vm/nr_hugepages
MOUNTPOINT=/dev/hugepages
# Memory left to the rest of the system when reserving, unless --force.
KEEP_FREE_KB=$((256 * 1024))

usage() {
	cat <<'EOF'
Usage: hugepages.sh reserve N [--force]
       hugepages.sh release
       hugepages.sh status

  reserve  make sure at least N default-size hugepages are reserved (it never lowers the
           count) and that a hugetlbfs is mounted (at /dev/hugepages if none is). Refuses to
           take memory the system does not have available, unless --force.
  release  restore the page count from before the first reserve and unmount what reserve
           mounted. Nothing else.
  status   reserved/free pages per size and NUMA node, hugetlbfs mounts, what reserve recorded.
EOF
}

die() {
	echo "hugepages.sh: $*" >&2
	exit 1
}

meminfo_kb() {
	awk -v k="$1:" '$1 == k { print $2; exit }' /proc/meminfo
}

hugetlbfs_mounts() {
	awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts
}

is_hugetlbfs_mounted_at() {
	awk -v m="$1" '$3 == "hugetlbfs" && $2 == m { found = 1 } END { exit !found }' /proc/mounts
}

lock_state() {
	mkdir -p "$STATE_DIR"
	exec 9>"$STATE_DIR/hugepages.lock"
	flock -w 10 9 || die "another hugepages.sh holds $STATE_DIR/hugepages.lock"
}

# Loads prev_nr, set_nr, mounted, created_dir from the state file.
load_state() {
	prev_nr="" set_nr="" mounted="" created_dir=0
	local k v
	while IFS='=' read -r k v; do
		case $k in
		prev_nr) prev_nr=$v ;;
		set_nr) set_nr=$v ;;
		mounted) mounted=$v ;;
		created_dir) created_dir=$v ;;
		esac
	done <"$STATE"
	[[ $prev_nr =~ ^[0-9]+$ && $set_nr =~ ^[0-9]+$ ]] || die "$STATE is damaged; fix or remove it"
}

save_state() {
	printf 'prev_nr=%s\nset_nr=%s\nmounted=%s\ncreated_dir=%s\n' \
		"$prev_nr" "$set_nr" "$mounted" "$created_dir" >"$STATE.tmp"
	mv "$STATE.tmp" "$STATE"
}

cmd_reserve() {
	local want=$1 force=$2 cur target size_kb avail_kb need_kb granted
	if ! [[ $want =~ ^[0-9]+$ ]] || [ "$want" -lt 1 ] || [ "$want" -gt 1048576 ]; then
		die "reserve takes a page count from 1 to 1048576, not '$want'"
	fi
	lock_state
	cur=$(cat "$NR")
	if [ -e "$STATE" ]; then
		load_state
	else
		prev_nr=$cur set_nr=$cur mounted="" created_dir=0
	fi

	target=$cur
	if [ "$cur" -lt "$want" ]; then
		target=$want
		size_kb=$(meminfo_kb Hugepagesize)
		avail_kb=$(meminfo_kb MemAvailable)
		need_kb=$(((target - cur) * size_kb))
		if [ "$force" -eq 0 ] && [ "$need_kb" -gt $((avail_kb - KEEP_FREE_KB)) ]; then
			die "$want pages of ${size_kb} kB need $((need_kb / 1024)) MiB more; only" \
				"$((avail_kb / 1024)) MiB is available and 256 MiB stays for the system" \
				"(--force to insist)"
		fi
		echo "$target" >"$NR"
	fi
	granted=$(cat "$NR")
	set_nr=$granted

	if [ -z "$mounted" ] && [ -z "$(hugetlbfs_mounts)" ]; then
		if [ ! -d "$MOUNTPOINT" ]; then
			mkdir -p "$MOUNTPOINT"
			created_dir=1
		fi
		mount -t hugetlbfs nodev "$MOUNTPOINT"
		mounted=$MOUNTPOINT
	fi
	save_state

	echo "nr_hugepages: $cur -> $granted (asked for at least $want)"
	echo "hugetlbfs: $(hugetlbfs_mounts | paste -sd ' ' -)"
	if [ "$granted" -lt "$want" ]; then
		echo "hugepages.sh: the kernel granted only $granted of $want pages (memory" \
			"fragmented? try earlier after boot, or hugepages= on the kernel command line)" >&2
		exit 1
	fi
}

cmd_release() {
	local cur
	lock_state
	if [ ! -e "$STATE" ]; then
		echo "nothing to release: hugepages.sh has not reserved anything"
		return 0
	fi
	load_state
	if [ -n "$mounted" ]; then
		if is_hugetlbfs_mounted_at "$mounted"; then
			umount "$mounted" ||
				die "cannot unmount $mounted (a DPDK process still using it?); stop it and retry"
		fi
		if [ "$created_dir" = 1 ]; then
			rmdir "$mounted" 2>/dev/null || true
		fi
		echo "unmounted $mounted"
	fi
	cur=$(cat "$NR")
	if [ "$cur" = "$set_nr" ]; then
		echo "$prev_nr" >"$NR"
		echo "nr_hugepages: $cur -> $(cat "$NR") (the value before reserve)"
	else
		echo "nr_hugepages is $cur, not the $set_nr reserve set: changed by someone else since;" \
			"leaving it"
	fi
	rm -f "$STATE"
}

cmd_status() {
	local d size n node
	echo "nr_hugepages=$(cat "$NR") (default size $(meminfo_kb Hugepagesize) kB)"
	for d in /sys/kernel/mm/hugepages/hugepages-*; do
		[ -d "$d" ] || continue
		size=${d##*/hugepages-}
		printf '%-10s total %s, free %s, reserved %s, surplus %s\n' "$size" \
			"$(cat "$d/nr_hugepages")" "$(cat "$d/free_hugepages")" \
			"$(cat "$d/resv_hugepages")" "$(cat "$d/surplus_hugepages")"
	done
	for node in /sys/devices/system/node/node[0-9]*; do
		[ -d "$node/hugepages" ] || continue
		for d in "$node"/hugepages/hugepages-*; do
			n=$(cat "$d/nr_hugepages")
			printf '%-10s %s: total %s, free %s\n' "${d##*/hugepages-}" "${node##*/}" "$n" \
				"$(cat "$d/free_hugepages")"
		done
	done
	if [ -n "$(hugetlbfs_mounts)" ]; then
		echo "hugetlbfs mounted at: $(hugetlbfs_mounts | paste -sd ' ' -)"
	else
		echo "hugetlbfs mounted at: (none)"
	fi
	if [ -e "$STATE" ]; then
		load_state
		echo "recorded by reserve: previous nr_hugepages=$prev_nr, set to $set_nr," \
			"mounted by us: ${mounted:-nothing}"
	else
		echo "recorded by reserve: nothing"
	fi
}

main() {
	local cmd=${1:-} force=0 args=() a
	[ $# -gt 0 ] && shift
	for a in "$@"; do
		case $a in
		--force) force=1 ;;
		-h | --help)
			usage
			exit 0
			;;
		-*)
			echo "hugepages.sh: unknown option $a" >&2
			exit 2
			;;
		*) args+=("$a") ;;
		esac
	done
	case $cmd in
	reserve)
		if [ ${#args[@]} -ne 1 ]; then
			usage >&2
			exit 2
		fi
		[ "$(id -u)" -eq 0 ] || die "reserve needs root"
		cmd_reserve "${args[0]}" "$force"
		;;
	release)
		[ "$(id -u)" -eq 0 ] || die "release needs root"
		cmd_release
		;;
	status) cmd_status ;;
	-h | --help | help) usage ;;
	*)
		usage >&2
		exit 2
		;;
	esac
}

main "$@"
