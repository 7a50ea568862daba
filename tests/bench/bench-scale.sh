#!/bin/sh
# bench-scale.sh: sessions through aspaced at a course's scale, beside
# redis-server on the same machine, both on loopback with TLS.
#
#   1. Idle session RSS through the daemon: aspaced's RSS (VmRSS) before,
#      with SESSIONS (default 10000) sessions made by aspace-scale
#      (ASPACE_SCALE, default tests/bench/aspace-scale) and held, and
#      after they are destroyed; the growth per session.
#   2. Session create+destroy per second through the daemon (aspace-scale
#      churn: CLIENTS connections, default 8, each creating and destroying
#      a session in turn for SECS, default 10) beside redis-benchmark's
#      SET of a 4 KiB value (-t set -d 4096, the same clients), the
#      nearest thing a user would compare; the ratio.
#
# aspaced is ASPACED (default daemon/aspaced), its certificates from
# tests/daemon/certs.sh; WORKERS as in bench-daemon.sh (one fewer than
# the CPUs).  Each run is bounded by `timeout`.  Exit 77 when redis or
# openssl is missing.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
b=${top_builddir:-$top}
ASPACED=${ASPACED:-$b/daemon/aspaced}
SCALE_TOOL=${ASPACE_SCALE:-$b/tests/bench/aspace-scale}
SESSIONS=${SESSIONS:-10000}
CLIENTS=${CLIENTS:-8}
SECS=${SECS:-10}
LIMIT=${LIMIT:-300}	# seconds per step
ncpu=$(nproc 2>/dev/null || echo 2)
WORKERS=${WORKERS:-$((ncpu > 1 ? ncpu - 1 : 1))}

for p in redis-server redis-benchmark openssl timeout; do
	if ! command -v $p >/dev/null 2>&1; then
		echo "bench-scale.sh: $p is missing (Debian: redis-server redis-tools openssl coreutils)" >&2
		exit 77
	fi
done

tmp=$(mktemp -d)
apid= rpid= hpid=
cleanup() {
	exec 3>&-
	for p in $hpid $apid $rpid; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

sh "$top/tests/daemon/certs.sh" "$tmp" >/dev/null
token=bench-scale-token-0123456789
echo "$token bench" >"$tmp/tokens"
cat >"$tmp/conf" <<EOF
listen tls://127.0.0.1:0
tls-cert $tmp/server.pem
tls-key $tmp/server.key
tokens $tmp/tokens
state-directory none
workers $WORKERS
max-sessions $((SESSIONS + CLIENTS))
max-sessions-total $((SESSIONS + CLIENTS))
max-connections $((2 * CLIENTS + 64))
EOF
: >"$tmp/aspaced.out"
"$ASPACED" --config "$tmp/conf" >"$tmp/aspaced.out" 2>"$tmp/aspaced.err" &
apid=$!
i=0
while ! grep -q '^listening tls://' "$tmp/aspaced.out"; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $apid 2>/dev/null; then
		echo "bench-scale.sh: aspaced did not start:" >&2
		cat "$tmp/aspaced.err" >&2
		exit 1
	fi
	sleep 0.1
done
aport=$(sed -n 's|^listening tls://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$tmp/aspaced.out")
tool() {
	timeout "$LIMIT" "$SCALE_TOOL" --host 127.0.0.1 --port "$aport" \
	    --ca "$tmp/ca.pem" --token "$token" "$@"
}
rss() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$apid/status"
}

# 1. Idle sessions held, then destroyed.
tool create 1 >/dev/null	# warm up: TLS, the first session
rss0=$(rss)
mkfifo "$tmp/ctl"
tool hold "$SESSIONS" 0 <"$tmp/ctl" >"$tmp/hold" 2>&1 &
hpid=$!
exec 3>"$tmp/ctl"
i=0
while ! grep -q '^HELD' "$tmp/hold"; do
	i=$((i + 1))
	if [ $i -gt $((LIMIT * 10)) ] || ! kill -0 $hpid 2>/dev/null; then
		echo "bench-scale.sh: the sessions were not made:" >&2
		cat "$tmp/hold" >&2
		exit 1
	fi
	sleep 0.1
done
sleep 1
rss1=$(rss)
exec 3>&-
wait $hpid
hpid=
sleep 2	# the trims after the last destroys
rss2=$(rss)
made=$(sed -n 's/^HELD.* secs=\([0-9.]*\)$/\1/p' "$tmp/hold")
gone=$(sed -n 's/^RELEASED secs=\([0-9.]*\).*/\1/p' "$tmp/hold")
echo "aspaced tls://127.0.0.1:$aport (workers: $WORKERS)"
awk -v n="$SESSIONS" -v r0="$rss0" -v r1="$rss1" -v r2="$rss2" \
    -v m="$made" -v g="$gone" 'BEGIN {
	printf "idle sessions through aspaced: %d made in %.1f s, destroyed " \
	    "in %.1f s (one connection, one at a time)\n", n, m, g
	printf "  RSS %d KiB before, %d KiB held, %d KiB after: %.1f KiB " \
	    "per idle session; %.0f%% of the growth given back\n", r0, r1,
	    r2, (r1 - r0) / n, (r1 > r0 ? 100 * (r1 - r2) / (r1 - r0) : 0) }'

# 2. create+destroy beside redis SET 4 KiB.
rport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 16379)
rtls=yes
if redis-benchmark --help 2>&1 | grep -q -- --tls; then
	redis-server --bind 127.0.0.1 --port 0 --tls-port "$rport" \
	    --tls-cert-file "$tmp/server.pem" --tls-key-file "$tmp/server.key" \
	    --tls-ca-cert-file "$tmp/ca.pem" --tls-auth-clients no \
	    --save '' --appendonly no --dir "$tmp" >"$tmp/redis.out" 2>&1 &
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

a=$(tool -c "$CLIENTS" churn "$SECS" | sed -n 's/^RESULT //p')
a_rate=$(echo "$a" | sed -n 's/.*rate=\([0-9.]*\).*/\1/p')
# As many SETs as take redis about as long (it does ~10^4-10^5/s).
r=$(timeout "$LIMIT" redis-benchmark -h 127.0.0.1 -p "$rport" $rtlsargs \
    -t set -d 4096 -c "$CLIENTS" -n $((SECS * 20000)) --csv | tail -1)
r_rate=$(echo "$r" | awk -F'"' '{print $4}')
echo "session create+destroy through aspaced vs redis SET 4 KiB" \
    "($CLIENTS clients, TLS: aspaced yes, redis $rtls)"
awk -v a="$a_rate" -v r="$r_rate" 'BEGIN {
	printf "  aspaced %.0f create+destroy/s, redis %.0f SET/s: " \
	    "ratio %.2f\n", a, r, (r > 0 ? a / r : 0) }'
[ -n "$a_rate" ] && [ -n "$r_rate" ]
