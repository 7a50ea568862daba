#!/bin/sh
# test-install.sh: what `make install` put in $DESTDIR$prefix (run by
# `make installcheck`, and so by distcheck; `make check-install` stages
# an install of its own): aspace.proto, the example traces and the trace
# format's description are there; a program built with
# `pkg-config --cflags --libs aspace-client` (the .pc as installed,
# moved to $DESTDIR) links against the shared libaspace-client and runs,
# talking to the installed aspaced; the installed aspace finds the
# installed reference runner ($pkglibexecdir/ref-run) for run --linux.
: "${CC:=cc}" "${PKG_CONFIG:=pkg-config}"
D=${DESTDIR:-}
tmp=$(mktemp -d) || exit 99
dpid=
trap '[ -z "$dpid" ] || { kill "$dpid"; wait "$dpid"; }; rm -rf "$tmp"' EXIT
failed=0
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

for f in "$pkgdatadir/aspace.proto" "$docdir/trace-format.md" \
    "$docdir/examples/01-mmap-and-merge.trace" \
    "$libdir/libaspace-client.so.0" "$libdir/libaspace-client.so" \
    "$libdir/libaspace-client.a" "$pkgconfigdir/aspace-client.pc"; do
	[ -e "$D$f" ] || fail "$f is not installed"
done
n=$(ls "$D$docdir/examples/"*.trace 2>/dev/null | wc -l)
[ "$n" -ge 20 ] || fail "$n examples installed"

PKG_CONFIG_PATH="$D$pkgconfigdir"; export PKG_CONFIG_PATH
pc="$PKG_CONFIG --define-variable=prefix=$D$prefix"
cflags=$($pc --cflags aspace-client) || fail "pkg-config --cflags"
libs=$($pc --libs aspace-client) || fail "pkg-config --libs"
$pc --static --libs aspace-client | grep -q -- -lssl ||
    fail "pkg-config --static --libs has no -lssl"
cat >"$tmp/prog.c" <<'PROG'
#include <stdio.h>
#include <aspace-client.h>

int main(int argc, char **argv)
{
	struct asc_status st;
	struct asc_client *c;
	uint8_t id[ASC_SESSION_ID_LEN];
	char msg[256], hex[33];

	if (argc != 2 || (c = asc_connect(argv[1], &st)) == NULL ||
	    asc_hello(c, NULL, &st) != 0 ||
	    asc_session_create(c, NULL, id, &st) != 0 ||
	    asc_session_destroy(c, id, &st) != 0) {
		fprintf(stderr, "prog: %s\n", asc_status_str(&st, msg,
		    sizeof(msg)));
		return 1;
	}
	printf("ok %s\n", asc_session_hex(id, hex));
	asc_close(c);
	return 0;
}
PROG
# shellcheck disable=SC2086
$CC $cflags -o "$tmp/prog" "$tmp/prog.c" $libs || fail "the program does not build"
if [ -x "$tmp/prog" ]; then
	LD_LIBRARY_PATH="$D$libdir" ldd "$tmp/prog" |
	    grep -q "libaspace-client.so.0 => $D$libdir" ||
	    fail "the program is not linked with the shared library"
	"$D$sbindir/aspaced" --listen "unix:$tmp/sock" \
	    --state-directory "$tmp/state" --foreground \
	    >"$tmp/daemon.out" 2>"$tmp/daemon.err" &
	dpid=$!
	i=0
	while [ ! -S "$tmp/sock" ] && [ $i -lt 400 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	LD_LIBRARY_PATH="$D$libdir" "$tmp/prog" "unix:$tmp/sock" \
	    >"$tmp/out" 2>&1 && grep -q "^ok [0-9a-f]*$" "$tmp/out" ||
	    { fail "the program does not run"; cat "$tmp/out" "$tmp/daemon.err"; }
fi
# aspace run --linux: the runner beside the installed aspace (no
# ASPACE_REF_RUN), or the one-line refusal where it cannot run.
[ -x "$D$pkglibexecdir/ref-run" ] || fail "$pkglibexecdir/ref-run is not installed"
printf '%s\n' 'window 0x200000000000 0x10000000' \
    'mmap 0x200000000000 4K r-- private,anon,fixed' maps >"$tmp/t.trace"
printf '%s\n' '1: = 0' '2: = 0x200000000000' '3: maps' \
    '  200000000000-200000001000 r--p 00000000' >"$tmp/t.want"
if [ "$(uname -s)/$(uname -m)" = Linux/x86_64 ]; then
	env -u ASPACE_REF_RUN "$D$bindir/aspace" run --linux "$tmp/t.trace" \
	    >"$tmp/t.out" 2>&1 && cmp -s "$tmp/t.out" "$tmp/t.want" ||
	    { fail "installed aspace run --linux"; cat "$tmp/t.out"; }
else
	"$D$bindir/aspace" run --linux "$tmp/t.trace" 2>&1 |
	    grep -q "needs a Linux x86-64 host" || fail "run --linux refusal"
fi
[ "$failed" -eq 0 ] && echo "installed: ok"
[ "$failed" -eq 0 ]
