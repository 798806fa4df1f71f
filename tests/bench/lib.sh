# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Helpers shared by the benchmarks that run proxies on the testbed (tests/bench/splice.sh,
# scripts/bench.sh). Sourced, not run. Each function says what it needs.

# user + system CPU seconds of a process so far, from /proc/PID/stat.
bench_proc_cpu_s() { # PID
	awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}

# Resident set size of a process in KB.
bench_rss_kb() { # PID
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

bench_listening() { # NS ADDR:PORT
	ip netns exec "$1" ss -Hltn "src $2" | grep -q .
}

# Up to 5 s for a listener to appear.
bench_wait_listening() { # NS ADDR:PORT
	local _
	for _ in $(seq 1 50); do
		bench_listening "$1" "$2" && return 0
		sleep 0.1
	done
	echo "bench: nothing listens on $2 in $1 after 5 s" >&2
	return 1
}

# Stop a process we started, by PID: SIGTERM, then SIGKILL after 5 s.
bench_stop_pid() { # PID
	local _
	kill -TERM "$1" 2>/dev/null || return 0
	for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
}

# The temp paths nginx wants, inside http {}: all under DIR.
bench_nginx_paths() { # DIR
	cat <<-EOF
		client_body_temp_path $1/body;
		proxy_temp_path $1/proxy;
		fastcgi_temp_path $1/fastcgi;
		uwsgi_temp_path $1/uwsgi;
		scgi_temp_path $1/scgi;
	EOF
}

# Builds BUILD/tests/bench/sl-bench-connmem (connmem.c against the dataplane libraries) when it
# is missing or older than its inputs; next to a temporary name and moved, so a concurrent run
# never sees half a binary. Needs TOP (the repository). Returns 1 when gcc fails.
bench_build_connmem() { # BUILD TOP
	local build=$1 top=$2 connmem=$1/tests/bench/sl-bench-connmem
	local libs=("$build"/dataplane/libsl_*.a "$build"/lib/*/libsl_*.a)
	mkdir -p "$build/tests/bench"
	if [ ! -x "$connmem" ] || [ "$top/tests/bench/connmem.c" -nt "$connmem" ] ||
		[ "$build/dataplane/libsl_dataplane.a" -nt "$connmem" ]; then
		# shellcheck disable=SC2046 # pkg-config prints several words on purpose
		{ gcc -O2 -std=gnu11 -D_GNU_SOURCE -Wall -Wno-unused-parameter -I"$top" \
			$(pkg-config --cflags libdpdk) -o "$connmem.$$" "$top/tests/bench/connmem.c" \
			-Wl,--start-group "${libs[@]}" -Wl,--end-group \
			$(pkg-config --libs libdpdk yaml-0.1 jansson libssl libcrypto) -lm &&
			mv "$connmem.$$" "$connmem"; } || return 1
	fi
}

# perf record writes its file on SIGINT: stop it so, and wait until it has.
bench_stop_pid_int() { # PID
	local _
	kill -INT "$1" 2>/dev/null || return 0
	for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
}
