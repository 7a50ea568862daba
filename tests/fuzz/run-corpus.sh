#!/bin/sh
# run-corpus.sh: run the fuzz target over every seed in tests/fuzz/corpus
# (and, when FUZZ_ANSWERS is set, fuzz_answers over every seed in
# tests/fuzz/answers-corpus, the grader's).
#
# Each file is run by itself ("$FUZZ_TRACE" FILE, the replay main() of
# fuzz_trace), so a crash, a sanitizer report or an mm_validate() abort
# (debug builds) names its input.  Exit status is what output does not
# matter: only a process that dies or exits non-zero fails.
#
# Environment: FUZZ_TRACE (the fuzz_trace binary), srcdir (where tests/
# is, or this directory).  Exit status: 0 if all passed, 1 on a failure,
# 99 on a setup error.

set -u

srcdir=${srcdir:-.}
if [ -d "$srcdir/tests/fuzz/corpus" ]; then
	dir=$srcdir/tests/fuzz/corpus
elif [ -d "$srcdir/corpus" ]; then
	dir=$srcdir/corpus
else
	echo "run-corpus: cannot find corpus/ under srcdir=$srcdir" >&2
	exit 99
fi
if [ -z "${FUZZ_TRACE:-}" ]; then
	echo "run-corpus: FUZZ_TRACE is not set" >&2
	exit 99
fi

# Guard against a hang, where timeout(1) exists.
if command -v timeout >/dev/null 2>&1; then
	tmo="timeout 60"
else
	tmo=""
fi

err=$(mktemp "${TMPDIR:-/tmp}/run-corpus.XXXXXX") || exit 99
trap 'rm -f "$err"' EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
# run_dir BINARY DIR: each file of DIR through BINARY.
run_dir() {
	for f in "$2"/*; do
		[ -f "$f" ] || continue
		$tmo "$1" "$f" >/dev/null 2>"$err"
		status=$?
		if [ "$status" -eq 0 ]; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
			echo "FAIL: $f (exit status $status)"
			sed 's/^/  /' "$err" | head -n 40
		fi
	done
}
run_dir "$FUZZ_TRACE" "$dir"
if [ -n "${FUZZ_ANSWERS:-}" ] && [ -d "$dir/../answers-corpus" ]; then
	run_dir "$FUZZ_ANSWERS" "$dir/../answers-corpus"
fi

if [ $((passed + failed)) -eq 0 ]; then
	echo "run-corpus: no seeds in $dir" >&2
	exit 99
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
