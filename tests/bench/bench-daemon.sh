#!/bin/sh
# bench-daemon.sh: aspaced against redis-server, both on loopback with TLS.
#
# Starts aspaced from the build tree (ASPACED, default daemon/aspaced)
# with a TLS listener on 127.0.0.1 port 0 and certificates made by
# tests/daemon/certs.sh, and redis-server on a free loopback port with
# TLS (plain TCP if this redis lacks TLS, said in the output); runs
# aspace-bench (access reads, ASPACE_BENCH, default
# tests/bench/aspace-bench) and redis-benchmark GET, both with 50 clients,
# unpipelined and with 16 in flight; prints the aspaced/redis throughput
# ratios and p99 latencies; stops both servers.  Each run is bounded by
# `timeout`.  Environment: REQUESTS (default 200000), CLIENTS (50),
# DEPTHS ("1 16"), WORKERS (aspaced's; default one fewer than the CPUs,
# at least 1).  Exit 77 when redis or openssl is missing.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
b=${top_builddir:-$top}
ASPACED=${ASPACED:-$b/daemon/aspaced}
BENCH=${ASPACE_BENCH:-$b/tests/bench/aspace-bench}
REQUESTS=${REQUESTS:-200000}
CLIENTS=${CLIENTS:-50}
DEPTHS=${DEPTHS:-"1 16"}
LIMIT=${LIMIT:-120}	# seconds per benchmark run
# One core is the load generator's, as redis-benchmark has one; aspaced
# gets the others (redis-server runs one thread).
ncpu=$(nproc 2>/dev/null || echo 2)
WORKERS=${WORKERS:-$((ncpu > 1 ? ncpu - 1 : 1))}

for p in redis-server redis-benchmark openssl timeout; do
	if ! command -v $p >/dev/null 2>&1; then
		echo "bench-daemon.sh: $p is missing (Debian: redis-server redis-tools openssl coreutils)" >&2
		exit 77
	fi
done

tmp=$(mktemp -d)
apid= rpid=
cleanup() {
	[ -n "$apid" ] && kill "$apid" 2>/dev/null && wait "$apid" 2>/dev/null
	[ -n "$rpid" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

sh "$top/tests/daemon/certs.sh" "$tmp" >/dev/null
token=bench-token-0123456789
echo "$token bench" >"$tmp/tokens"

# aspaced: TLS on 127.0.0.1, port 0; its bound address on stdout.
if "$ASPACED" --help 2>&1 | grep -q -- --listen; then
	set -- --listen tls://127.0.0.1:0 --tls-cert "$tmp/server.pem" \
	    --tls-key "$tmp/server.key" --tokens "$tmp/tokens" \
	    --state-directory none --foreground --workers "$WORKERS"
	# The load's clients all come from 127.0.0.1 and shake hands at
	# once: no per-address or early-drop limit for them (an attack's).
	if "$ASPACED" --help 2>&1 | grep -q -- --max-unauth-per-address; then
		set -- "$@" --max-unauth-per-address 1024 \
		    --max-connections-per-address 1024 \
		    --unauth-drop-start 1024 --max-unauth-connections 1024
	fi
else
	set -- -l 127.0.0.1:0 -c "$tmp/server.pem" -k "$tmp/server.key" \
	    -t "$tmp/tokens" -w "$WORKERS"
fi
: >"$tmp/aspaced.out"
"$ASPACED" "$@" >"$tmp/aspaced.out" 2>"$tmp/aspaced.err" &
apid=$!
i=0
while ! grep -q '^listening tls://' "$tmp/aspaced.out"; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $apid 2>/dev/null; then
		echo "bench-daemon.sh: aspaced did not start:" >&2
		cat "$tmp/aspaced.err" >&2
		exit 1
	fi
	sleep 0.1
done
aport=$(sed -n 's|^listening tls://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$tmp/aspaced.out")

# redis: a free loopback port; TLS when this redis-server has it.
rport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 16379)
rtls=yes
if redis-benchmark --help 2>&1 | grep -q -- --tls; then
	redis-server --bind 127.0.0.1 --port 0 --tls-port "$rport" \
	    --tls-cert-file "$tmp/server.pem" --tls-key-file "$tmp/server.key" \
	    --tls-ca-cert-file "$tmp/ca.pem" --tls-auth-clients no \
	    --save '' --appendonly no --dir "$tmp" \
	    >"$tmp/redis.out" 2>&1 &
	rpid=$!
	sleep 0.5
	kill -0 $rpid 2>/dev/null || rtls=no
else
	rtls=no
fi
if [ $rtls = no ]; then
	[ -n "$rpid" ] && wait "$rpid" 2>/dev/null
	redis-server --bind 127.0.0.1 --port "$rport" --save '' \
	    --appendonly no --dir "$tmp" >"$tmp/redis.out" 2>&1 &
	rpid=$!
	sleep 0.5
	echo "NOTE: this redis has no TLS: redis runs over plain TCP"
fi
rtlsargs=
[ $rtls = yes ] && rtlsargs="--tls --cacert $tmp/ca.pem"
timeout 20 redis-benchmark -h 127.0.0.1 -p "$rport" $rtlsargs -t set \
    -n 1000 -q >/dev/null

echo "aspaced tls://127.0.0.1:$aport (workers: $WORKERS)," \
    "redis 127.0.0.1:$rport (TLS: $rtls), $CLIENTS clients, $REQUESTS requests"
printf '%-6s %12s %12s %8s %12s %12s\n' depth aspaced/s redis/s ratio \
    aspaced-p99 redis-p99
for d in $DEPTHS; do
	a=$(timeout "$LIMIT" "$BENCH" -q --host 127.0.0.1 --port "$aport" --tls \
	    --ca "$tmp/ca.pem" --token "$token" -c "$CLIENTS" \
	    -n "$REQUESTS" -P "$d" | sed -n 's/^RESULT //p')
	r=$(timeout "$LIMIT" redis-benchmark -h 127.0.0.1 -p "$rport" \
	    $rtlsargs -t get -c "$CLIENTS" -n "$REQUESTS" -P "$d" --csv |
	    tail -1)
	a_rps=$(echo "$a" | sed -n 's/.*rps=\([0-9.]*\).*/\1/p')
	a_p99=$(echo "$a" | sed -n 's/.*p99_us=\([0-9.]*\).*/\1/p')
	# --csv: "test","rps","avg","min","p50","p95","p99","max" (ms)
	r_rps=$(echo "$r" | awk -F'"' '{print $4}')
	r_p99=$(echo "$r" | awk -F'"' '{print $14}')
	awk -v d="$d" -v ar="$a_rps" -v rr="$r_rps" -v ap="$a_p99" \
	    -v rp="$r_p99" 'BEGIN {
		printf "%-6s %12.0f %12.0f %8.2f %10.0fus %10.0fus\n",
		    d, ar, rr, (rr > 0 ? ar / rr : 0), ap, rp * 1000 }'
done
