#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The main job: install what is missing, build, bring up the TAP testbed
# (namespace sluice-tb, three local backends) and run sluice on the built-in
# configs/tap-demo.yaml.
#
#   ./scripts/demo.sh            run in the foreground; Ctrl-C tears it all down
#   ./scripts/demo.sh --detach   leave it running, return once sluice answers
#   ./scripts/demo.sh --stop     tear it down
#   ./scripts/demo.sh --config FILE   use another configuration
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export SL_NS=sluice-tb
ns=$SL_NS

mode=foreground
up_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--detach) mode=detach; shift ;;
	--stop) mode=stop; shift ;;
	--config) up_args+=(--config "$2"); shift 2 ;;
	-h | --help) sed -n '3,12p' "$0"; exit 0 ;;
	*) echo "demo.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
done

[ "$(id -u)" -eq 0 ] || { echo "demo.sh: run as root (namespaces, TAP devices)" >&2; exit 1; }
if [ "$mode" = stop ]; then
	./scripts/testbed.sh down
	echo "demo: stopped"
	exit 0
fi

./scripts/deps.sh demo
./scripts/build.sh
# Hugepages when some are free, otherwise --no-huge (fine for a TAP testbed).
free_huge=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
[ "${free_huge:-0}" -ge 256 ] && up_args+=(--huge)

./scripts/testbed.sh down 2>/dev/null || true
if [ "$mode" = foreground ]; then
	trap './scripts/testbed.sh down; echo "demo: stopped"' EXIT
	trap 'exit 0' INT TERM
fi
./scripts/testbed.sh up "${up_args[@]}"

# It answers when the kernel side can ping the service address.
ok=0
for _ in $(seq 1 50); do
	if ip netns exec "$ns" ping -c 1 -W 1 198.18.0.2 >/dev/null 2>&1; then ok=1; break; fi
	sleep 0.2
done
if [ "$ok" != 1 ]; then
	echo "demo: sluice does not answer ping; log:" >&2
	cat ".run/$ns/sluice.log" >&2
	exit 1
fi

cat <<EOT

sluice is up in namespace $ns (log: .run/$ns/sluice.log). Try:
  ip netns exec $ns ping -c 3 198.18.0.2               # answered by sluice's own stack
  ip netns exec $ns ip neigh show dev sl0              # sluice's MAC, learned by ARP
  ip netns exec $ns curl -s http://198.18.0.11:8080/   # a demo backend, directly
  kill -USR1 \$(cat .run/$ns/sluice.pid); tail -1 .run/$ns/sluice.log   # counters, ARP table

HTTP through sluice; the JSON's "backend" names the backend that answered:
  ip netns exec $ns curl -s http://198.18.0.2/            # round robin: backend1, 2, 3, 1...
  ip netns exec $ns curl -s http://198.18.0.2/cart/       # consistent hashing: same backend each time
  ip netns exec $ns curl -s http://198.18.0.2/upload/ --data-binary @/etc/os-release  # least connections
  ip netns exec $ns curl -s http://198.18.0.2/heavy/      # weighted 8:1:1
  ip netns exec $ns curl -s http://198.18.0.2/api/        # adaptive (in-flight x latency)
  ip netns exec $ns curl -s http://198.18.0.2/bytes/1000000 | wc -c   # a 1 MB download
  for i in \$(seq 20); do ip netns exec $ns curl -s http://198.18.0.2/heavy/ | grep -o 'backend[0-9]'; done | sort | uniq -c
EOT

if [ "$mode" = detach ]; then
	echo "Stop it with: ./scripts/demo.sh --stop"
	exit 0
fi
echo "Ctrl-C to stop."
pid=$(cat ".run/$ns/sluice.pid")
while kill -0 "$pid" 2>/dev/null; do sleep 1; done
echo "demo: sluice exited; log tail:" >&2
tail -5 ".run/$ns/sluice.log" >&2
