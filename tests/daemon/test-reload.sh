#!/bin/sh
# test-reload.sh: SIGHUP reads aspaced.conf again.  A limit lowered or
# raised in the file holds for the next request, without a restart; a
# file with an error is refused with its file and line, and the daemon
# goes on with the configuration it had; the sessions made meanwhile stay.
ASPACED=${ASPACED:-daemon/aspaced}
ASPACE=${ASPACE:-client/aspace}
tmp=$(mktemp -d) || exit 99
pid=
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
failed=0
fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}
create() {
	"$ASPACE" --connect "unix:$tmp/sock" session create >/dev/null 2>&1
}
reload() {
	: >"$tmp/err.new"
	kill -HUP "$pid"
	i=0
	while ! grep -q "reload" "$tmp/err" && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	sleep 0.1
}

cat >"$tmp/conf" <<EOF
listen unix:$tmp/sock
state-directory none
max-sessions 2
EOF
"$ASPACED" --config "$tmp/conf" >"$tmp/out" 2>"$tmp/err" &
pid=$!
i=0
while [ ! -S "$tmp/sock" ] && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
[ -S "$tmp/sock" ] || { echo "aspaced did not start"; cat "$tmp/err"; exit 99; }

create || fail "first session"
create || fail "second session"
create && fail "a third session over max-sessions 2"

sed 's/^max-sessions 2$/max-sessions 3/' "$tmp/conf" >"$tmp/conf.new" &&
    mv "$tmp/conf.new" "$tmp/conf"
reload
grep -q "reloaded" "$tmp/err" || fail "no 'reloaded' after SIGHUP"
create || fail "a third session after max-sessions 3 and SIGHUP"
create && fail "a fourth session over max-sessions 3"

: >"$tmp/err"
echo "max-sessions 9" >>"$tmp/conf"
reload
grep -q "reload refused: $tmp/conf:4: max-sessions: given twice (first on line 3)" \
    "$tmp/err" || { fail "a bad file is not refused with its line"; cat "$tmp/err"; }
kill -0 "$pid" 2>/dev/null || fail "aspaced died on a bad reload"
create && fail "the refused file's limit took effect"
n=$("$ASPACE" --connect "unix:$tmp/sock" session list 2>/dev/null | grep -c .)
[ "$n" -eq 3 ] || fail "$n sessions listed after the reloads, want 3"

kill -TERM "$pid"
wait "$pid" || fail "exit status $? after SIGTERM"
pid=
echo "$failed failed"
[ "$failed" -eq 0 ]
