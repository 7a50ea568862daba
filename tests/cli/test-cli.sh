#!/bin/sh
# test-cli.sh: the aspace command's answers to good and bad invocations:
# exit status 0 for a clean trace, 1 for a trace with "! error" lines, 2
# for usage and I/O errors, each with a message on stderr.  Then, with
# an aspaced of its own, aspace check of sessions in several states, and
# the kernel parameters: --kernel, aspace kernel, a trace's kernel lines.
ASPACE=${ASPACE:-client/aspace}
ASPACED=${ASPACED:-daemon/aspaced}
tmp=$(mktemp -d) || exit 99
dpid=
trap '[ -z "$dpid" ] || { kill "$dpid"; wait "$dpid"; }; rm -rf "$tmp"' EXIT
passed=0
failed=0

# expect STATUS PATTERN -- ARGS...: run aspace, check status and stderr
# (and stdout) for PATTERN, unless it is empty.
expect() {
	want=$1 pat=$2
	shift 3
	"$ASPACE" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	st=$?
	if [ "$st" -eq "$want" ] && { [ -z "$pat" ] ||
	    grep -q -- "$pat" "$tmp/err" "$tmp/out"; }; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: aspace $* -> status $st (want $want, /$pat/)"
		cat "$tmp/err"
	fi
}

# same TEXT: the last expect's standard output was exactly TEXT.
same() {
	if [ "$(cat "$tmp/out")" = "$1" ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: output '$(cat "$tmp/out")', want '$1'"
	fi
}

printf 'window 0x200000000000 0x1000000\nmmap 0x200000000000 4K rw- private,anon,fixed\nmaps\n' >"$tmp/ok.trace"
printf 'frob\nmmap 1 2\n' >"$tmp/bad.trace"
expect 0 "2: = 0x200000000000" -- run --local "$tmp/ok.trace"
expect 0 "200000000000-200000001000 rw-p" -- run --local --seed 7 "$tmp/ok.trace"
expect 1 "1: ! error: unknown command 'frob'" -- run --local "$tmp/bad.trace"
expect 2 "usage" -- run --local
expect 2 "bad seed" -- run --local --seed 12x "$tmp/ok.trace"
# Without --local, run goes through the daemon: none listens here.
ASPACE_SOCKET="$tmp/no-such.sock"; export ASPACE_SOCKET
unset ASPACE_URL
expect 2 "cannot connect to unix:$tmp/no-such.sock" -- run "$tmp/ok.trace"
expect 2 "cannot connect" -- session list
expect 2 "cannot connect to 127.0.0.1 port 1" -- run --daemon tls://127.0.0.1:1 "$tmp/ok.trace"
expect 2 "want tls://HOST:PORT" -- --connect tls://nohost session list
expect 2 "cannot load the CA" -- --connect tls://127.0.0.1:1 --ca "$tmp/missing.pem" session list
# The per-operation subcommands and the shell check before connecting.
sid=0123456789abcdef0123456789abcdef
expect 2 "--session ID is needed" -- mmap 0 4K rw- private,anon
expect 2 "bad session id" -- maps --session 12zz
expect 2 "expected ADDR LEN PROT FLAGS" -- mmap --session $sid 1 2
expect 2 "bad --task" -- maps --session $sid --task 0
expect 2 "walk ADDR" -- walk --session $sid
expect 2 "cannot connect" -- maps --session $sid
expect 2 "cannot connect" -- --json read --session $sid 0x1000
expect 2 "aspace shell: unknown option '--frob'" -- shell --frob
expect 2 "cannot connect" -- shell
expect 2 "unknown URL scheme" -- run --daemon http://x "$tmp/ok.trace"
expect 2 "exclude each other" -- run --local --daemon unix:/x "$tmp/ok.trace"
expect 2 "exclude each other" -- run --local --keep "$tmp/ok.trace"
expect 2 "exclude each other" -- run --local --session 00112233445566778899aabbccddeeff "$tmp/ok.trace"
expect 2 "--resume needs --session" -- run --resume "$tmp/ok.trace"
expect 2 "--resume needs --session" -- run --keep --session 00112233445566778899aabbccddeeff "$tmp/ok.trace"
expect 2 "bad session id" -- run --session 12zz "$tmp/ok.trace"
expect 2 "bad session id" -- session destroy 12zz
expect 2 "unknown command .frob. (aspace session --help)" -- session frob
expect 2 "No such file" -- run --local "$tmp/missing.trace"
expect 2 "unknown command .frobnicate. (aspace --help)" -- frobnicate
expect 0 "aspace" -- --version
# Each subcommand's own usage: --help on standard output, status 0; a
# usage error prints it on standard error, status 2.
expect 0 "usage: aspace run " -- run --help
same "$("$ASPACE" help run)"
expect 0 "usage: aspace session create " -- session create --help
expect 0 "aspace session destroy ID" -- session --help
expect 0 "usage: aspace kernel ID | --session ID" -- kernel --help
expect 0 "usage: aspace mmap --session ID \[--task N\] \[--explain\] ADDR LEN PROT FLAGS" -- mmap --help
expect 0 "usage: aspace walk --session ID" -- --json walk -h
expect 0 "usage: aspace shell " -- shell --help
expect 0 "usage: aspace \[--connect URL\]" -- --help
[ -s "$tmp/out" ] && [ ! -s "$tmp/err" ] && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: --help not on standard output"; }
# A wrong option: one line naming it, with where the usage is.
expect 2 "" -- run --frob "$tmp/ok.trace"
same1() {
	if [ "$(cat "$tmp/err")" = "$1" ] && [ ! -s "$tmp/out" ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: stderr '$(cat "$tmp/err")', want '$1'"
	fi
}
same1 "aspace run: unknown option '--frob' (aspace run --help)"
expect 2 "" -- session create --seed
same1 "aspace session create: option '--seed' needs a value (aspace session create --help)"
expect 2 "" -- --foo
same1 "aspace: unknown option '--foo' (aspace --help)"
expect 2 "" -- frob
same1 "aspace: unknown command 'frob' (aspace --help)"
expect 2 "" -- status --frob=1 --session $sid
same1 "aspace status: unknown option '--frob' (aspace status --help)"
expect 2 "" -- shell -x
same1 "aspace shell: bad option '-x' (aspace shell --help)"
expect 2 "usage: aspace kernel ID | --session ID" -- kernel
expect 2 "usage: aspace munmap --session ID \[--task N\] \[--explain\] ADDR LEN" -- munmap --session $sid 0x1000
# The global options before the command, among its own, with = too.
expect 2 "cannot connect to unix:$tmp/no.sock" -- --connect "unix:$tmp/no.sock" session list --json
expect 2 "cannot connect to unix:$tmp/no.sock" -- session --json list --daemon="unix:$tmp/no.sock"
expect 2 "cannot connect to unix:$tmp/no.sock" -- mprotect --session=$sid 0x1000 4K --- --connect "unix:$tmp/no.sock"
printf 'maps\n' | "$ASPACE" run --local - >"$tmp/out" 2>&1 &&
    grep -q "\[stack\]" "$tmp/out" && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: trace on standard input"; }
# check: usage errors before connecting.
expect 2 "a session ID is needed" -- check
expect 2 "a session ID is needed" -- --json check
expect 2 "bad session id" -- check 12zz
expect 2 "one session ID" -- check $sid $sid
expect 2 "one session ID" -- check $sid --session $sid
expect 2 "no --task" -- check $sid --task 1
expect 2 "cannot connect" -- check $sid
# --kernel: a bad NAME or VALUE is a usage error, before connecting.
expect 2 "aspace: --kernel zero_page=maybe: bad VALUE 'maybe' (on or off)" -- session create --kernel zero_page=maybe
expect 2 "aspace: --kernel frob=1: unknown kernel parameter 'frob'" -- session create --kernel frob=1
expect 2 "aspace: --kernel zero_page: want NAME=VALUE" -- session create --kernel zero_page
expect 2 "bad VALUE '5000' (a power of two from 4096 to 65536)" -- session create --kernel fault_around_bytes=5000
expect 2 "bad VALUE '0' (1 to 65530)" -- session create --kernel max_map_count=0
expect 2 "bad VALUE 'lots' (a size or unlimited)" -- run --local --kernel rlimit_memlock=lots "$tmp/ok.trace"
expect 2 "option .--kernel. needs a value" -- session create --kernel
expect 2 "not --session" -- run --kernel swap=1M --session $sid "$tmp/ok.trace"
expect 2 "not --session" -- shell --kernel swap=1M --session $sid
expect 2 "a session ID is needed" -- kernel
expect 2 "no --task" -- kernel $sid --task 1
expect 2 "cannot connect" -- kernel $sid

# check through a daemon of this test's own.
"$ASPACED" --listen "unix:$tmp/sock" --state-directory "$tmp/state" \
    --foreground >"$tmp/daemon.out" 2>"$tmp/daemon.err" &
dpid=$!
i=0
while [ ! -S "$tmp/sock" ] && [ $i -lt 400 ]; do
	sleep 0.05
	i=$((i + 1))
done
[ -S "$tmp/sock" ] || { echo "aspaced did not start"; cat "$tmp/daemon.err"; exit 99; }
ASPACE_URL=unix:$tmp/sock; export ASPACE_URL
s=$("$ASPACE" session create) || { echo "session create failed"; exit 99; }
expect 0 "" -- check "$s"
same "ok: 1 mm, 1 task checked"
expect 0 "" -- mmap --session "$s" 0x200000000000 8K rw- private,anon,fixed
expect 0 "" -- write --session "$s" 0x200000000000 0x41
expect 0 "" -- touch --session "$s" 0x200000001000 r
expect 0 "" -- fork --session "$s"
same "= 2"
expect 0 "" -- write --session "$s" --task 2 0x200000000000 0x42
expect 0 "" -- thread --session "$s"
same "= 3"
# --explain: the path after the result, as "# why:" or a JSON field.
expect 0 "^# why: .*do_wp_page: reused frame" -- \
    write --session "$s" --explain 0x200000000000 0x43
expect 0 '"explain":"no fault: the page table already allowed the access"' \
    -- read --session "$s" --explain --json 0x200000000000
expect 0 "^# why: MAP_FIXED: at 0x200000002000 as asked -> vma_merge_new_range: 0x200000002000-0x200000003000 merged with prev" \
    -- mmap --session "$s" --explain 0x200000002000 4K rw- private,anon,fixed
expect 2 "explain is for the trace operations" -- status --session "$s" --explain
printf 'mmap 0x200000000000 8K rw- private,anon,fixed\nwrite 0x200000000000 1\nmprotect 0x200000001000 4K r--\nmaps\n' >"$tmp/ex.trace"
expect 0 "" -- run --explain "$tmp/ex.trace"
cp "$tmp/out" "$tmp/ex.daemon"
expect 0 "^# why: vma_merge_existing_range: no adjacent VMA -> split_vma: 0x200000000000-0x200000001000 | 0x200000001000-0x200000002000 -> change_protection" -- run --local --explain "$tmp/ex.trace"
if cmp -s "$tmp/out" "$tmp/ex.daemon"; then passed=$((passed + 1)); else
	failed=$((failed + 1)); echo "FAIL: run --explain differs, daemon and --local"
	diff "$tmp/ex.daemon" "$tmp/out"
fi
# The explained output is still an answer file: "# why:" lines are comments.
cp "$tmp/out" "$tmp/ex.local"
expect 0 "ex.local): 4/4" -- grade --local "$tmp/ex.trace" "$tmp/ex.local"
expect 0 '"line":3,"command":"mprotect 0x200000001000 4K r--","output":"= 0","explain":"vma_merge_existing_range: no adjacent VMA -> split_vma:' \
    -- run --local --explain --json "$tmp/ex.trace"
# Two address spaces (1 and its thread 3 share one), three tasks.
expect 0 "" -- check "$s"
same "ok: 2 mms, 3 tasks checked"
expect 0 "" -- check --session "$s" --json
same "{\"command\":\"check\",\"session\":\"$s\",\"mms\":2,\"tasks\":3}"
expect 0 "" -- --json check "$s"
same "{\"command\":\"check\",\"session\":\"$s\",\"mms\":2,\"tasks\":3}"
expect 0 "" -- exit --session "$s" --task 2
expect 0 "" -- check "$s"
same "ok: 1 mm, 2 tasks checked"
# Destroyed, and never made: the daemon refuses, status 1.
expect 0 "" -- session destroy "$s"
expect 1 "check: NO_SUCH_SESSION" -- check "$s"
same ""
expect 1 "check: NO_SUCH_SESSION" -- --json check "$s"
same ""
expect 1 "check: NO_SUCH_SESSION" -- check $sid

# System V shared memory and msync, as a person would use them: a
# segment attached at a fixed address, written by task 1, read by its
# fork child, detached; the maps show the attachment and its going.
expect 0 "usage: aspace shmget --session ID \[--task N\] \[--explain\] NAME SIZE" -- shmget --help
expect 0 "usage: aspace shmat --session ID \[--task N\] \[--explain\] NAME ADDR SHMFLAGS" -- shmat --help
expect 0 "usage: aspace shmdt --session ID \[--task N\] \[--explain\] ADDR" -- shmdt --help
expect 0 "usage: aspace shmrm --session ID \[--task N\] \[--explain\] NAME" -- shmrm --help
expect 0 "usage: aspace msync --session ID \[--task N\] \[--explain\] ADDR LEN MSFLAGS" -- msync --help
expect 2 "bad NAME 'a/b'" -- shmget --session $sid a/b 4K
expect 2 "expected NAME ADDR SHMFLAGS" -- shmat --session $sid seg 0
expect 2 "MSFLAGS" -- msync --session $sid 0 4K frob
m=$("$ASPACE" session create) || { echo "session create failed"; exit 99; }
expect 0 "" -- shmget --session "$m" seg 8K
same "= 0"
expect 1 "! error: segment seg already used" -- shmget --session "$m" seg 4K
expect 0 "" -- shmat --session "$m" seg 0x300000000000 -
same "= 0x300000000000"
expect 0 "" -- write --session "$m" 0x300000001000 0x5a
same "= ok"
expect 0 "" -- fork --session "$m"
same "= 2"
expect 0 "" -- read --session "$m" --task 2 0x300000001000
same "= 0x5a"
maps_std="  555555554000-555555555000 r--p 00000000 prog
  555555555000-555555557000 r-xp 00001000 prog
  555555557000-555555558000 r--p 00003000 prog
  555555558000-555555559000 rw-p 00004000 prog
  555555559000-55555555b000 rw-p 00000000
  7ffff7ff7000-7ffff7ffb000 r--p 00000000 [vvar]
  7ffff7ffb000-7ffff7ffd000 r--p 00000000 [vvar_vclock]
  7ffff7ffd000-7ffff7fff000 r-xp 00000000 [vdso]
  7ffffffde000-7ffffffff000 rw-p 00000000 [stack]"
expect 0 "" -- maps --session "$m" --task 2
same "maps
  300000000000-300000002000 rw-s 00000000 /SYSV00000000 (deleted)
$maps_std"
expect 0 "" -- shmdt --session "$m" 0x300000000000
same "= 0"
expect 0 "" -- shmdt --session "$m" 0x300000000000
same "= -EINVAL"
expect 0 "" -- maps --session "$m"
same "maps
$maps_std"
# aspace mt: the same VMAs in task 1's maple tree, one leaf of 13 slots.
expect 0 "" -- mt --session "$m"
same "maple tree: height 1, 1 nodes of 256 bytes
leaf_64 0-0xffffffffffffffff: 13 slots, largest gap 0xffff800000001000
  0-0x555555553fff (free)
  0x555555554000-0x555555554fff vma 555555554000-555555555000
  0x555555555000-0x555555556fff vma 555555555000-555555557000
  0x555555557000-0x555555557fff vma 555555557000-555555558000
  0x555555558000-0x555555558fff vma 555555558000-555555559000
  0x555555559000-0x55555555afff vma 555555559000-55555555b000
  0x55555555b000-0x7ffff7ff6fff (free)
  0x7ffff7ff7000-0x7ffff7ffafff vma 7ffff7ff7000-7ffff7ffb000
  0x7ffff7ffb000-0x7ffff7ffcfff vma 7ffff7ffb000-7ffff7ffd000
  0x7ffff7ffd000-0x7ffff7ffefff vma 7ffff7ffd000-7ffff7fff000
  0x7ffff7fff000-0x7ffffffddfff (free)
  0x7ffffffde000-0x7fffffffefff vma 7ffffffde000-7ffffffff000
  0x7ffffffff000-0xffffffffffffffff (free)"
expect 0 '"type":"leaf_64","min":"0","max":"0xffffffffffffffff","end":13' -- --json mt --session "$m"
expect 0 '"entry":"vma 7ffffffde000-7ffffffff000"' -- --json mt --session "$m"
expect 2 "unexpected operand" -- mt --session "$m" 5
expect 0 "" -- --json shmrm --session "$m" seg
same "{\"command\":\"shmrm\",\"session\":\"$m\",\"task\":1,\"line\":\"shmrm seg\",\"errors\":0,\"result\":\"0\",\"output\":\"= 0\\n\"}"
# The child still has it, and reads task 1's byte.
expect 0 "" -- read --session "$m" --task 2 0x300000001000
same "= 0x5a"
expect 0 "" -- check "$m"
same "ok: 2 mms, 2 tasks checked"
# msync: a shared file page written is dirty; msync sync cleans it.
expect 0 "" -- file --session "$m" db 8K
expect 0 "" -- mmap --session "$m" 0x200000000000 8K rw- shared,fixed db 0
expect 0 "" -- write --session "$m" 0x200000000000 0x41
dirty() { "$ASPACE" smaps --session "$m" | grep -A8 "200000000000-200000002000 rw-s" | grep "_$1:"; }
[ "$(dirty Dirty)" = "    Shared_Dirty: 0 kB
    Private_Dirty: 4 kB" ] && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: written, not dirty: $(dirty Dirty)"; }
expect 0 "" -- msync --session "$m" 0x200000000000 8K sync
same "= 0"
[ "$(dirty Dirty)" = "    Shared_Dirty: 0 kB
    Private_Dirty: 0 kB" ] && [ "$(dirty Clean)" = "    Shared_Clean: 0 kB
    Private_Clean: 4 kB" ] && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: msync sync: $(dirty Dirty) $(dirty Clean)"; }
expect 0 "" -- --json msync --session "$m" 0x200000000001 4K sync
same "{\"command\":\"msync\",\"session\":\"$m\",\"task\":1,\"line\":\"msync 0x200000000001 4K sync\",\"errors\":0,\"result\":\"-EINVAL\",\"output\":\"= -EINVAL\\n\"}"
expect 0 "" -- session destroy "$m"

# Kernel parameters: set by --kernel, shown by aspace kernel as lines a
# trace takes, and acting: a read fault allocates a page without the
# zero page (Rss 4 kB) and maps the zero page with it (0 kB).
k=$("$ASPACE" session create --kernel zero_page=off --kernel rlimit_memlock=64K) ||
    { echo "session create --kernel failed"; exit 99; }
d=$("$ASPACE" session create) || { echo "session create failed"; exit 99; }
expect 0 "" -- kernel "$k"
same "kernel zero_page off
kernel swap 0
kernel fault_around_bytes 65536
kernel max_map_count 65530
kernel rlimit_stack 8M
kernel rlimit_memlock 64K
kernel share_tables on"
expect 0 "" -- kernel --session "$d"
same "kernel zero_page on
kernel swap 0
kernel fault_around_bytes 65536
kernel max_map_count 65530
kernel rlimit_stack 8M
kernel rlimit_memlock unlimited
kernel share_tables on"
expect 0 "" -- --json kernel "$k"
same "{\"command\":\"kernel\",\"session\":\"$k\",\"params\":[{\"name\":\"zero_page\",\"value\":0,\"text\":\"off\"},{\"name\":\"swap\",\"value\":0,\"text\":\"0\"},{\"name\":\"fault_around_bytes\",\"value\":65536,\"text\":\"65536\"},{\"name\":\"max_map_count\",\"value\":65530,\"text\":\"65530\"},{\"name\":\"rlimit_stack\",\"value\":8388608,\"text\":\"8M\"},{\"name\":\"rlimit_memlock\",\"value\":65536,\"text\":\"64K\"},{\"name\":\"share_tables\",\"value\":1,\"text\":\"on\"}]}"
for x in "$k" "$d"; do
	expect 0 "" -- mmap --session "$x" 0x200000000000 4K rw- private,anon,fixed
	expect 0 "" -- read --session "$x" 0x200000000000
	same "= 0x00"
	"$ASPACE" smaps --session "$x" >"$tmp/smaps.$x" 2>&1
done
rss() { grep -A1 "200000000000-200000001000 rw-p" "$tmp/smaps.$1" | sed -n 2p; }
[ "$(rss "$k")" = "    Rss: 4 kB" ] && [ "$(rss "$d")" = "    Rss: 0 kB" ] &&
    passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: zero_page off: Rss '$(rss "$k")', default '$(rss "$d")'"; }
# Started (a task acted): the parameters are fixed, the kernel line an error.
printf 'kernel zero_page on\n' >"$tmp/late.trace"
expect 1 "! error: kernel parameters are fixed" -- run --session "$k" "$tmp/late.trace"
expect 0 "" -- kernel "$k"
expect 0 "kernel zero_page off" -- kernel "$k"
expect 0 "" -- session destroy "$k"
expect 1 "kernel: NO_SUCH_SESSION" -- kernel "$k"
expect 0 "" -- session destroy "$d"
# A trace's kernel lines, and --kernel: through the daemon, the bytes of
# run --local.
printf 'kernel zero_page off\nkernel fault_around_bytes 4096\nkernel rlimit_memlock 8K\nwindow 0x200000000000 0x100000\nmmap 0x200000000000 16K rw- private,anon,fixed\nread 0x200000000000\nmlock 0x200000000000 16K\nsmaps\n' >"$tmp/kernel.trace"
printf 'window 0x200000000000 0x100000\nmmap 0x200000000000 16K r-- private,anon,fixed\nread 0x200000000000\nmmap 0 4K rw- private,anon\nsmaps\n' >"$tmp/plain.trace"
for args in "$tmp/kernel.trace" "--kernel zero_page=off --kernel max_map_count=9 $tmp/plain.trace" "--kernel rlimit_memlock=unlimited $tmp/kernel.trace"; do
	# shellcheck disable=SC2086
	"$ASPACE" run --local $args >"$tmp/local" 2>&1
	lst=$?
	# shellcheck disable=SC2086
	"$ASPACE" run $args >"$tmp/remote" 2>&1
	rst=$?
	if [ $lst -eq $rst ] && cmp -s "$tmp/local" "$tmp/remote"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: run $args: --local (status $lst) and the daemon (status $rst) differ"
		diff "$tmp/local" "$tmp/remote"
	fi
done
grep -q "Rss: 4 kB" "$tmp/local" && grep -q "^7: = -ENOMEM" "$tmp/local" &&
    passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: kernel.trace output"; cat "$tmp/local"; }
"$ASPACE" run --local --kernel zero_page=off --kernel max_map_count=9 "$tmp/plain.trace" >"$tmp/local" 2>&1
grep -q "^4: = -ENOMEM" "$tmp/local" && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: --kernel max_map_count=9"; cat "$tmp/local"; }
# The shell's fresh session takes --kernel too.
"$ASPACE" shell --kernel zero_page=off <"$tmp/plain.trace" >"$tmp/shell" 2>&1
"$ASPACE" run --local --kernel zero_page=off "$tmp/plain.trace" >"$tmp/local" 2>&1
cmp -s "$tmp/shell" "$tmp/local" && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: shell --kernel"; diff "$tmp/local" "$tmp/shell"; }

# --json: valid JSON whatever the bytes.  A trace whose error messages
# quote ill-formed UTF-8: each ill-formed piece is U+FFFD, as Python's
# decode("utf-8", "replace") makes it; well-formed UTF-8 is kept.
printf 'mmap \377\376 4K rw- private,anon\nfile caf\303\251 4K\nfile \342\202 4K\nfile a\001"\\ 4K\n' >"$tmp/utf8.trace"
"$ASPACE" run --local "$tmp/utf8.trace" >"$tmp/utf8.out"
for how in "--local" ""; do
	# shellcheck disable=SC2086
	"$ASPACE" run $how --json "$tmp/utf8.trace" >"$tmp/utf8.json"
	if python3 -c '
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
want = open(sys.argv[2], "rb").read().decode("utf-8", "replace")
got = "".join("%d: %s\n" % (i["line"], i["output"]) for i in d["items"])
assert got == want, (got, want)
assert d["items"][0]["command"] == "mmap \ufffd\ufffd 4K rw- private,anon", d
assert "\ufffd\ufffd" in want and "caf\u00e9" in want and "\ufffd\x27" in want
assert d["status"] == 1 and d["errors"] == 4 and d["truncated"] is False
' "$tmp/utf8.json" "$tmp/utf8.out"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1)); echo "FAIL: run $how --json of bad UTF-8"; cat "$tmp/utf8.json"
	fi
done
# Integers above 2^53 - 1 are strings of their digits: rlimit_memlock
# unlimited (2^64 - 1); walk's words are all strings of hex digits, a
# pte with the NX bit (bit 63) too; its bits are decoded.
u=$("$ASPACE" session create --json --kernel swap=1M) || { echo "session create failed"; exit 99; }
u=$(printf '%s' "$u" | python3 -c 'import json,sys; print(json.load(sys.stdin)["session"])')
expect 0 "" -- mmap --session "$u" 0x200000000000 4K rw- private,anon,fixed
expect 0 "" -- write --session "$u" 0x200000000000 0x41
"$ASPACE" --json kernel "$u" >"$tmp/k.json"
"$ASPACE" walk --session "$u" 0x200000000000 --json >"$tmp/w.json"
"$ASPACE" walk --session "$u" 0x200000000000 >"$tmp/w.txt"
if python3 -c '
import json, sys
k = {p["name"]: p for p in json.load(open(sys.argv[1]))["params"]}
assert k["rlimit_memlock"]["value"] == "18446744073709551615", k
assert int(k["rlimit_memlock"]["value"]) == 2**64 - 1
assert k["rlimit_memlock"]["text"] == "unlimited"
assert k["swap"]["value"] == 1048576 and k["zero_page"]["value"] == 1, k
w = json.load(open(sys.argv[2]))
pte = int(open(sys.argv[3]).read().split("pte ")[1].split()[0], 16)
assert pte >> 63 == 1 and w["pte"] == hex(pte), (w, pte)
assert w["addr"] == "0x200000000000" and int(w["pgd"], 16) > 0, w
b = w["bits"]
assert b["present"] and b["rw"] and b["user"] and b["dirty"] and b["nx"], b
assert not b["special"] and int(b["frame"], 16) == (pte >> 12) & (2**40 - 1), b
' "$tmp/k.json" "$tmp/w.json" "$tmp/w.txt"; then
	passed=$((passed + 1))
else
	failed=$((failed + 1)); echo "FAIL: 64-bit values in JSON"; cat "$tmp/k.json" "$tmp/w.json"
fi
# A table fork shared shows in walk: its sharers, the pmd read-only;
# the parent's first write makes it its own again.
f=$("$ASPACE" session create) || { echo "session create failed"; exit 99; }
expect 0 "" -- mmap --session "$f" 0x200000000000 8K rw- private,anon,fixed
expect 0 "" -- write --session "$f" 0x200000000000 0x41
expect 0 "" -- fork --session "$f"
expect 0 "PTE table shared by 2 mms since fork" -- walk --session "$f" 0x200000000000
expect 0 '"pt_sharers":2' -- --json walk --session "$f" 0x200000000000
expect 0 "" -- write --session "$f" 0x200000001000 0x42
expect 0 '"pt_sharers":1' -- --json walk --session "$f" 0x200000000000
# Swap: the page paged out shows in walk (its swap entry decoded), in
# status (VmSwap) and counters (pswpout); read back, a major fault and a
# pswpin.
expect 0 "" -- madvise --session "$u" 0x200000000000 4K pageout
expect 0 "swap entry 0x[0-9a-f]*: type 0 offset [1-9][0-9]* exclusive" -- walk --session "$u" 0x200000000000
expect 0 "VmSwap:.*4 kB" -- status --session "$u"
expect 0 "^pswpout  *1$" -- counters --session "$u"
expect 0 '"bits":null,"swap":{"entry":"0x[1-9a-f]' -- --json walk --session "$u" 0x200000000000
expect 0 "" -- read --session "$u" 0x200000000000
expect 0 "^major_faults  *1$" -- counters --session "$u"
grep -q "^pswpin  *1$" "$tmp/out" && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: counters pswpin"; cat "$tmp/out"; }
expect 0 '"pswpin":1,' -- --json counters --session "$u" --task-only
expect 0 '"pswpout":0}' -- --json counters --session "$u" --task-only
expect 0 "" -- session destroy "$u"
# run --json: a trace's items give back its canonical output, each with
# its command; --annotate's extra lines are "# N: LINE", "==> T <==" and
# empty ones, the rest is the canonical output.
ex="$srcdir/docs/examples"
for how in "--local" ""; do
	for t in "$ex"/*.trace; do
		# shellcheck disable=SC2086
		"$ASPACE" run $how "$t" >"$tmp/c.out"
		# shellcheck disable=SC2086
		"$ASPACE" run $how --json "$t" >"$tmp/c.json"
		python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
src = open(sys.argv[3]).read().split("\n")
got = "".join("%d: %s\n" % (i["line"], i["output"]) for i in d["items"])
assert got == open(sys.argv[2]).read(), sys.argv[3]
for i in d["items"]:
	assert i["command"] == src[i["line"] - 1].rstrip(), i
' "$tmp/c.json" "$tmp/c.out" "$t" || { echo "FAIL: run $how --json $t"; failed=$((failed + 1)); continue; }
		passed=$((passed + 1))
	done
	# shellcheck disable=SC2086
	"$ASPACE" run $how --annotate "$ex/01-mmap-and-merge.trace" "$ex/02-munmap-splits.trace" >"$tmp/a.out"
	# shellcheck disable=SC2086
	"$ASPACE" run $how "$ex/01-mmap-and-merge.trace" "$ex/02-munmap-splits.trace" >"$tmp/c.out"
	grep -v -e '^# ' -e '^==> .* <==$' -e '^$' "$tmp/a.out" | cmp -s - "$tmp/c.out" &&
	    [ "$(grep -c '^==> ' "$tmp/a.out")" -eq 2 ] &&
	    grep -q "^==> $ex/02-munmap-splits.trace <==$" "$tmp/a.out" &&
	    grep -q '^# 17: mmap 0x200000000000 16K rw- private,anon,fixed$' "$tmp/a.out" &&
	    passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: run $how --annotate"; head -20 "$tmp/a.out"; }
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
