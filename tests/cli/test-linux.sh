#!/bin/sh
# shellcheck disable=SC2015  # "A && ok || fail": ok never fails
# test-linux.sh: aspace run --linux (a trace on this machine's kernel,
# through the reference runner) and run --compare (both side by side):
# --linux gives the simulator's output where they agree, --compare exits
# 0 when they agree and 1 when they differ (a simulator-only --kernel
# limit, a `kernel` line the host is not as), with its table, its first
# difference and its notes in the documented format; option clashes are
# one line and status 2.  Skipped (77) where the runner cannot run: not
# Linux x86-64, or the runner fails its probe.
ASPACE=${ASPACE:-client/aspace}
ASPACED=${ASPACED:-daemon/aspaced}
tmp=$(mktemp -d) || exit 99
dpid=
trap '[ -z "$dpid" ] || { kill "$dpid"; wait "$dpid"; }; rm -rf "$tmp"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

if [ "$(uname -s)" != Linux ] || [ "$(uname -m)" != x86_64 ]; then
	"$ASPACE" run --linux /dev/null 2>"$tmp/err"
	[ $? -eq 2 ] && grep -q "needs a Linux x86-64 host" "$tmp/err" || exit 1
	echo "test-linux: not Linux x86-64: only the refusal checked"
	exit 77
fi
printf '%s\n' 'window 0x200000000000 0x10000000' \
    'mmap 0x200000000000 4K rw- private,anon,fixed' \
    'write 0x200000000010 0x2a' 'read 0x200000000010' maps >"$tmp/small.trace"
if ! "$ASPACE" run --linux "$tmp/small.trace" >"$tmp/probe" 2>&1; then
	echo "test-linux: the reference runner does not work here:"
	cat "$tmp/probe"
	exit 77
fi
rel=$(uname -r)

# --linux: the golden answer, which the simulator gives too.
cat >"$tmp/small.gold" <<'GOLD'
1: = 0
2: = 0x200000000000
3: = ok
4: = 0x2a
5: maps
  200000000000-200000001000 rw-p 00000000
GOLD
cmp -s "$tmp/probe" "$tmp/small.gold" && ok || fail "run --linux: $(cat "$tmp/probe")"
"$ASPACE" run --local "$tmp/small.trace" | cmp -s - "$tmp/probe" && ok ||
    fail "run --linux differs from run --local"
"$ASPACE" run --linux - <"$tmp/small.trace" | cmp -s - "$tmp/small.gold" &&
    ok || fail "run --linux - (standard input)"
"$ASPACE" run --linux --annotate "$tmp/small.trace" | grep -qx '# 4: read 0x200000000010' &&
    ok || fail "run --linux --annotate"

# --compare, agreeing: status 0 and the exact table.
"$ASPACE" run --compare --local "$tmp/small.trace" >"$tmp/out" 2>"$tmp/err"
st=$?
sed "s/RELEASE/$rel/" >"$tmp/want" <<'WANT'
  line  command / simulator                       | Linux RELEASE
     1  window 0x200000000000 0x10000000
        = 0                                       | = 0
     2  mmap 0x200000000000 4K rw- private,anon,fixed
        = 0x200000000000                          | = 0x200000000000
     3  write 0x200000000010 0x2a
        = ok                                      | = ok
     4  read 0x200000000010
        = 0x2a                                    | = 0x2a
     5  maps
        maps                                      | maps
          200000000000-200000001000 rw-p 00000000 |   200000000000-200000001000 rw-p 00000000
identical: the simulator and Linux agree on all 6 output lines
WANT
[ $st -eq 0 ] && cmp -s "$tmp/out" "$tmp/want" && ok ||
    { fail "run --compare (agreeing) -> $st"; diff "$tmp/want" "$tmp/out"; }

# --compare, differing for real: the simulator alone with a low
# max_map_count (its process has its image's VMAs too), so the fifth
# mmap fails there and not on the host.
{
	echo 'window 0x200000000000 0x10000000'
	for a in 0 2 4 6 8; do
		echo "mmap 0x20000000${a}000 4K rw- private,anon,fixed"
	done
	echo maps
} >"$tmp/five.trace"
"$ASPACE" run --compare --local --kernel max_map_count=12 "$tmp/five.trace" \
    >"$tmp/out" 2>"$tmp/err"
st=$?
sed "s/RELEASE/$rel/" >"$tmp/want" <<'WANT'
*    6  mmap 0x200000008000 4K rw- private,anon,fixed
*       = -ENOMEM                                 | = 0x200000008000
*    7  maps
        maps                                      | maps
          200000000000-200000001000 rw-p 00000000 |   200000000000-200000001000 rw-p 00000000
          200000002000-200000003000 rw-p 00000000 |   200000002000-200000003000 rw-p 00000000
          200000004000-200000005000 rw-p 00000000 |   200000004000-200000005000 rw-p 00000000
          200000006000-200000007000 rw-p 00000000 |   200000006000-200000007000 rw-p 00000000
*                                                 |   200000008000-200000009000 rw-p 00000000
first difference: line 6: mmap 0x200000008000 4K rw- private,anon,fixed
  simulator: 6: = -ENOMEM
  Linux:     6: = 0x200000008000
note: --kernel max_map_count=12 set the simulator's kernel only; the host runs as it is
WANT
[ $st -eq 1 ] && tail -n 13 "$tmp/out" | cmp -s - "$tmp/want" && ok ||
    { fail "run --compare (differing) -> $st"; diff "$tmp/want" "$tmp/out"; }
"$ASPACE" run --compare --local "$tmp/five.trace" >/dev/null && ok ||
    fail "run --compare without --kernel should agree"

# A kernel line the host is not as: the runner says so, and a note too.
host=$(cat /proc/sys/vm/max_map_count 2>/dev/null)
[ "$host" = 77 ] && other=78 || other=77
{ echo "kernel max_map_count $other"; cat "$tmp/small.trace"; } >"$tmp/kl.trace"
"$ASPACE" run --compare --local "$tmp/kl.trace" >"$tmp/out" 2>&1
st=$?
[ $st -eq 1 ] && grep -qx "  Linux:     1: ! error: host kernel differs: max_map_count" "$tmp/out" &&
    grep -q "^note: line 1: this host's kernel is not as .kernel max_map_count $other. says" "$tmp/out" &&
    ok || { fail "kernel line the host is not as -> $st"; cat "$tmp/out"; }

# A mapping Linux placed outside the window (a hint is only a hint: here
# the simulator fails it, as above, and Linux takes it): a note.
sed 's/^mmap 0x200000008000 4K rw- private,anon,fixed$/mmap 0x100000000000 4K rw- private,anon/' \
    "$tmp/five.trace" >"$tmp/out.trace"
"$ASPACE" run --compare --local --kernel max_map_count=12 "$tmp/out.trace" >"$tmp/out" 2>&1
st=$?
[ $st -eq 1 ] && grep -q "^note: line 6: Linux placed the mapping at 0x100000000000, outside the window" "$tmp/out" &&
    ok || { fail "a mapping outside the window -> $st"; cat "$tmp/out"; }

# A host without the zero page (this one may have it: a runner that says
# so for the probe alone, the real one for the trace): on a difference,
# a note, unless the trace or --kernel sets the zero page.
real=${ASPACE_REF_RUN:-}
if [ -n "$real" ]; then
	cat >"$tmp/nozp-runner" <<RUNNER
#!/bin/sh
if [ "\$(cat "\$1")" = "kernel zero_page on" ]; then
	echo "1: ! error: host kernel differs: zero_page"
	exit 1
fi
exec "$real" "\$@"
RUNNER
	chmod +x "$tmp/nozp-runner"
	ASPACE_REF_RUN=$tmp/nozp-runner "$ASPACE" run --compare --local \
	    --kernel max_map_count=12 "$tmp/five.trace" >"$tmp/out" 2>&1
	grep -q "^note: this host's kernel maps no shared zero page" "$tmp/out" &&
	    ok || { fail "no zero page note"; cat "$tmp/out"; }
	ASPACE_REF_RUN=$tmp/nozp-runner "$ASPACE" run --compare --local \
	    --kernel max_map_count=12 --kernel zero_page=on "$tmp/five.trace" >"$tmp/out" 2>&1
	grep -q "zero page" "$tmp/out" && fail "zero page note with --kernel zero_page" || ok
fi

# Several traces: a header each, and the worst status.
"$ASPACE" run --compare --local "$tmp/small.trace" "$tmp/kl.trace" >"$tmp/out" 2>&1
st=$?
[ $st -eq 1 ] && [ "$(grep -c '^==> .* <==$' "$tmp/out")" -eq 2 ] && ok ||
    fail "two traces -> $st"

# Through a daemon of this test's own: the same table, the same status.
"$ASPACED" --listen "unix:$tmp/sock" --state-directory "$tmp/state" \
    --foreground >"$tmp/daemon.out" 2>"$tmp/daemon.err" &
dpid=$!
i=0
while [ ! -S "$tmp/sock" ] && [ $i -lt 400 ]; do
	sleep 0.05
	i=$((i + 1))
done
"$ASPACE" run --compare --local --kernel max_map_count=12 "$tmp/five.trace" >"$tmp/local" 2>&1
"$ASPACE" --connect "unix:$tmp/sock" run --compare --kernel max_map_count=12 \
    "$tmp/five.trace" >"$tmp/daemon" 2>&1
st=$?
[ $st -eq 1 ] && cmp -s "$tmp/local" "$tmp/daemon" && ok ||
    { fail "run --compare through aspaced -> $st"; diff "$tmp/local" "$tmp/daemon"; }
"$ASPACE" --connect "unix:$tmp/sock" run --compare "$tmp/small.trace" >/dev/null 2>&1 &&
    ok || fail "run --compare through aspaced (agreeing)"

# Clashes and errors: one line, status 2.
bad() {
	want=$1
	shift
	"$ASPACE" run "$@" >"$tmp/out" 2>"$tmp/err"
	st=$?
	[ $st -eq 2 ] && grep -q -- "$want" "$tmp/err" && ok ||
	    fail "run $* -> $st: $(cat "$tmp/err")"
}
bad "run --linux runs the host kernel" --linux --local "$tmp/small.trace"
bad "run --linux runs the host kernel" --linux --kernel zero_page=off "$tmp/small.trace"
bad "--linux and --compare exclude each other" --linux --compare "$tmp/small.trace"
bad "run --compare makes its own table" --compare --json "$tmp/small.trace"
bad "no-such.trace" --compare --local "$tmp/no-such.trace"
bad "no-such.trace" --linux "$tmp/no-such.trace"
ASPACE_REF_RUN=$tmp/no-such-runner
export ASPACE_REF_RUN
bad "cannot run the Linux reference runner $tmp/no-such-runner" --linux "$tmp/small.trace"
unset ASPACE_REF_RUN

echo "test-linux: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
