#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The one place that installs what sluice's scripts, tests and benchmarks run, on Debian 12.
# Every program a script calls comes from a package listed here; scripts/test.sh checks the
# programs again before it starts (its preflight), so a package missing from this list fails
# the run at once, by name, rather than minutes in.
#
# Usage: scripts/deps.sh [build|demo|test|bench|container|all]   (default all)
#   build  compile sluice: gcc (with its ASan/UBSan runtimes), meson, ninja, DPDK 22.11,
#          libyaml, jansson, civetweb, SQLite, libargon2, libjwt, CUnit, OpenSSL 3
#   demo   build + the TAP testbed and the demo (scripts/demo.sh, testbed.sh, dpdk-setup/),
#          Chart.js for the web UI (libjs-chart.js)
#   test   demo + what scripts/test.sh runs: clang and libFuzzer, scapy, nftables, hping3,
#          ethtool, tcpdump, prometheus (promtool and the server), chromium and
#          python3-websocket (the web UI test)
#   bench  demo + tests/bench/: ethtool, taskset, perf, wrk, and HAProxy and nginx as the
#          kernel peers measured next to sluice
#   container  the image and compose file (scripts/container.sh): podman with runc,
#          podman-compose, debootstrap (the base image, no registry needed)
#   all    every group
# Installs only what is missing (apt-get update only then). Installing a daemon (nginx,
# haproxy, prometheus) never starts it: a policy-rc.d that forbids it is in place during the
# install, and the units are disabled afterwards, so the host runs nothing new now or after a
# reboot.
set -euo pipefail

build_pkgs=(gcc meson ninja-build pkg-config python3 dpdk libdpdk-dev libyaml-dev
	libjansson-dev libcivetweb-dev libsqlite3-dev libargon2-dev libjwt-dev libcunit1-dev
	libssl-dev)
# ip/ss (iproute2), ping, sysctl/ps/pgrep (procps), curl (the demo's hints, test_backend),
# dpdk-testpmd (dpdk-dev, host-check.sh), modprobe/modinfo (kmod, nic.sh and host-check.sh),
# libjs-chart.js: the web UI's charts (/ui/chart.min.js is the package's file).
demo_pkgs=(iproute2 iputils-ping procps curl dpdk-dev kmod libjs-chart.js)
# clang + libclang-rt-14-dev: the libFuzzer build; python3-scapy: tests/tools/craft.py;
# nft: impairment and RST filters; hping3: the SYN flood; ethtool: offloads off on veths
# (testbed.sh --impair); tcpdump: SL_IMP_PCAP=1 captures; promtool (in prometheus): the
# stats_promtool unit test checks sluice's /metrics text with it, and test_monitoring.sh runs
# the server; wrk: test_proxy.sh's load run with a backend killed; chromium (headless) and
# python3-websocket (its DevTools protocol): test_webui.sh. openssl (the CLI, below): also
# test_tls.sh, test_backend_tls.sh and test_configs.sh make their certificates with it, and
# s_client checks handshakes.
test_pkgs=(clang libclang-rt-14-dev python3-scapy nftables hping3 ethtool tcpdump prometheus wrk
	chromium python3-websocket)
# systemd-analyze (in systemd): test_install.sh verifies the installed sluice.service with it
# (installing the package starts nothing; no systemd runs as PID 1 in a container); capsh
# (libcap2-bin): it reads the capability bounding set sluice runs with.
test_pkgs+=(systemd libcap2-bin)
# tls.auto_cert runs uacme (the ACME client), which trusts the ACME server through the system
# CA bundle (ca-certificates: /etc/ssl/certs/ca-certificates.crt, also where tls.acme.ca_file
# is bind-mounted; only a recommendation of libcurl, so --no-install-recommends leaves it out;
# it is also the default backend_tls.ca_file, which https:// backends are verified against);
# test_acme.sh runs pebble (the ACME test server) and the openssl CLI (its certificates).
demo_pkgs+=(uacme ca-certificates)
test_pkgs+=(pebble openssl)
# python3-yaml: test_alerts.sh reads monitoring/alerts.yml and alerts_test.yml.
test_pkgs+=(python3-yaml)
# taskset (util-linux), perf (linux-perf; optional for run.sh), wrk and curl as HTTP
# clients, haproxy (mode tcp) and nginx (/usr/sbin/nginx) as the kernel-side proxy and backend.
bench_pkgs=(ethtool util-linux linux-perf wrk haproxy nginx openssl)
# podman with runc (crun cannot set limits on these machines), podman-compose for
# compose.yaml, debootstrap for the base image (scripts/container.sh).
container_pkgs=(podman runc podman-compose debootstrap)
# Packages whose postinst would start a daemon.
daemon_pkgs=(nginx nginx-common haproxy prometheus)

case "${1:-all}" in
build) want=("${build_pkgs[@]}") ;;
demo) want=("${build_pkgs[@]}" "${demo_pkgs[@]}") ;;
test) want=("${build_pkgs[@]}" "${demo_pkgs[@]}" "${test_pkgs[@]}") ;;
bench) want=("${build_pkgs[@]}" "${demo_pkgs[@]}" "${bench_pkgs[@]}") ;;
container) want=("${container_pkgs[@]}") ;;
all) want=("${build_pkgs[@]}" "${demo_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}" "${container_pkgs[@]}") ;;
-h | --help) sed -n '3,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
*) echo "usage: $0 [build|demo|test|bench|container|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	case " ${missing[*]} " in *" $p "*) continue ;; esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run as root to install them" >&2
	exit 1
fi

daemons=()
for p in "${missing[@]}"; do
	case " ${daemon_pkgs[*]} " in *" $p "*) daemons+=("$p") ;; esac
done
# invoke-rc.d and deb-systemd-invoke ask /usr/sbin/policy-rc.d before starting anything;
# 101 means "not allowed". One that is there already (container images ship one) stays.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ${#daemons[@]} -gt 0 ] && [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# scripts/deps.sh: no daemon starts while it installs packages\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	own_policy=1
	trap 'rm -f "$policy"' EXIT
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

if [ ${#daemons[@]} -gt 0 ]; then
	[ "$own_policy" = 0 ] || { rm -f "$policy"; trap - EXIT; }
	for svc in nginx haproxy prometheus; do
		[ -e "/etc/init.d/$svc" ] || [ -e "/lib/systemd/system/$svc.service" ] || continue
		case " ${daemons[*]} " in *" $svc "*) ;; *) continue ;; esac
		# Not at boot either: the tests and benchmarks start their own instances.
		if command -v systemctl >/dev/null 2>&1; then
			systemctl disable --quiet "$svc" >/dev/null 2>&1 || true
		fi
		update-rc.d "$svc" disable >/dev/null 2>&1 || true
		if [ -s "/run/$svc.pid" ] && kill -0 "$(cat "/run/$svc.pid")" 2>/dev/null; then
			echo "deps: warning: installing $svc started it (pid $(cat "/run/$svc.pid"))" >&2
		fi
	done
fi
