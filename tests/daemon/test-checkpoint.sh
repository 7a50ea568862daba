#!/bin/sh
# test-checkpoint.sh: the state directory's session files (daemon/persist.c)
# against what an operator (or a disk) does to them:
#   1. a file copied under another session's name is set aside as
#      NAME.corrupt and not loaded (the name must be the id inside), so a
#      destroyed session does not come back through its copy;
#   2. an old file of a destroyed session put back (a replay, a backup) is
#      set aside as NAME.destroyed, not loaded (destroyed.ids);
#   3. restored sessions count in aspaced_sessions, _ram_bytes and
#      aspaced_frames_in_use like created ones: destroying them all leaves
#      0, not 2^64 - N;
#   4. a full state directory (a small tmpfs, filled up; root only, else
#      that part is skipped): the failure is counted
#      (aspaced_checkpoint_failures_total{reason="enospc"}), the oldest
#      unsaved change's age shows, STATUS= says "checkpoints failing:
#      ENOSPC since ...", the previous good file is kept as it was; once
#      space is freed the next interval saves, and after a kill -9 every
#      session is back with its latest change.
# Needs curl for the metrics (else exit 77) and python3 to capture
# sd_notify's datagrams (else the STATUS= check is skipped, said).
ASPACED=${ASPACED:-daemon/aspaced}
ASPACE=${ASPACE:-client/aspace}
command -v curl >/dev/null 2>&1 || { echo "SKIP: no curl"; exit 77; }
tmp=$(mktemp -d) || exit 99
pid= npid= mnt=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	[ -n "$npid" ] && kill "$npid" 2>/dev/null
	wait 2>/dev/null
	[ -n "$mnt" ] && umount "$mnt" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
state=$tmp/state
sessions=$state/sessions
failed=0

fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

start() {
	rm -f "$tmp/sock"
	: >"$tmp/daemon.err"
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
	[ -n "$url" ] || { echo "no metrics address"; cat "$tmp/daemon.err"; exit 99; }
}

stop() {
	kill -TERM "$pid"
	wait "$pid" || fail "aspaced exited with $? on SIGTERM"
	pid=
	! grep -E 'Sanitizer|runtime error' "$tmp/daemon.err" ||
	    fail "a sanitizer's report"
}

crash() {
	kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=
}

ac() {
	"$ASPACE" --connect "unix:$tmp/sock" "$@"
}

# A kept session that ran trace $1 (text): its id.
new_session() {
	printf '%b' "$1" >"$tmp/t"
	ac run --keep "$tmp/t" >/dev/null 2>"$tmp/e"
	sed -n 's/^aspace: kept session //p' "$tmp/e"
}

# Run trace $2 (text) in session $1; its output on stdout.
in_session() {
	printf '%b' "$2" >"$tmp/t"
	ac run --session "$1" --resume "$tmp/t" 2>&1
}

metric() {
	curl -s "$url/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

nlisted() {
	ac session list 2>/dev/null | grep -c .
}

# Wait (10 s at most) for the checkpoint thread to have saved id $1.
wait_file() {
	i=0
	while [ ! -e "$sessions/$1.ck" ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	sleep 0.5	# the changes after its first save too
}

MAP='mmap 0x200000000000 64K rw- private,anon,fixed\nwrite 0x200000001000 0x41\n'

# --- 1. a copy under another name -------------------------------------------
start
a=$(new_session "$MAP")
[ -n "$a" ] || { fail "no session kept"; cat "$tmp/e"; exit 1; }
wait_file "$a"
other=0123456789abcdef0123456789abcdef
cp "$sessions/$a.ck" "$sessions/$other.ck"
ac session destroy "$a" >/dev/null 2>&1 || fail "session destroy $a"
[ ! -e "$sessions/$a.ck" ] || fail "a destroyed session's file stays"
stop
start
n=$(nlisted)
[ "$n" -eq 0 ] || fail "1: a copy under another name loaded: $n sessions" \
    "(the destroyed $a is back)"
[ -e "$sessions/$other.ck.corrupt" ] || fail "1: the copy is not set aside as .corrupt"
grep -q "skipping $sessions/$other.ck: its name is not the id inside" \
    "$tmp/daemon.err" || fail "1: the mismatch is not said"
[ "$(metric 'aspaced_checkpoint_files_set_aside_total{reason="name"}')" = 1 ] ||
    fail "1: the file set aside is not counted"
rm -f "$sessions"/*.corrupt

# --- 2. an old file of a destroyed session put back -------------------------
b=$(new_session "$MAP")
wait_file "$b"
cp "$sessions/$b.ck" "$tmp/old-b.ck"
ac session destroy "$b" >/dev/null 2>&1 || fail "session destroy $b"
stop
cp "$tmp/old-b.ck" "$sessions/$b.ck"
start
n=$(nlisted)
[ "$n" -eq 0 ] || fail "2: a replayed file of destroyed $b came back ($n sessions)"
[ -e "$sessions/$b.ck.destroyed" ] || fail "2: the replayed file is not set aside"
rm -f "$sessions"/*.destroyed

# --- 3. restored sessions in the gauges --------------------------------------
ids=
for k in 1 2 3 4; do
	ids="$ids $(new_session "$MAP")"
done
for id in $ids; do wait_file "$id"; done
crash
start
[ "$(nlisted)" -eq 4 ] || fail "3: $(nlisted) sessions restored, want 4"
[ "$(metric aspaced_sessions)" = 4 ] ||
    fail "3: aspaced_sessions $(metric aspaced_sessions) after restoring 4"
[ "$(metric aspaced_sessions_restored_total)" = 4 ] ||
    fail "3: aspaced_sessions_restored_total $(metric aspaced_sessions_restored_total)"
for id in $ids; do
	ac session destroy "$id" >/dev/null 2>&1 || fail "session destroy $id"
done
for m in aspaced_sessions aspaced_sessions_ram_bytes aspaced_frames_in_use; do
	v=$(metric $m)
	[ "$v" = 0 ] || fail "3: $m is $v after destroying every restored session"
done
stop

# --- 4. a full disk -----------------------------------------------------------
rm -rf "$state"
mkdir -p "$state"
if ! mount -t tmpfs -o size=8m aspace-ckpt-test "$state" 2>/dev/null; then
	echo "SKIP: 4 (ENOSPC): cannot mount a tmpfs (not root?)"
	echo "$failed failed"
	[ "$failed" -eq 0 ] || exit 1
	exit 77
fi
mnt=$state
notify=
if command -v python3 >/dev/null 2>&1; then
	notify=$tmp/notify
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], "a")
while True:
    d = s.recv(65536)
    out.write(d.decode(errors="replace").replace("\n", " ") + "\n")
    out.flush()
' "$notify" "$tmp/notified" &
	npid=$!
	i=0
	while [ ! -S "$notify" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	NOTIFY_SOCKET=$notify
	export NOTIFY_SOCKET
else
	echo "NOTE: no python3: STATUS= not checked"
fi
start
ids=
for k in 1 2 3; do
	ids="$ids $(new_session "$MAP")"
done
for id in $ids; do wait_file "$id"; done
set -- $ids
cp "$sessions/$1.ck" "$tmp/good.ck"
# Fill the file system, then change every session.
dd if=/dev/zero of="$state/fill" bs=64k 2>/dev/null
for id in $ids; do
	in_session "$id" 'mmap 0x200000100000 1M rw- private,anon,fixed\nwrite 0x200000100000 0x42\nwrite 0x200000180000 0x43\n' >/dev/null
done
sleep 1.5
v=$(metric 'aspaced_checkpoint_failures_total{reason="enospc"}')
[ -n "$v" ] && [ "$v" -gt 0 ] || fail "4: ENOSPC not counted ($v)"
v=$(metric aspaced_checkpoint_oldest_unsaved_seconds)
[ -n "$v" ] && [ "$v" -ge 1 ] || fail "4: oldest unsaved change ${v}s"
cmp -s "$tmp/good.ck" "$sessions/$1.ck" || fail "4: the previous good file changed"
ls -a "$sessions" | grep -q '\.tmp$' && fail "4: a temporary file stays"
if [ -n "$notify" ]; then
	sleep 1.2	# STATUS= is looked at every second
	grep -q 'STATUS=.*checkpoints failing: ENOSPC since ' "$tmp/notified" ||
	    { fail "4: STATUS= does not say ENOSPC"; tail -3 "$tmp/notified"; }
fi
rm -f "$state/fill"
sleep 1.5
v=$(metric aspaced_checkpoint_oldest_unsaved_seconds)
[ "$v" = 0 ] || { fail "4: still unsaved after freeing space (${v}s)"; tail -5 "$tmp/daemon.err"; df "$state"; ls -la "$sessions"; }
if [ -n "$notify" ]; then
	tail -1 "$tmp/notified" | grep -q 'checkpoints failing' &&
	    fail "4: STATUS= still says failing"
fi
crash
unset NOTIFY_SOCKET
start
n=$(nlisted)
[ "$n" -eq 3 ] || fail "4: $n sessions after the restart, want 3"
for id in $ids; do
	out=$(in_session "$id" 'read 0x200000180000\n')
	echo "$out" | grep -q '0x43' || fail "4: $id not current after the restart: $out"
done
stop

echo "$failed failed"
[ "$failed" -eq 0 ]
