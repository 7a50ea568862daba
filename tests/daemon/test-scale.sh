#!/bin/sh
# test-scale.sh: one aspaced holding many sessions and many idle TLS
# connections at once (issue 16: a whole course on one machine).
#
# Starts aspaced with its limits raised to fit SESSIONS sessions and
# CONNECTIONS idle TLS connections (each through its hello), made by
# tests/bench/aspace-scale (ASPACE_SCALE); reads aspaced's RSS
# (/proc/PID/status) before, with the sessions, with the connections
# too, and after both are gone; measures another tenant's request
# latency (aspace-bench, reads in its own session) unloaded and under
# the held load and asserts that its p99 stays under twice the unloaded
# one; then reaches each limit and checks its answer: a tenant's
# session past max-sessions and one past max-sessions-total (QUOTA
# "session quota"), a TLS connection past its share of max-connections
# (closed at its accept), a Unix one past max-connections (QUOTA "too
# many connections"), a session past ram-total after a reload lowering
# it (QUOTA "the daemon's RAM for all sessions is spent"); and that
# aspaced still answers and stops cleanly.
#
# make check runs it reduced (SCALE, default 300 sessions and 300
# connections); SCALE=10000 is the issue's full run (a minute or two).
# Figures go to stdout.  Exit 77 when openssl is missing.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
ASPACED=${ASPACED:-daemon/aspaced}
ASPACE_SCALE=${ASPACE_SCALE:-$(dirname "$ASPACED")/../tests/bench/aspace-scale}
ASPACE_BENCH=${ASPACE_BENCH:-$(dirname "$ASPACED")/../tests/bench/aspace-bench}
SCALE=${SCALE:-300}
SESSIONS=${SESSIONS:-$SCALE}
CONNECTIONS=${CONNECTIONS:-$SCALE}
# The probe's requests a run: fewer in make check's reduced run, where
# other tests share the machine.
LAT_REQUESTS=${LAT_REQUESTS:-$([ "$SCALE" -ge 10000 ] && echo 20000 || echo 5000)}
LIMIT=${LIMIT:-900}	# seconds for any one step

tmp=$(mktemp -d) || exit 99
pid= h1= h2=
cleanup() {
	exec 3>&- 4>&-
	for p in $h1 $h2 $pid; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
failed=0
fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

sh "$top/tests/daemon/certs.sh" "$tmp" >/dev/null || exit $?
cat >"$tmp/tokens" <<EOF
scale-token-course-0123456789 course
scale-token-probe-01234567890 probe
EOF
tok_a=scale-token-course-0123456789
tok_b=scale-token-probe-01234567890
need=$(ulimit -n)
if [ "$need" != unlimited ] && [ "$need" -lt $((CONNECTIONS + 2000)) ]; then
	echo "SKIP: ulimit -n is $need, too few for $CONNECTIONS connections"
	exit 77
fi

# max-connections: the TLS share (all but the eighth kept for Unix
# clients and authenticated ones) holds the connections, the holders'
# own and the probe's, with 8 to spare.
maxc=$(( (CONNECTIONS + 16) * 8 / 7 + 8 ))
tls_share=$((maxc - maxc / 8))
write_conf() {	# write_conf RAM-TOTAL
	cat >"$tmp/conf" <<EOF
listen unix:$tmp/sock
listen tls://127.0.0.1:0
tls-cert $tmp/server.pem
tls-key $tmp/server.key
tokens $tmp/tokens
state-directory none
log-level notice
idle-timeout 0
max-connections $maxc
max-connections-per-address $maxc
max-sessions $SESSIONS
max-sessions-total $((SESSIONS + 1))
ram-total $1
EOF
}
write_conf 16G

"$ASPACED" --config "$tmp/conf" >"$tmp/out" 2>"$tmp/err" &
pid=$!
i=0
while ! grep -q '^listening tls://' "$tmp/out" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 200 ] || ! kill -0 $pid 2>/dev/null; then
		echo "aspaced did not start:"
		cat "$tmp/err"
		exit 99
	fi
	sleep 0.05
done
port=$(sed -n 's|^listening tls://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$tmp/out")
tls="--host 127.0.0.1 --port $port --ca $tmp/ca.pem"

rss() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$pid/status"
}

# p99 of the probe tenant's reads, in microseconds: the best of 3 runs
# (one run's p99 is at the mercy of whatever else the machine does).
probe_p99() {
	best=
	for run in 1 2 3; do
		r=$(timeout "$LIMIT" "$ASPACE_BENCH" -q $tls --tls \
		    --token "$tok_b" -c 1 -n "$LAT_REQUESTS" --sessions 1 |
		    sed -n 's/^RESULT .*p99_us=\([0-9.]*\).*/\1/p')
		[ -n "$r" ] || { echo "probe failed" >&2; echo 0; return; }
		best=$(awk -v a="$r" -v b="$best" \
		    'BEGIN { print (b == "" || a < b) ? a : b }')
	done
	echo "$best"
}

# wait_for FILE PATTERN PID: until FILE has PATTERN (PID alive).
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt $((LIMIT * 10)) ] || ! kill -0 "$3" 2>/dev/null
		then
			return 1
		fi
		sleep 0.1
	done
}

probe_p99 >/dev/null	# warm up (TLS, the allocator, the caches)
rss0=$(rss)
p99_idle=$(probe_p99)

# The sessions, then the connections, each held by its own process
# until its standard input (a FIFO) is closed.
mkfifo "$tmp/ctl1" "$tmp/ctl2"
timeout "$LIMIT" "$ASPACE_SCALE" $tls --token "$tok_a" hold "$SESSIONS" 0 \
    <"$tmp/ctl1" >"$tmp/h1" 2>&1 &
h1=$!
exec 3>"$tmp/ctl1"
wait_for "$tmp/h1" '^HELD' $h1 || { cat "$tmp/h1"; fail "sessions not held"; exit 1; }
sleep 1
rss1=$(rss)
timeout "$LIMIT" "$ASPACE_SCALE" $tls --token "$tok_a" hold 0 \
    "$CONNECTIONS" <"$tmp/ctl2" >"$tmp/h2" 2>&1 &
h2=$!
exec 4>"$tmp/ctl2"
wait_for "$tmp/h2" '^HELD' $h2 || { cat "$tmp/h2"; fail "connections not held"; exit 1; }
sleep 1
rss2=$(rss)
p99_load=$(probe_p99)
# A slower p99 is measured again, twice at most: one that persists is
# the daemon's, one that does not was the machine's (make check -j).
for retry in 1 2; do
	awk -v pi="$p99_idle" -v pl="$p99_load" \
	    'BEGIN { exit !(pl >= 2 * pi) }' || break
	echo "probe p99 $p99_load us under load: measured again"
	p99_load=$(probe_p99)
done
rss3=$(rss)

awk -v s="$SESSIONS" -v c="$CONNECTIONS" -v r0="$rss0" -v r1="$rss1" \
    -v r2="$rss2" -v r3="$rss3" -v pi="$p99_idle" -v pl="$p99_load" 'BEGIN {
	printf "aspaced RSS: %d KiB before, %d KiB with %d sessions, " \
	    "%d KiB with %d idle TLS connections too (%d KiB after the " \
	    "loaded probe)\n", r0, r1, s, r2, c, r3
	printf "per idle session: %.1f KiB; per idle TLS connection: " \
	    "%.1f KiB\n", (r1 - r0) / (s > 0 ? s : 1), (r2 - r1) / (c > 0 ? c : 1)
	printf "probe p99: %.1f us unloaded, %.1f us loaded (%.2fx)\n", pi, pl,
	    (pi > 0 ? pl / pi : 0) }'
awk -v pi="$p99_idle" -v pl="$p99_load" 'BEGIN { exit !(pi > 0 && pl > 0 && pl < 2 * pi) }' ||
    fail "the probe's p99 under load ($p99_load us) is not under twice unloaded ($p99_idle us)"

# --- the limits, reached ------------------------------------------------------
sleep 0.5	# the probe's connections closed
# A tenant's own cap: course holds max-sessions already.
out=$(timeout 60 "$ASPACE_SCALE" $tls --token "$tok_a" create 1)
echo "$out" | grep -q '^REFUSED QUOTA session quota$' ||
    fail "a session past max-sessions: $out"
# The daemon's cap: probe's first is the last of max-sessions-total.
out=$(timeout 60 "$ASPACE_SCALE" $tls --token "$tok_b" create 2)
{ echo "$out" | grep -q '^CREATED 1$' &&
    echo "$out" | grep -q '^REFUSED QUOTA session quota$'; } ||
    fail "a session past max-sessions-total: $out"
# Connections: TLS ones fill their share, the next is closed at its
# accept; Unix ones fill the rest, the next is answered QUOTA.
held=$((CONNECTIONS + 2))	# and each holder's own
# connect_count HOW...: aspace-scale connect's output, again after a
# second if the count is not WANT (connections just closed by the
# previous steps may not be gone from the daemon's count yet).
connect_count() {
	want=$1
	shift
	for try in 1 2 3; do
		out=$(timeout 120 "$ASPACE_SCALE" "$@" connect "$maxc")
		echo "$out" | grep -q "^OPENED $want\$" && break
		sleep 1
	done
}
connect_count $((tls_share - held)) $tls --token "$tok_b"
echo "$out" | grep -q "^OPENED $((tls_share - held))\$" ||
    fail "TLS connections past their share of max-connections $maxc: $out (want $((tls_share - held)) opened)"
echo "$out" | grep -q '^REFUSED TLS handshake' ||
    fail "a TLS connection past the limit was not closed at its accept: $out"
grep -q "refused (reserved): over the limit" "$tmp/err" ||
    fail "no log line for the refused TLS connection"
sleep 0.5	# those closed
connect_count $((maxc - held)) --unix "$tmp/sock"
echo "$out" | grep -q "^OPENED $((maxc - held))\$" ||
    fail "Unix connections up to max-connections $maxc: $out (want $((maxc - held)) opened)"
echo "$out" | grep -q '^REFUSED QUOTA too many connections' ||
    fail "a connection past max-connections: $out"
# ram-total lowered below what the sessions hold: the next is refused.
sleep 0.5
write_conf 1M
: >"$tmp/err"
kill -HUP $pid
wait_for "$tmp/err" reloaded $pid || fail "no reload"
out=$(timeout 60 "$ASPACE_SCALE" --unix "$tmp/sock" create 1)
echo "$out" | grep -q "^REFUSED QUOTA the daemon's RAM for all sessions is spent\$" ||
    fail "a session past ram-total: $out"
write_conf 16G
: >"$tmp/err"
kill -HUP $pid
wait_for "$tmp/err" reloaded $pid || fail "no second reload"

# --- release -----------------------------------------------------------------
exec 3>&- 4>&-
wait $h1 || fail "the sessions' holder: $(cat "$tmp/h1")"
wait $h2 || fail "the connections' holder: $(cat "$tmp/h2")"
h1= h2=
grep RELEASED "$tmp/h1"
sleep 2
rss4=$(rss)
echo "aspaced RSS after: $rss4 KiB (before: $rss0 KiB, held: $rss2 KiB)"
# What the sessions and connections took comes back, bar a fifth (the
# heap's fragments) and the 32 MiB of empty chunks the page pool keeps.
# Not under AddressSanitizer, whose quarantine holds freed memory by
# design (ASPACE_SAN_CFLAGS, from make check, says so).
case ${ASPACE_SAN_CFLAGS:-} in
*address*)
	echo "NOTE: RSS after release not checked: AddressSanitizer keeps" \
	    "freed memory in its quarantine" ;;
*)
	[ $((rss4 - rss0)) -lt $(( (rss2 - rss0) / 5 + 36864 )) ] ||
	    fail "RSS after release ($rss4 KiB) is not back near before" \
	    "($rss0 KiB)" ;;
esac
out=$(timeout 60 "$ASPACE_SCALE" $tls --token "$tok_a" create 1)
echo "$out" | grep -q '^CREATED 1$' || fail "a session after release: $out"

kill -TERM $pid
wait $pid || fail "aspaced's exit status $? after SIGTERM"
pid=
echo "$failed failed"
[ $failed -eq 0 ]
