#!/bin/sh
# test-restart.sh: sessions survive restarts of aspaced.  Every trace of
# the differential corpus and the examples runs its first half in a kept
# session; aspaced is restarted; the second half resumes in the same
# session; the two outputs together equal `aspace run --local` of the
# whole trace.  Done twice: with a graceful stop (SIGTERM saves every
# session) and with kill -9 after a periodic checkpoint.  Then: a
# corrupt and a truncated session file are reported, set aside, and do
# not stop start-up; a destroyed session's file is gone.
ASPACED=${ASPACED:-daemon/aspaced}
ASPACE=${ASPACE:-client/aspace}
srcdir=${srcdir:-.}
tmp=$(mktemp -d) || exit 99
pid=
trap 'kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
state=$tmp/state
failed=0

start() {
	rm -f "$tmp/sock"
	"$ASPACED" --listen "unix:$tmp/sock" --state-directory "$state" \
	    --checkpoint-interval 200ms --max-sessions 200 --ram-total 512G --foreground \
	    >>"$tmp/daemon.out" 2>>"$tmp/daemon.err" &
	pid=$!
	i=0
	while [ ! -S "$tmp/sock" ] && [ $i -lt 400 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	[ -S "$tmp/sock" ] || { echo "aspaced did not start"; cat "$tmp/daemon.err"; exit 99; }
}

fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

# The first half of every trace, each in a session of its own.
first_halves() {
	n=0
	: >"$tmp/sessions"
	for t in "$srcdir"/tests/linux-diff/traces/*.trace "$srcdir"/docs/examples/*.trace; do
		n=$((n + 1))
		lines=$(wc -l <"$t")
		half=$((lines / 2))
		head -n "$half" "$t" >"$tmp/a.$n"
		tail -n +"$((half + 1))" "$t" >"$tmp/b.$n"
		"$ASPACE" run --local "$t" >"$tmp/want.$n" 2>&1
		"$ASPACE" --connect "unix:$tmp/sock" run --keep "$tmp/a.$n" \
		    >"$tmp/got.$n" 2>"$tmp/err.$n"
		id=$(sed -n 's/^aspace: kept session //p' "$tmp/err.$n")
		[ -n "$id" ] || { fail "$t: no session kept"; cat "$tmp/err.$n"; }
		echo "$n $id $t" >>"$tmp/sessions"
	done
}

second_halves() {
	what=$1
	while read -r n id t; do
		"$ASPACE" --connect "unix:$tmp/sock" run --session "$id" \
		    --resume "$tmp/b.$n" >>"$tmp/got.$n" 2>"$tmp/err.$n"
		if ! cmp -s "$tmp/want.$n" "$tmp/got.$n"; then
			fail "$t differs after a restart ($what)"
			diff "$tmp/want.$n" "$tmp/got.$n" | head -5
		fi
	done <"$tmp/sessions"
}

# Wait until the checkpoint thread has written every session.
wait_checkpoint() {
	want=$(wc -l <"$tmp/sessions")
	i=0
	while [ $i -lt 200 ]; do
		have=$(ls "$state/sessions" | grep -c '\.ck$')
		tmps=$(ls -a "$state/sessions" | grep -c '\.tmp$')
		[ "$have" -ge "$want" ] && [ "$tmps" -eq 0 ] && break
		sleep 0.1
		i=$((i + 1))
	done
	sleep 0.6	# three intervals: the last changes are saved too
}

# 1. A graceful stop.
start
first_halves
kill -TERM "$pid"
wait "$pid" || fail "aspaced exited with $? on SIGTERM"
start
second_halves "SIGTERM"
kill -TERM "$pid"; wait "$pid"
rm -rf "$state"

# 2. kill -9 after a checkpoint.
start
first_halves
wait_checkpoint
kill -9 "$pid"; wait "$pid" 2>/dev/null
start
second_halves "kill -9"
grep -q "sessions restored" "$tmp/daemon.err" || fail "no 'restored' line"

# 3. Destroy one session: its file goes.  Corrupt and truncate two others.
set -- $(sed -n 1p "$tmp/sessions")
"$ASPACE" --connect "unix:$tmp/sock" session destroy "$2" >/dev/null 2>&1 ||
    fail "session destroy $2"
[ ! -e "$state/sessions/$2.ck" ] || fail "a destroyed session's file stays"
kill -TERM "$pid"; wait "$pid"
set -- $(sed -n 2p "$tmp/sessions")
f2=$state/sessions/$2.ck
printf 'X' | dd of="$f2" bs=1 seek=100 conv=notrunc 2>/dev/null
set -- $(sed -n 3p "$tmp/sessions")
f3=$state/sessions/$2.ck
head -c 200 "$f3" >"$tmp/trunc" && mv "$tmp/trunc" "$f3"
: >"$tmp/daemon.err"
start
grep -q "skipping $f2: checksum" "$tmp/daemon.err" || fail "corrupt file not reported"
grep -q "skipping $f3: checksum" "$tmp/daemon.err" || fail "truncated file not reported"
[ -e "$f2.corrupt" ] && [ -e "$f3.corrupt" ] || fail "bad files not set aside"
want=$(($(wc -l <"$tmp/sessions") - 3))
got=$("$ASPACE" --connect "unix:$tmp/sock" session list 2>/dev/null | grep -c .)
[ "$got" -eq "$want" ] || fail "$got sessions listed after restart, want $want"
kill -TERM "$pid"; wait "$pid"

echo "$(wc -l <"$tmp/sessions") traces, $failed failed"
[ "$failed" -eq 0 ]
