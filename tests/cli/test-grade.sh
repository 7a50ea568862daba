#!/bin/sh
# test-grade.sh: aspace grade from the command line (docs/grading.md):
# usage errors (2), a graded pair (0 whatever the score) in text, --json
# and --gradescope (every field Gradescope's specification documents:
# score, max_score, output, tests[] of name, score, max_score, output,
# visibility; --visibility), answer files refused (2, a clear message,
# every item missing), a malformed "# points:", missing and extra lines;
# then, with an aspaced of its own, the same through the daemon (the
# same output as --local), --batch (CSV, statistics, --jobs, a missing
# answer file) and a trace over the daemon's line limit.
ASPACE=${ASPACE:-client/aspace}
ASPACED=${ASPACED:-daemon/aspaced}
tmp=$(mktemp -d) || exit 99
dpid=
trap '[ -z "$dpid" ] || { kill "$dpid"; wait "$dpid"; }; rm -rf "$tmp"' EXIT
passed=0
failed=0

# expect STATUS PATTERN -- ARGS...: run aspace grade, check the status
# and stderr and stdout for PATTERN (a grep -E pattern), unless empty.
expect() {
	want=$1 pat=$2
	shift 3
	"$ASPACE" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	st=$?
	if [ "$st" -eq "$want" ] && { [ -z "$pat" ] ||
	    grep -q -E -- "$pat" "$tmp/err" "$tmp/out"; }; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: aspace $* -> status $st (want $want, /$pat/)"
		cat "$tmp/err" "$tmp/out" | head -20
	fi
}

# ok WHAT COMMAND...: the command succeeds.
ok() {
	what=$1
	shift
	if "$@" >/dev/null 2>&1; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: $what"
	fi
}

cat >"$tmp/lab.trace" <<'T'
# a lab
window 0x200000000000 0x100000
mmap 0x200000000000 8K rw- private,anon,fixed   # points: 2
write 0x200000000000 0x11
fork                                            # points: 0
write 0x200000000000 0x22                       # points: 3
mprotect 0x200000001000 4K r--
maps
T
"$ASPACE" run --local "$tmp/lab.trace" >"$tmp/key.out" || exit 99
# A student: line 5 missing, line 6 wrong, maps missed the split, an
# extra line 20, a comment, CRLF.
sed -e '/^5:/d' -e 's/^6: = ok/6: SIGSEGV SEGV_ACCERR/' \
    -e 's/^  200000000000-200000001000 rw-p 00000000$/  200000000000-200000002000 rw-p 00000000/' \
    -e '/^  200000001000-200000002000/d' "$tmp/key.out" |
    sed 's/$/\r/' >"$tmp/s.out"
printf '# done\r\n20: = 0\r\n' >>"$tmp/s.out"

# Usage.
expect 2 "usage: aspace grade" -- grade
expect 2 "pairs needed" -- grade --local "$tmp/lab.trace"
expect 2 "exclude each other" -- grade --local --json --gradescope "$tmp/lab.trace" "$tmp/s.out"
expect 2 "visibility is for --gradescope" -- grade --local --visibility hidden "$tmp/lab.trace" "$tmp/s.out"
expect 2 "--visibility: visible, hidden" -- grade --local --gradescope --visibility secret "$tmp/lab.trace" "$tmp/s.out"
expect 2 "--csv is for --batch" -- grade --local --csv x "$tmp/lab.trace" "$tmp/s.out"
expect 2 "--jobs: 1 to 64" -- grade --local --batch --jobs 0 "$tmp" "$tmp"
expect 0 "usage: aspace grade" -- grade --help
expect 2 "No such file" -- grade --local "$tmp/none.trace" "$tmp/s.out"
expect 2 "No such file" -- grade --local "$tmp/lab.trace" "$tmp/none.out"

# Text: the score, each verdict, the why.
expect 0 "lab.trace \(.*s.out\): 5/9" -- grade --local "$tmp/lab.trace" "$tmp/s.out"
expect 0 "line 5: missing 0/0  fork" -- grade --local "$tmp/lab.trace" "$tmp/s.out"
expect 0 "line 6: wrong   0/3  write 0x200000000000 0x22$" -- grade --local "$tmp/lab.trace" "$tmp/s.out"
expect 0 "why: fault path: .*do_wp_page: copied frame" -- grade --local "$tmp/lab.trace" "$tmp/s.out"
expect 0 "missed split: 200000000000-200000002000 is 2 VMAs" -- grade --local "$tmp/lab.trace" "$tmp/s.out"
expect 0 "at 200000001000: their permissions differ \(rw-p, r--p\)" -- grade --local "$tmp/lab.trace" "$tmp/s.out"
expect 0 "1 answer line for no item" -- grade --local "$tmp/lab.trace" "$tmp/s.out"
ok "no colour off a terminal" sh -c "! grep -q \"$(printf '\033')\" '$tmp/out'"
expect 0 "^  line 4: right" -- grade --local "$tmp/lab.trace" "$tmp/key.out"
expect 0 "9/9" -- grade --local "$tmp/lab.trace" "$tmp/key.out"
expect 0 "total: 14/18" -- grade --local "$tmp/lab.trace" "$tmp/s.out" "$tmp/lab.trace" "$tmp/key.out"

# Refused answers: 2, the line and why, every item missing (0 points).
printf '1: = 0\nI think it segfaults\n' >"$tmp/bad.out"
expect 2 "bad.out: line 2: neither \"N: ...\"" -- grade --local "$tmp/lab.trace" "$tmp/bad.out"
expect 2 "0/9" -- grade --local "$tmp/lab.trace" "$tmp/bad.out"
printf '6: = ok\n2: = 0\n' >"$tmp/order.out"
expect 2 "line 2: \"2:\" after \"6:\"" -- grade --local "$tmp/lab.trace" "$tmp/order.out"
printf '  200000000000-200000001000 rw-p 00000000\n' >"$tmp/indent.out"
expect 2 "line 1: an indented line before any" -- grade --local "$tmp/lab.trace" "$tmp/indent.out"
printf '2: = 0\0\n' >"$tmp/nul.out"
expect 2 "line 1: a NUL byte" -- grade --local "$tmp/lab.trace" "$tmp/nul.out"
head -c 5000000 /dev/zero | tr '\0' 'x' >"$tmp/big.out"
expect 2 "larger than an answer file may be" -- grade --local "$tmp/lab.trace" "$tmp/big.out"
: >"$tmp/empty.out"
expect 0 "0/9" -- grade --local "$tmp/lab.trace" "$tmp/empty.out"
printf 'maps # points: lots\n' >"$tmp/pts.trace"
expect 2 "trace line 1: \"# points: K\" needs K a number" -- grade --local "$tmp/pts.trace" "$tmp/empty.out"

# JSON: one object per pair.
expect 0 '"score":5,"max_score":9,"extra_lines":1' -- grade --local --json "$tmp/lab.trace" "$tmp/s.out"
expect 0 '"line":6,"command":"write 0x200000000000 0x22                       # points: 3","verdict":"wrong","points":0,"max_points":3' -- grade --local --json "$tmp/lab.trace" "$tmp/s.out"
expect 0 '"verdict":"missing"' -- grade --local --json "$tmp/lab.trace" "$tmp/s.out"
expect 2 '"error":".*bad.out: line 2' -- grade --local --json "$tmp/lab.trace" "$tmp/bad.out"

# Gradescope: the documented fields, their types, the visibility.
expect 0 '"max_score": 9' -- grade --local --gradescope "$tmp/lab.trace" "$tmp/s.out"
cp "$tmp/out" "$tmp/results.json"
if command -v python3 >/dev/null 2>&1; then
	ok "results.json has Gradescope's fields" python3 - "$tmp/results.json" <<'P'
import json, sys
r = json.load(open(sys.argv[1]))
assert isinstance(r["score"], (int, float)) and r["score"] == 5
assert r["max_score"] == 9
assert isinstance(r["output"], str) and "lab.trace: 5/9" in r["output"]
assert isinstance(r["tests"], list) and len(r["tests"]) == 7
for t in r["tests"]:
    assert set(t) >= {"name", "score", "max_score", "output", "visibility"}
    assert isinstance(t["name"], str) and isinstance(t["output"], str)
    assert 0 <= t["score"] <= t["max_score"]
    assert t["visibility"] == "visible"
    assert t["status"] in ("passed", "failed")
assert sum(t["score"] for t in r["tests"]) == r["score"]
assert sum(t["max_score"] for t in r["tests"]) == r["max_score"]
w = [t for t in r["tests"] if t["name"].endswith("line 6: write 0x200000000000 0x22")][0]
assert w["score"] == 0 and w["max_score"] == 3 and "do_wp_page" in w["output"]
P
else
	for f in '"score": 5' '"output": "lab.trace: 5/9' '"tests": \[' \
	    '"name": "lab.trace line 6: write 0x200000000000 0x22"' \
	    '"visibility": "visible"'; do
		ok "results.json: $f" grep -q -E "$f" "$tmp/results.json"
	done
fi
expect 0 '"visibility": "after_due_date"' -- grade --local --gradescope --visibility after_due_date "$tmp/lab.trace" "$tmp/s.out"
ok "--visibility at the top too" sh -c "[ \$(grep -c '\"visibility\": \"after_due_date\"' '$tmp/out') -eq 8 ]"

# Through a daemon of this test's own: the same as --local.
"$ASPACED" --listen "unix:$tmp/sock" --state-directory none --config /dev/null \
    --trace-line-limit 50 --foreground >"$tmp/daemon.out" 2>"$tmp/daemon.err" &
dpid=$!
i=0
while [ ! -S "$tmp/sock" ] && [ $i -lt 400 ]; do
	sleep 0.05
	i=$((i + 1))
done
[ -S "$tmp/sock" ] || { echo "aspaced did not start"; cat "$tmp/daemon.err"; exit 99; }
ASPACE_URL=unix:$tmp/sock; export ASPACE_URL
for mode in "" --json --gradescope; do
	"$ASPACE" grade --local $mode "$tmp/lab.trace" "$tmp/s.out" >"$tmp/l" 2>&1
	"$ASPACE" grade $mode "$tmp/lab.trace" "$tmp/s.out" >"$tmp/d" 2>&1
	ok "grade $mode: the daemon's and --local's agree" cmp "$tmp/l" "$tmp/d"
done
expect 2 "bad.out: line 2: neither" -- grade "$tmp/lab.trace" "$tmp/bad.out"
awk 'BEGIN { for (i = 0; i < 60; i++) print "window 0x200000000000 0x1000" }' >"$tmp/long.trace"
expect 2 "line limit.*at line 51" -- grade "$tmp/long.trace" "$tmp/empty.out"

# --batch: KEYDIR/NAME.trace, SUBS/STUDENT/NAME.out.
mkdir -p "$tmp/key" "$tmp/subs/ann" "$tmp/subs/ben" "$tmp/subs/cy,d"
cp "$tmp/lab.trace" "$tmp/key/lab.trace"
printf 'window 0x200000000000 0x1000\nmaps # points: 2\n' >"$tmp/key/two.trace"
cp "$tmp/key.out" "$tmp/subs/ann/lab.out"
printf '1: = 0\n2: maps\n' >"$tmp/subs/ann/two.out"
cp "$tmp/s.out" "$tmp/subs/ben/lab.out"
cp "$tmp/bad.out" "$tmp/subs/ben/two.out"
expect 0 "^student,lab,two,total$" -- grade --batch --jobs 3 "$tmp/key" "$tmp/subs"
ok "CSV rows" grep -q -x -e '(max),9,3,12' "$tmp/out"
ok "CSV ann" grep -q -x -e 'ann,9,3,12' "$tmp/out"
ok "CSV ben" grep -q -x -e 'ben,5,0,5' "$tmp/out"
ok "CSV quoting" grep -q -x -e '"cy,d",0,0,0' "$tmp/out"
ok "statistics" grep -q -E ' 66%  2/3  two line 1 ' "$tmp/out"
ok "statistics: shares" grep -q -E ' 66%  2/3  lab line 6 \(3 points\): write 0x200000000000 0x22$' "$tmp/out"
ok "refused answers said" grep -q "ben/two.out: line 2" "$tmp/err"
ok "missing file said" grep -q "cy,d/lab.out: no such file" "$tmp/err"
ok "no progress bar off a terminal" sh -c "! grep -q grading '$tmp/err'"
expect 0 '"students":3,"items":\[' -- grade --batch --json --csv "$tmp/s.csv" "$tmp/key" "$tmp/subs"
ok "--csv FILE" grep -q -x -e 'ann,9,3,12' "$tmp/s.csv"
"$ASPACE" grade --batch --local --csv "$tmp/l.csv" "$tmp/key" "$tmp/subs" >/dev/null 2>&1
ok "--batch --local agrees" cmp "$tmp/s.csv" "$tmp/l.csv"
expect 2 "no NAME.trace" -- grade --batch "$tmp/subs" "$tmp/subs"
expect 2 "No such file" -- grade --batch "$tmp/none" "$tmp/subs"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
