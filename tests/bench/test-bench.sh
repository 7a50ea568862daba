#!/bin/sh
# test-bench.sh: aspace-bench's own checks and short runs against aspaced.
# --self-check (the hand-encoded requests are protobuf-c's bytes); then
# a small load of every kind of request over a Unix socket and over TLS,
# with a read buffer smaller than the responses in flight, so that reads
# stop on a full buffer while OpenSSL still holds records (which no
# epoll wakeup announces): a bench that forgets them stalls, and
# `timeout` fails it.  A bad --rbuf is refused.
ASPACED=${ASPACED:-daemon/aspaced}
BENCH=${ASPACE_BENCH:-tests/bench/aspace-bench}
top_srcdir=${top_srcdir:-.}
tmp=$(mktemp -d) || exit 99
pid=
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
failed=0
fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

# A run of N requests must report them all, without an error.
run() {
	n=$1
	shift
	out=$(timeout 60 "$BENCH" -q -n "$n" "$@" 2>&1)
	echo "$out" | grep -q "^RESULT requests=$n errors=0 " ||
	    fail "aspace-bench $*: $out"
}

"$BENCH" --self-check | grep -q "matches protobuf-c" || fail "--self-check"
"$BENCH" --unix "$tmp/sock" --rbuf 100 >/dev/null 2>&1
[ $? -eq 2 ] || fail "--rbuf 100 is not refused"

sh "$top_srcdir/tests/daemon/certs.sh" "$tmp" >/dev/null || exit $?
token=bench-token-0123456789
echo "$token bench" >"$tmp/tokens"
"$ASPACED" --listen "unix:$tmp/sock" --listen tls://127.0.0.1:0 \
    --tls-cert "$tmp/server.pem" --tls-key "$tmp/server.key" \
    --tokens "$tmp/tokens" --state-directory none --foreground \
    >"$tmp/out" 2>"$tmp/err" &
pid=$!
i=0
while ! grep -q '^listening tls://' "$tmp/out" && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
port=$(sed -n 's|^listening tls://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$tmp/out")
[ -n "$port" ] || { echo "aspaced did not start"; cat "$tmp/err"; exit 99; }

run 3000 --unix "$tmp/sock" -c 3 -P 16 --mix 2:2:1
run 3000 --unix "$tmp/sock" -c 3 -P 256 --mix 1:1:1 --rbuf 1024
tls="--host 127.0.0.1 --port $port --tls --ca $tmp/ca.pem --token $token"
run 3000 $tls -c 3 --mix 1:1:1
run 3000 $tls -c 3 -P 16 --mix 2:2:1
run 3000 $tls -c 3 -P 256 --mix 1:1:1 --rbuf 1024

[ $failed -eq 0 ] || exit 1
echo "aspace-bench: all passed"
