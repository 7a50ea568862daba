#!/bin/sh
# shellcheck disable=SC2015  # "A && ok || fail": ok never fails
# test-gen.sh: aspace gen, the random exercise: the same seed and options
# give the same bytes, the header's command makes the trace again, the
# generator is gen-trace's (the same commands after the header), --kinds
# keeps to its kinds, bad options are one line and status 2, and the
# trace runs (aspace gen | aspace run --local -).
ASPACE=${ASPACE:-client/aspace}
GEN_TRACE=${GEN_TRACE:-tests/linux-diff/gen-trace}
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# Determinism: twice the same options, byte for byte.
for opts in "--seed 42" "--seed 7 --ops 300" \
    "--seed 0x10 --kinds mmap,munmap,shm,msync --memlock --pageout-any" \
    "--seed 3 --swap --no-zero-page --ops 100"; do
	# shellcheck disable=SC2086
	"$ASPACE" gen $opts >"$tmp/a" && "$ASPACE" gen $opts >"$tmp/b" &&
	    cmp -s "$tmp/a" "$tmp/b" && ok || fail "gen $opts not the same twice"
done
# Another seed, another trace.
"$ASPACE" gen --seed 43 >"$tmp/c"
"$ASPACE" gen --seed 42 >"$tmp/a"
cmp -s "$tmp/a" "$tmp/c" && fail "seeds 42 and 43 gave the same" || ok

# Without --seed: one is drawn, and the header's command remakes it.
"$ASPACE" gen --ops 30 --kinds mmap,mprotect >"$tmp/drawn" || fail "gen"
cmd=$(sed -n '1s/^# aspace //p' "$tmp/drawn")
case $cmd in
"gen --seed "[0-9]*" --ops 30 --kinds mmap,mprotect") ok ;;
*) fail "header: '$cmd'" ;;
esac
# shellcheck disable=SC2086
"$ASPACE" $cmd >"$tmp/again" && cmp -s "$tmp/drawn" "$tmp/again" && ok ||
    fail "the header's command did not remake the trace"

# The generator is gen-trace's: the default kinds are its -a -t.
for s in 1 99 12345; do
	"$ASPACE" gen --seed $s --ops 40 | tail -n +3 >"$tmp/g1"
	"$GEN_TRACE" -a -t $s 40 | tail -n +2 >"$tmp/g2"
	cmp -s "$tmp/g1" "$tmp/g2" && ok || fail "seed $s differs from gen-trace -a -t"
done
"$ASPACE" gen --seed 5 --ops 60 --kinds mmap,munmap,mprotect,mremap,madvise,mlock,access,file,fork,msync,shm,swap \
    --no-zero-page --memlock --pageout-any | tail -n +3 >"$tmp/g1"
"$GEN_TRACE" -a -t -z -l -m -s -p -w 5 60 | tail -n +2 >"$tmp/g2"
cmp -s "$tmp/g1" "$tmp/g2" && ok || fail "every kind differs from gen-trace's every mode"

# --kinds: only those commands (and the window, files, dumps).
words() { grep -v '^#' "$1" | awk '{ print $1 }' | sort -u | tr '\n' ' '; }
"$ASPACE" gen --seed 8 --ops 500 --kinds mmap,munmap >"$tmp/k"
[ "$(words "$tmp/k")" = "file maps mmap munmap window " ] && ok ||
    fail "--kinds mmap,munmap gave: $(words "$tmp/k")"
"$ASPACE" gen --seed 8 --ops 500 --kinds munmap >"$tmp/k"
[ "$(grep -c '^munmap' "$tmp/k")" -ge 490 ] && ok || fail "--kinds munmap"
"$ASPACE" gen --seed 8 --ops 300 --kinds mlock,fork >"$tmp/k"
[ "$(words "$tmp/k")" = "exit file fork maps mlock mmap munlock switch thread window " ] &&
    ok || fail "--kinds mlock,fork gave: $(words "$tmp/k")"
"$ASPACE" gen --seed 8 --swap --no-zero-page --kinds mmap >"$tmp/k"
grep -v '^#' "$tmp/k" | sed -n 1p | grep -qx 'kernel zero_page off' &&
    grep -q '^kernel swap ' "$tmp/k" && ok || fail "--swap --no-zero-page"

# Bad options: one line on stderr naming the option, status 2.
bad() {
	want=$1
	shift
	"$ASPACE" gen "$@" >"$tmp/out" 2>"$tmp/err"
	st=$?
	if [ $st -eq 2 ] && [ ! -s "$tmp/out" ] &&
	    [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q -- "$want" "$tmp/err"; then
		ok
	else
		fail "gen $* -> $st: $(cat "$tmp/err")"
	fi
}
bad "unknown kind 'frob' in --kinds (valid: mmap, munmap, mprotect, mremap, madvise, mlock, access, file, fork, msync, shm, swap)" \
    --kinds mmap,frob
bad "unknown kind ''" --kinds mmap,
bad "bad --ops '0' (1 to 10000)" --ops 0
bad "bad --ops '10001'" --ops 10001
bad "bad --ops 'x'" --ops x
bad "bad --seed '-3'" --seed -3
bad "bad --seed '12z'" --seed 12z
bad "unknown option '--bogus'" --bogus
bad "option '--ops' needs a value" --ops
bad "unexpected argument 'extra'" extra

# The exercise runs, and gives the answers.
"$ASPACE" gen --seed 11 --ops 50 | "$ASPACE" run --local - >"$tmp/ans" &&
    grep -q '^[0-9]*: maps$\|^[0-9]*: smaps$' "$tmp/ans" && ok ||
    fail "aspace gen | aspace run --local -"
"$ASPACE" gen --seed 11 --ops 50 --kinds shm,swap,msync >"$tmp/ex.trace"
"$ASPACE" run --local "$tmp/ex.trace" >"$tmp/ans" && ok ||
    fail "aspace run --local on a gen --kinds shm,swap,msync trace"
"$ASPACE" gen --help | grep -q -- '--kinds LIST' && ok || fail "gen --help"

# docs/exercises.md shows what aspace gen prints for its example.
doc=${srcdir:-.}/docs/exercises.md
if [ -f "$doc" ]; then
	awk '/<!-- gen-example -->/ { on = 1; next }
	on && /^```$/ { if (++fence == 2) exit; next }
	on && !/^\$ / { print }' "$doc" >"$tmp/doc"
	"$ASPACE" gen --seed 2026 --ops 8 --kinds mmap,munmap,mprotect |
	    cmp -s - "$tmp/doc" && ok || fail "docs/exercises.md's example is stale"
fi

echo "test-gen: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
