#!/bin/sh
# test-corpus.sh: the whole differential corpus through a real aspaced
# gives the same output, byte for byte, as `aspace run --local`.
ASPACED=${ASPACED:-daemon/aspaced}
ASPACE=${ASPACE:-client/aspace}
srcdir=${srcdir:-.}
tmp=$(mktemp -d) || exit 99
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
"$ASPACED" --listen "unix:$tmp/sock" --foreground >"$tmp/daemon.out" 2>&1 &
pid=$!
i=0
while [ ! -S "$tmp/sock" ] && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
[ -S "$tmp/sock" ] || { echo "aspaced did not start"; cat "$tmp/daemon.out"; exit 99; }
passed=0
failed=0
for t in "$srcdir"/tests/linux-diff/traces/*.trace "$srcdir"/docs/examples/*.trace; do
	"$ASPACE" run --local "$t" >"$tmp/local" 2>&1
	"$ASPACE" --connect "unix:$tmp/sock" run "$t" >"$tmp/daemon" 2>&1
	if cmp -s "$tmp/local" "$tmp/daemon"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: $t differs through the daemon"
		diff "$tmp/local" "$tmp/daemon" | head -5
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
