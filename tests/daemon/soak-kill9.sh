#!/bin/sh
# soak-kill9.sh (make soak): kill -9 aspaced in a loop.  N sessions
# (SOAK_SESSIONS, default 8) are changed before each of SOAK_ROUNDS
# (default 5) kill -9s, once their checkpoint is written; after each
# restart every session must be listed, hold its latest change, and
# aspaced_sessions must say N.  Also times saving them (the first
# checkpoint of all N) as a figure.
ASPACED=${ASPACED:-daemon/aspaced}
ASPACE=${ASPACE:-client/aspace}
rounds=${SOAK_ROUNDS:-5}
nsess=${SOAK_SESSIONS:-8}
command -v curl >/dev/null 2>&1 || { echo "SKIP: no curl"; exit 77; }
tmp=$(mktemp -d) || exit 99
pid=
trap 'kill -9 "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
state=$tmp/state
failed=0

fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

start() {
	rm -f "$tmp/sock"
	"$ASPACED" --listen "unix:$tmp/sock" --state-directory "$state" \
	    --checkpoint-interval 200ms --metrics-listen 127.0.0.1:0 \
	    --log-target stderr --foreground \
	    >"$tmp/daemon.out" 2>"$tmp/daemon.err" &
	pid=$!
	i=0
	while [ ! -S "$tmp/sock" ] && [ $i -lt 400 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	[ -S "$tmp/sock" ] || { echo "aspaced did not start"; cat "$tmp/daemon.err"; exit 99; }
	url=$(cat "$tmp/daemon.out" "$tmp/daemon.err" |
	    grep -o 'http://127\.0\.0\.1:[0-9]*' | head -1)
}

ac() {
	"$ASPACE" --connect "unix:$tmp/sock" "$@"
}

metric() {
	curl -s "$url/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

# Wait until aspaced_checkpoints_written_total reaches $1 (20 s at most).
wait_written() {
	i=0
	while [ $i -lt 400 ]; do
		w=$(metric aspaced_checkpoints_written_total)
		[ -n "$w" ] && [ "$w" -ge "$1" ] && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

start
printf 'mmap 0x200000000000 1M rw- private,anon,fixed\n' >"$tmp/t0"
: >"$tmp/ids"
t0=$(date +%s%N)
k=0
while [ $k -lt "$nsess" ]; do
	ac run --keep "$tmp/t0" >/dev/null 2>"$tmp/e"
	sed -n 's/^aspace: kept session //p' "$tmp/e" >>"$tmp/ids"
	k=$((k + 1))
done
t1=$(date +%s%N)
wait_written "$nsess" || fail "the first $nsess checkpoints not written"
t2=$(date +%s%N)
echo "made $nsess sessions in $(( (t1 - t0) / 1000000 )) ms; all saved" \
    "$(( (t2 - t1) / 1000000 )) ms later (interval 200 ms)"
r=1
while [ $r -le "$rounds" ]; do
	val=$(printf '0x%02x' $((r + 16)))
	printf 'write 0x200000001000 %s\nwrite 0x2000000ff000 %s\n' "$val" "$val" >"$tmp/tw"
	before=$(metric aspaced_checkpoints_written_total)
	while read -r id; do
		ac run --session "$id" --resume "$tmp/tw" >/dev/null 2>&1 ||
		    fail "round $r: write in $id"
	done <"$tmp/ids"
	wait_written $((before + nsess)) || fail "round $r: not saved"
	# Any request marks its session changed (the reads of the last round
	# too): those saves may be among the ones counted; three intervals
	# more and every change is in its file.
	sleep 0.6
	kill -9 "$pid"; wait "$pid" 2>/dev/null
	start
	n=$(ac session list 2>/dev/null | grep -c .)
	[ "$n" -eq "$nsess" ] || fail "round $r: $n sessions after kill -9, want $nsess"
	[ "$(metric aspaced_sessions)" = "$nsess" ] ||
	    fail "round $r: aspaced_sessions $(metric aspaced_sessions)"
	printf 'read 0x200000001000\nread 0x2000000ff000\n' >"$tmp/tr"
	while read -r id; do
		got=$(ac run --session "$id" --resume "$tmp/tr" 2>&1 | grep -c "= $val")
		[ "$got" -eq 2 ] || fail "round $r: $id lost its change ($val)"
	done <"$tmp/ids"
	grep -q "skipping" "$tmp/daemon.err" && fail "round $r: a file set aside"
	echo "round $r: $n sessions back, current"
	r=$((r + 1))
done
while read -r id; do
	ac session destroy "$id" >/dev/null 2>&1 || fail "destroy $id"
done <"$tmp/ids"
[ "$(metric aspaced_sessions)" = 0 ] || fail "aspaced_sessions $(metric aspaced_sessions) at the end"
kill -TERM "$pid"; wait "$pid"
echo "$rounds rounds, $failed failed"
[ "$failed" -eq 0 ]
