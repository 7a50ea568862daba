#!/bin/sh
# test-config.sh: aspaced's configuration (daemon/conf.c) through the
# built aspaced ($ASPACED) and aspace ($ASPACE): every error in a file
# stops aspaced with exit status 2 and names the file and the exact line;
# units, quotes and comments read as documented; the command line
# overrides the file; -T prints what reads back to the same -T, through
# a file and through long options; the defaults with no file follow the
# environment (run as an ordinary user: as root, through setpriv(1) as
# nobody); with no listener given, aspaced and aspace meet on the
# default socket; docs/aspaced.conf.5 and docs/aspaced.conf.example
# list every keyword, the example with the defaults of -T.
#
# Environment: ASPACED, ASPACE, srcdir.  Exit status: 0 if all passed,
# 1 on a failure, 99 on a setup error.

set -u
A=${ASPACED:-daemon/aspaced}
ASPACE=${ASPACE:-client/aspace}
srcdir=${srcdir:-.}
tmp=$(mktemp -d) || exit 99
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
chmod 755 "$tmp"
C=$tmp/c.conf
passed=0
failed=0

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# err LINE MESSAGE FORMAT [ARGS]: a file printf'd from FORMAT, read by
# aspaced -T, stops it with status 2 and exactly "aspaced: FILE:LINE:
# MESSAGE".
err() {
	line=$1 msg=$2
	shift 2
	# shellcheck disable=SC2059
	printf "$@" >"$C"
	"$A" -T --config "$C" >"$tmp/out" 2>"$tmp/err"
	st=$?
	want="aspaced: $C:$line: $msg"
	if [ "$st" -eq 2 ] && [ "$(cat "$tmp/err")" = "$want" ] &&
	    [ ! -s "$tmp/out" ]; then
		pass
	else
		fail "status $st, want 2 and: $want"
		sed 's/^/  got: /' "$tmp/err"
	fi
}

# opt_err MESSAGE ARGS...: aspaced -T ARGS (after an empty file) stops
# with status 2 and exactly "aspaced: MESSAGE".
opt_err() {
	msg=$1
	shift
	"$A" -T --config /dev/null "$@" >"$tmp/out" 2>"$tmp/err"
	st=$?
	if [ "$st" -eq 2 ] && [ "$(cat "$tmp/err")" = "aspaced: $msg" ]; then
		pass
	else
		fail "aspaced $* -> status $st, want 2 and: aspaced: $msg"
		sed 's/^/  got: /' "$tmp/err"
	fi
}

# has LINE ARGS...: aspaced -T ARGS succeeds and prints LINE.
has() {
	want=$1
	shift
	if "$A" -T "$@" >"$tmp/out" 2>"$tmp/err" &&
	    grep -qxF -- "$want" "$tmp/out"; then
		pass
	else
		fail "aspaced -T $* does not print: $want"
		cat "$tmp/err"
		grep -F -- "${want%% *}" "$tmp/out" | sed 's/^/  got: /'
	fi
}

# --- errors name the file and the line ----------------------------------------
err 4 "unknown keyword 'listn'" 'workers 4\n\n  # a comment\nlistn unix:/x\n'
err 1 "unknown keyword 'Workers'" 'Workers 4\n'
err 7 "max-sessions: '0x' is not a number" '\n\n\n\n\n\nmax-sessions 0x\n'
err 1 "workers: '-1' is not a number" 'workers -1\n'
err 1 "workers: '4.5' is not a number" 'workers 4.5\n'
err 9 "max-body: 9G is over the limit 64M" '#\n#\n#\n#\n#\n#\n#\n#\nmax-body 9G\n'
err 1 "max-body: 1K is under the minimum 4K" 'max-body 1K\n'
err 2 "max-ram: 1K is under the minimum 1M" 'workers 2\nmax-ram 1K\n'
err 1 "workers: 99999999999999999999999 is over the limit 256" \
    'workers 99999999999999999999999\n'
err 1 "max-sessions: 1000001 is over the limit 1000000" \
    'max-sessions 1000001\n'
err 1 "max-body: '12Q' is not a size (a number of bytes, K, M, G or T)" \
    'max-body 12Q\n'
err 1 "max-body: '1.5M' is not a size (a number of bytes, K, M, G or T)" \
    'max-body 1.5M\n'
err 1 "idle-timeout: 'soon' is not a duration (a number, ms, s, m, h or d)" \
    'idle-timeout soon\n'
err 1 "idle-timeout: '5S' is not a duration (a number, ms, s, m, h or d)" \
    'idle-timeout 5S\n'
err 1 "idle-timeout: '0.0001s' is not a duration (a number, ms, s, m, h or d)" \
    'idle-timeout 0.0001s\n'
err 2 "checkpoint-interval: 31d is over the limit 30d" \
    '\ncheckpoint-interval 31d\n'
err 1 "accept-backoff: 0 is under the minimum 1ms" 'accept-backoff 0\n'
err 3 "workers: given twice (first on line 1)" 'workers 2\n# x\nworkers 3\n'
err 1 "tokens: no value" 'tokens\n'
err 2 "tokens: no value" '\ntokens    # a comment\n'
err 1 "tokens: no closing quote" 'tokens "/a/b\n'
err 1 'tokens: \ in quotes must be \" or \\' 'tokens "a\\nb"\n'
err 1 "tokens: more than one value (quote a value with spaces)" \
    'tokens /a b\n'
err 1 "tokens: a quote inside an unquoted value" 'tokens a"b\n'
err 1 "tokens: an empty value" 'tokens ""\n'
err 2 "a NUL byte" 'workers 2\nlog-level no\000tice\n'
err 2 "a control character" 'workers 2\nlog-level \001\n'
err 3 "a line longer than 1024 bytes" '#\n#\ntokens /%01100d\n' 0
# 800 bytes, but each \ doubles when -T prints it, in quotes.
bs=$(printf '%300s' '' | tr ' ' '\\')
err 1 "tokens: a value too long for a line of 1024 bytes" \
    'tokens %0500d%s\n' 0 "$bs"
err 1 "log-level: 'loud' is not one of error, warning, notice, info, debug" \
    'log-level loud\n'
err 1 "log-target: 'file' is not one of auto, stderr, syslog, journal" \
    'log-target file\n'
err 2 "listen: 'ftp://x' is not unix:PATH or tls://HOST:PORT" \
    '\nlisten ftp://x\n'
err 1 "listen: unix: needs a path" 'listen unix:\n'
err 1 "listen: 'tls://h:70000' is not tls://HOST:PORT (a port from 0 to 65535)" \
    'listen tls://h:70000\n'
err 1 "listen: 'tls://::1:80' is not tls://HOST:PORT (a port from 0 to 65535)" \
    'listen tls://::1:80\n'
err 1 "listen: the socket path is longer than 107 bytes" \
    'listen unix:/%0120d\n' 0
err 9 "listen: at most 8 unix: listeners" \
    'listen unix:/%d\n' 1 2 3 4 5 6 7 8 9
err 1 "metrics-listen: 'localhost' is not HOST:PORT (a port from 0 to 65535) or none" \
    'metrics-listen localhost\n'
err 2 "runtime-directory: too long for the socket /$(printf %0100d 0)/aspaced.sock (at most 107 bytes)" \
    '#\nruntime-directory /%0100d\n' 0
# Checks across keywords name the line that needs the other.
err 2 "listen: a tls:// listener needs tls-cert and tls-key" \
    'listen unix:/x\nlisten tls://127.0.0.1:0\ntls-cert /c\n'
err 3 "tls-key: needs a tls:// listener" \
    'listen unix:/x\n\ntls-key /k\n'

# Errors of the file as a whole, and of the command line.
opt_err "$tmp/none.conf: No such file or directory" --config "$tmp/none.conf"
opt_err "$tmp: Is a directory" --config "$tmp"
head -c 1048577 /dev/zero | tr '\0' '#' >"$C"
opt_err "$C: larger than 1048576 bytes" --config "$C"
opt_err "--workers: 0 is under the minimum 1" --workers 0
opt_err "--listen: 'ftp://x' is not unix:PATH or tls://HOST:PORT" \
    --listen ftp://x
opt_err "--listen: a tls:// listener needs tls-cert and tls-key" \
    --listen tls://127.0.0.1:0
opt_err "--tls-cert: needs a tls:// listener" --tls-cert /c
opt_err "--max-body: 9G is over the limit 64M" --max-body 9G
# A file's tls-cert is still checked when the options replace listen.
printf 'listen tls://127.0.0.1:0\ntls-cert /c\ntls-key /k\n' >"$C"
opt_err "$C:2: tls-cert: needs a tls:// listener" --config "$C" \
    --listen unix:/x
if "$A" -T --no-such-option >/dev/null 2>"$tmp/err"; then
	fail "an unknown option is accepted"
elif [ "$(cat "$tmp/err")" = "aspaced: unknown option '--no-such-option' (aspaced --help)" ]; then pass
else fail "no one-line message for an unknown option"; fi
if "$A" --version | grep -q "^aspaced [0-9][0-9.]*$"; then pass
else fail "aspaced --version"; fi
# An error stops start-up too, not only -T: nothing listens.
printf 'listen unix:%s/s.sock\nworkers 0\n' "$tmp" >"$C"
"$A" --config "$C" >"$tmp/out" 2>"$tmp/err"
st=$?
if [ "$st" -eq 2 ] && [ ! -e "$tmp/s.sock" ] && [ ! -s "$tmp/out" ] &&
    grep -qF "$C:2: workers: 0 is under the minimum 1" "$tmp/err"; then
	pass
else fail "a bad file does not stop start-up (status $st)"; fi

# --- values -------------------------------------------------------------------
printf 'workers 4\r\nmax-body 64k\r\n\t idle-timeout 0.3   # 300 ms\r\n' >"$C"
printf 'max-ram 512m\nram-total 0\ncheckpoint-interval 0\n' >>"$C"
printf 'accept-backoff 50\nmax-sessions 9 # a comment\n' >>"$C"
printf 'tokens "/a b/c \\"q\\" \\\\"\n' >>"$C"
printf 'tls-client-ca none\nmetrics-listen [::1]:9100\n' >>"$C"
printf 'pool-threads 0' >>"$C"		# no newline at the end
has "workers 4" --config "$C"
has "max-body 64K" --config "$C"
has "idle-timeout 300ms" --config "$C"
has "max-ram 512M" --config "$C"
has "ram-total 0" --config "$C"
has "checkpoint-interval 0" --config "$C"
has "accept-backoff 50ms" --config "$C"
has "max-sessions 9" --config "$C"
has 'tokens "/a b/c \"q\" \\"' --config "$C"
has "tls-client-ca none" --config "$C"
has "metrics-listen [::1]:9100" --config "$C"
has "pool-threads 0" --config "$C"
has "idle-timeout 90s" --config /dev/null --idle-timeout 1.5m
has "idle-timeout 30s" --config /dev/null --idle-timeout 30
has "checkpoint-interval 2h" --config /dev/null --checkpoint-interval 120m
has "ram-total 1T" --config /dev/null --ram-total 1024G
has "max-body 4100" --config /dev/null --max-body 4100
has "log-level error" --config /dev/null --log-level error

# --- the command line over the file -------------------------------------------
printf 'workers 4\nlisten unix:/a\nlisten unix:/b\nmax-body 2M\n' >"$C"
has "workers 6" --config "$C" --workers 6
has "workers 7" --config "$C" -w 7
has "max-body 2M" --config "$C" --workers 6
has "listen unix:/b" --config "$C"
"$A" -T --config "$C" --listen unix:/c -s /d >"$tmp/out" 2>&1
if [ "$(grep '^listen ' "$tmp/out" | tr '\n' ' ')" = \
    "listen unix:/c listen unix:/d " ]; then pass
else fail "the options' listen do not replace the file's"; fi

# --- -T reads back to the same -T ---------------------------------------------
printf 'listen tls://127.0.0.1:0\nlisten unix:/x\nlisten "unix:/a b"\n' >"$C"
printf 'tls-cert "/c#"\ntls-key /k#x\ntokens "a\\\\b"\n' >>"$C"
printf 'state-directory none\nmetrics-listen 0.0.0.0:0\n' >>"$C"
"$A" -T --config "$C" >"$tmp/t1" 2>"$tmp/err" || cat "$tmp/err"
"$A" -T --config "$tmp/t1" >"$tmp/t2" 2>&1
if [ -s "$tmp/t1" ] && cmp -s "$tmp/t1" "$tmp/t2"; then pass
else fail "-T does not read back to the same -T"; diff "$tmp/t1" "$tmp/t2"; fi
# Every line of -T as a long option: the same -T, so that every
# keyword is an option and reads the same there.
set --
while read -r kw val; do
	case $val in \"*) val=$(printf '%s' "$val" |
	    sed 's/^"//; s/"$//; s/\\\(.\)/\1/g');; esac
	set -- "$@" "--$kw" "$val"
done <"$tmp/t1"
"$A" -T --config /dev/null "$@" >"$tmp/t3" 2>&1
if [ $# -ge 44 ] && cmp -s "$tmp/t1" "$tmp/t3"; then pass
else fail "-T as long options differs"; diff "$tmp/t1" "$tmp/t3"; fi
set --

# --- defaults without a file, from the environment ------------------------------
# as_user CMD...: CMD as an ordinary user, in a clean environment but
# for the variables given before it (env(1) syntax).
if [ "$(id -u)" -ne 0 ]; then
	as_user() { env -i PATH="$PATH" "$@"; }
	as_user_exec() { exec env -i PATH="$PATH" "$@"; }
	uid=$(id -u)
elif command -v setpriv >/dev/null 2>&1; then
	as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups \
	    env -i PATH="$PATH" "$@"; }
	as_user_exec() { exec setpriv --reuid=65534 --regid=65534 \
	    --clear-groups env -i PATH="$PATH" "$@"; }
	uid=65534
else
	as_user=
	echo "SKIP: the defaults of an ordinary user (root, no setpriv)"
fi
# user_has LINE ENV... : -T as an ordinary user prints LINE.
user_has() {
	want=$1
	shift
	as_user "$@" "$A" -T --config /dev/null >"$tmp/out" 2>"$tmp/err"
	if grep -qxF -- "$want" "$tmp/out"; then pass
	else fail "as a user with $*, no: $want"; cat "$tmp/err"
		grep -F -- "${want%% *}" "$tmp/out" | sed 's/^/  got: /'; fi
}
if [ -n "${uid:-}" ]; then
	user_has "runtime-directory $tmp/run/aspaced" XDG_RUNTIME_DIR="$tmp/run"
	user_has "listen unix:$tmp/run/aspaced/aspaced.sock" \
	    XDG_RUNTIME_DIR="$tmp/run"
	user_has "runtime-directory /tmp/aspaced-$uid" HOME="$tmp/home"
	user_has "listen unix:/tmp/aspaced-$uid/aspaced.sock" \
	    XDG_RUNTIME_DIR=relative/run
	user_has "state-directory $tmp/home/.local/state/aspaced" \
	    HOME="$tmp/home"
	user_has "state-directory $tmp/st/aspaced" HOME="$tmp/home" \
	    XDG_STATE_HOME="$tmp/st"
	user_has "state-directory /var/lib/aspaced/x" \
	    STATE_DIRECTORY=/var/lib/aspaced/x:/y HOME="$tmp/home"
	user_has "runtime-directory /run/aspaced/x" \
	    RUNTIME_DIRECTORY=/run/aspaced/x:/y XDG_RUNTIME_DIR="$tmp/run"
	user_has "listen unix:/run/aspaced/x/aspaced.sock" \
	    RUNTIME_DIRECTORY=/run/aspaced/x:/y
	(cd "$tmp" && as_user "$A" -T --config /dev/null) >"$tmp/out" 2>&1
	if grep -qxF "state-directory $tmp/aspaced-state" "$tmp/out"; then pass
	else fail "no HOME: not the working directory's aspaced-state"; fi
fi
if [ "$(id -u)" -eq 0 ]; then
	env -i PATH="$PATH" "$A" -T --config /dev/null >"$tmp/out" 2>&1
	if grep -qxF "listen unix:/run/aspaced/aspaced.sock" "$tmp/out" &&
	    grep -qxF "state-directory /var/lib/aspaced" "$tmp/out"; then pass
	else fail "root's defaults"; cat "$tmp/out"; fi
fi

# --- no listener given: aspaced and aspace meet on the default socket ----------
if [ -n "${uid:-}" ]; then
	mkdir "$tmp/run" && chmod 777 "$tmp/run"
	# a subshell that execs: $! is then the daemon itself, for the kill
	(as_user_exec XDG_RUNTIME_DIR="$tmp/run" "$A" --config /dev/null \
	    --state-directory none --workers 1) >"$tmp/listening" \
	    2>"$tmp/err" &
	pid=$!
	i=0
	while ! grep -q '^listening' "$tmp/listening" && [ $i -lt 200 ] &&
	    kill -0 "$pid" 2>/dev/null; do
		sleep 0.05
		i=$((i + 1))
	done
	if grep -qxF "listening unix:$tmp/run/aspaced/aspaced.sock" \
	    "$tmp/listening" &&
	    [ "$(stat -c %a "$tmp/run/aspaced")" = 700 ]; then pass
	else fail "not listening on the default socket"; cat "$tmp/err"; fi
	if as_user XDG_RUNTIME_DIR="$tmp/run" "$ASPACE" session list \
	    >"$tmp/out" 2>&1; then pass
	else fail "aspace does not find the default socket"; cat "$tmp/out"; fi
	kill "$pid"
	wait "$pid" 2>/dev/null
	pid=
	# A runtime directory others may write to is refused.
	rm -rf "$tmp/run/aspaced"
	mkdir -m 777 "$tmp/run/aspaced"
	chmod 777 "$tmp/run/aspaced"
	as_user XDG_RUNTIME_DIR="$tmp/run" "$A" --config /dev/null \
	    >"$tmp/out" 2>"$tmp/err"
	st=$?
	if [ "$st" -eq 1 ] && grep -q "others may write" "$tmp/err"; then pass
	else fail "an open runtime directory is used (status $st)"; fi
fi

# --- the manual and the example know every keyword -----------------------------
"$A" -T --config /dev/null >"$tmp/defaults" 2>&1
man=$srcdir/docs/aspaced.conf.5
example=$srcdir/docs/aspaced.conf.example
while read -r kw val; do
	if grep -qx "\.It Ic $kw Ar.*" "$man"; then pass
	else fail "$man does not describe $kw"; fi
	case $kw in
	listen|runtime-directory|state-directory|ram-total)
		# ram-total's default depends on the host's memory.
		grep -q "^#$kw " "$example";;
	*)	grep -qxF "#$kw $val" "$example";;
	esac
	if [ $? -eq 0 ]; then pass
	else fail "$example lacks: #$kw $val"; fi
done <"$tmp/defaults"
# Uncommented (but for its second listener), the example reads.
sed 's/^#\([a-z]\)/\1/' "$example" | grep -v '^listen tls:' >"$C"
if "$A" -T --config "$C" >/dev/null 2>"$tmp/err"; then pass
else fail "the example does not read: $(cat "$tmp/err")"; fi
n=$(grep -c '^\.It Ic [a-z-]* Ar' "$man")
if [ "$n" -eq "$(wc -l <"$tmp/defaults")" ]; then pass
else fail "$man describes $n keywords"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
