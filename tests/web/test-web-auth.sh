#!/bin/sh
# test-web-auth.sh: the web listener's rules (daemon/web-api.c,
# docs/web.md), with curl against an aspaced whose two tenants (tokens
# alice and bob, over TLS) each have a session:
#   - /api/ needs the cookie (401); a login token works once (403 after),
#     only by POST with X-Aspace-CSRF from our own origin (403), never by
#     GET (which leaves it unused); the cookie is HttpOnly and
#     SameSite=Strict; logout ends it; a bogus cookie is 401;
#   - a tenant sees its own sessions only: another's id is 404 on every
#     endpoint, and `aspace web --session` of it is refused;
#   - GET changes nothing (the session list is the same after);
#   - limits: a body over 256 KiB is 413, a POST without a length 411, a
#     head over 4 KiB 431, more than 32 connections are closed at accept;
#   - the JSON is the protocol's: maps from the page equal `aspace maps`;
#   - a GET's ETag: asked again under it, 304 and no body until a change;
#   - a stepped trace's answer says what each line changed.
# Needs curl and openssl (else exit 77).
ASPACED=${ASPACED:-daemon/aspaced}
ASPACE=${ASPACE:-client/aspace}
srcdir=${srcdir:-.}
command -v curl >/dev/null 2>&1 || { echo "SKIP: no curl"; exit 77; }
tmp=$(mktemp -d) || exit 99
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
sh "$srcdir/tests/daemon/certs.sh" "$tmp" || exit $?
passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

printf 'alice-token-0123 alice\nbob-token-456789 bob\n' >"$tmp/tokens"
"$ASPACED" --listen tls://127.0.0.1:0 --tls-cert "$tmp/server.pem" \
    --tls-key "$tmp/server.key" --tokens "$tmp/tokens" \
    --state-directory none --web-listen 127.0.0.1:0 --log-target stderr \
    --foreground >"$tmp/out" 2>"$tmp/err" &
pid=$!
i=0
while ! grep -q '^web ' "$tmp/out" 2>/dev/null && [ $i -lt 400 ]; do
	sleep 0.05
	i=$((i + 1))
done
tls=$(sed -n 's/^listening //p' "$tmp/out")
web=$(sed -n 's/^web //p' "$tmp/out")
[ -n "$web" ] && [ -n "$tls" ] || { echo "aspaced did not start"; cat "$tmp/err"; exit 99; }

as() {	# as TENANT aspace-args...
	who=$1
	shift
	"$ASPACE" --connect "$tls" --ca "$tmp/ca.pem" --token "$who-token-$(
	    [ "$who" = alice ] && echo 0123 || echo 456789)" "$@"
}
token() {	# a login token of tenant $1 (args: more for aspace web)
	who=$1
	shift
	as "$who" web "$@" | sed -n 's/.*#token=\([0-9a-f]*\).*/\1/p'
}
# code METHOD PATH [curl args]: the HTTP status
code() {
	m=$1 p=$2
	shift 2
	curl -s -o "$tmp/body" -D "$tmp/head" -w '%{http_code}' -X "$m" \
	    "$@" "$web$p"
}
expect() {	# expect WANT WHAT GOT
	if [ "$1" = "$3" ]; then pass; else fail "$2: $3, not $1"; fi
}
login() {	# login TOKEN: the cookie, "aspace=HEX"
	code POST /api/login -H 'X-Aspace-CSRF: 1' --data-binary "$1" >/dev/null
	sed -n 's/^Set-Cookie: \(aspace=[0-9a-f]*\);.*/\1/p' "$tmp/head"
}

printf 'mmap 0 16K rw- private,anon\nwrite 0x0 1\n' >"$tmp/t"
sa=$(as alice run --keep "$tmp/t" 2>&1 >/dev/null | grep -o '[0-9a-f]\{32\}')
[ -n "$sa" ] || sa=$(as alice session list | cut -f1 | head -1)
sb=$(as bob session create | grep -o '[0-9a-f]\{32\}')
[ -n "$sa" ] && [ -n "$sb" ] || { echo "no sessions: '$sa' '$sb'"; exit 99; }

# --- login ----------------------------------------------------------------
expect 401 "no cookie" "$(code GET /api/sessions)"
t=$(token alice)
expect 403 "login without X-Aspace-CSRF" \
    "$(code POST /api/login --data-binary "$t")"
expect 403 "login from another site" "$(code POST /api/login \
    -H 'X-Aspace-CSRF: 1' -H 'Sec-Fetch-Site: cross-site' --data-binary "$t")"
code GET "/api/login?token=$t" >/dev/null
expect 200 "the token after refused tries and a GET" \
    "$(code POST /api/login -H 'X-Aspace-CSRF: 1' --data-binary "$t")"
if grep -q '^Set-Cookie: aspace=[0-9a-f]\{64\}; Path=/; HttpOnly; SameSite=Strict' \
    "$tmp/head"; then pass; else fail "the cookie: $(grep Set-Cookie "$tmp/head")"; fi
ca=$(sed -n 's/^Set-Cookie: \(aspace=[0-9a-f]*\);.*/\1/p' "$tmp/head")
expect 403 "the token twice" \
    "$(code POST /api/login -H 'X-Aspace-CSRF: 1' --data-binary "$t")"
expect 403 "an unknown token" "$(code POST /api/login -H 'X-Aspace-CSRF: 1' \
    --data-binary "$(echo "$t" | tr 0-9a-f 1-9a-f0)")"
expect 401 "a bogus cookie" "$(code GET /api/sessions \
    -H "Cookie: aspace=$(echo "$t" | tr 0-9a-f 1-9a-f0)")"
if grep -q "Content-Security-Policy: default-src 'self'" "$tmp/head"; then
	pass; else fail "no Content-Security-Policy"; fi

# --- tenants -----------------------------------------------------------------
code GET /api/sessions -H "Cookie: $ca" >/dev/null
if grep -q "$sa" "$tmp/body" && ! grep -q "$sb" "$tmp/body"; then pass
else fail "alice's sessions: $(cat "$tmp/body")"; fi
for e in maps smaps "walk?addr=0x1000" "pages?start=0&end=0x1000" counters \
    tasks status kernel; do
	expect 404 "bob's session's $e as alice" \
	    "$(code GET "/api/session/$sb/$e" -H "Cookie: $ca")"
done
expect 400 "a walk without addr" \
    "$(code GET "/api/session/$sa/walk" -H "Cookie: $ca")"
expect 400 "a bad task" \
    "$(code GET "/api/session/$sa/maps?task=x" -H "Cookie: $ca")"
expect 404 "an unknown endpoint" \
    "$(code GET "/api/session/$sa/frob" -H "Cookie: $ca")"
expect 404 "a task that is not there" \
    "$(code GET "/api/session/$sa/maps?task=9" -H "Cookie: $ca")"
expect 200 "a window of maps" "$(code GET \
    "/api/session/$sa/maps?start=0x555555554000&end=0x555555555000" \
    -H "Cookie: $ca")"
if grep -q '"vmas":\[{"start":93824992231424,' "$tmp/body" &&
    [ "$(grep -o '"start"' "$tmp/body" | wc -l)" -eq 1 ]; then pass
else fail "the window of maps: $(head -c 300 "$tmp/body")"; fi
expect 200 "alice's maps" "$(code GET "/api/session/$sa/maps" -H "Cookie: $ca")"
"$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["maps"]["text"], end="")' \
    "$tmp/body" >"$tmp/web-maps" 2>/dev/null || cp "$tmp/body" "$tmp/web-maps"
as alice maps --session "$sa" | sed -n 's/^  //p' >"$tmp/cli-maps"
if cmp -s "$tmp/web-maps" "$tmp/cli-maps"; then pass
else fail "/api/ maps differ from aspace maps"; fi
# an answer's ETag: asked again under it, 304 with no body until a change
tag=$(sed -n 's/^ETag: \("[0-9a-f]\{8\}-[0-9a-f]*"\)\r*$/\1/p' "$tmp/head")
[ -n "$tag" ] && pass || fail "no ETag on maps: $(cat "$tmp/head")"
rm -f "$tmp/body"	# curl makes no file for no body
expect 304 "maps under their ETag" "$(code GET "/api/session/$sa/maps" \
    -H "Cookie: $ca" -H "If-None-Match: $tag")"
if [ -s "$tmp/body" ] || ! grep -q '^Content-Length: 0' "$tmp/head"; then
	fail "a 304 with a body"; else pass; fi
expect 200 "maps under another ETag" "$(code GET "/api/session/$sa/maps" \
    -H "Cookie: $ca" -H 'If-None-Match: "00000000-1"')"
as alice mmap --session "$sa" 0x200000000000 4K rw- private,anon,fixed \
    >/dev/null
expect 200 "maps under their ETag after an mmap" "$(code GET \
    "/api/session/$sa/maps" -H "Cookie: $ca" -H "If-None-Match: $tag")"
grep -q '"start":35184372088832,' "$tmp/body" && pass ||
    fail "the changed maps: $(head -c 300 "$tmp/body")"
expect 401 "an ETag is no login" "$(code GET "/api/session/$sa/maps" \
    -H "If-None-Match: $tag")"
if as alice web --session "$sb" >/dev/null 2>&1; then
	fail "a login token for another tenant's session"; else pass; fi
cb=$(login "$(token bob --session "$sb")")
expect 404 "alice's session as bob" \
    "$(code GET "/api/session/$sa/maps" -H "Cookie: $cb")"

# --- GET changes nothing; POST needs the header -----------------------------
code GET /api/sessions -H "Cookie: $ca" >/dev/null
cp "$tmp/body" "$tmp/before"
for p in /api/trace /api/logout /api/login "/api/session/$sa/maps?task=1"; do
	code GET "$p" -H "Cookie: $ca" >/dev/null
done
code GET /api/sessions -H "Cookie: $ca" >/dev/null
if cmp -s "$tmp/before" "$tmp/body"; then pass
else fail "a GET changed the sessions"; fi
expect 403 "a trace POST without X-Aspace-CSRF" \
    "$(code POST /api/trace -H "Cookie: $ca" --data-binary @"$tmp/t")"
expect 200 "a trace POST" "$(code POST /api/trace -H "Cookie: $ca" \
    -H 'X-Aspace-CSRF: 1' --data-binary @"$tmp/t")"
if grep -q '"steps":\[{"line":1' "$tmp/body"; then pass
else fail "the trace's steps: $(head -c 200 "$tmp/body")"; fi
# What each step changed (web-step.c): a VMA added, a page faulted in, a
# VMA split in three; the counters after each line.
printf '%s\n' 'mmap 0x200000000000 12K rw- private,anon,fixed' \
    'write 0x200000001000 0x1' 'mprotect 0x200000001000 4K r--' >"$tmp/t3"
code POST /api/trace -H "Cookie: $ca" -H 'X-Aspace-CSRF: 1' \
    --data-binary @"$tmp/t3" >/dev/null
"$PYTHON3" - "$tmp/body" <<'EOF' && pass || fail "a step's changes"
import json, sys
j = json.load(open(sys.argv[1]))
s = j["steps"]
assert [c["kind"] for c in s[0]["changes"]] == ["added"], s[0]
assert s[0]["changes"][0]["new"][0].startswith("200000000000-200000003000 ")
assert s[1]["changes"] == [] and "ptes_full" not in s[1], s[1]
assert [p[:2] for p in s[1]["ptes"]] == [[0x200000001000, "A"]], s[1]["ptes"]
c = s[2]["changes"]
assert [(x["kind"], x["nold"], x["nnew"]) for x in c] == [("split", 1, 3)], c
n = j["counter_names"]
assert all(len(x["counters"]) == len(n) for x in s), n
k = n.index("minor_faults")
assert s[1]["counters"][k] == s[0]["counters"][k] + 1, [x["counters"] for x in s]
EOF

# --- limits -----------------------------------------------------------------
head -c 300000 /dev/zero | tr '\0' '#' >"$tmp/big"
expect 413 "a body over 256 KiB" "$(code POST /api/trace -H "Cookie: $ca" \
    -H 'X-Aspace-CSRF: 1' --data-binary @"$tmp/big")"
expect 411 "a POST without a length" "$(code POST /api/trace \
    -H "Cookie: $ca" -H 'X-Aspace-CSRF: 1' -H 'Content-Length:')"
expect 431 "a head over 4 KiB" "$(code GET /api/sessions \
    -H "X-Long: $(head -c 5000 "$tmp/big")")"
"$PYTHON3" - "$web" <<'EOF' && pass || fail "more than 32 connections"
import socket, sys, time
host, port = sys.argv[1][len("http://"):].rsplit(":", 1)
socks = [socket.create_connection((host, int(port))) for _ in range(40)]
time.sleep(0.5)
closed = 0
for s in socks:
    s.settimeout(0.2)
    try:
        if s.recv(1) == b"":
            closed += 1
    except (socket.timeout, ConnectionResetError):
        pass
sys.exit(0 if closed >= 8 else 1)
EOF

# --- logout -------------------------------------------------------------------
expect 200 "logout" "$(code POST /api/logout -H "Cookie: $ca" \
    -H 'X-Aspace-CSRF: 1' --data-binary '')"
expect 401 "the cookie after logout" "$(code GET /api/sessions -H "Cookie: $ca")"

kill "$pid"
wait "$pid"
pid=
if grep -E 'Sanitizer|runtime error' "$tmp/err"; then fail "a sanitizer's report"; fi

# --- without web-listen: aspace web says so ------------------------------------
"$ASPACED" --listen "unix:$tmp/sock" --state-directory none \
    --log-target stderr --foreground >"$tmp/out" 2>"$tmp/err" &
pid=$!
i=0
while [ ! -S "$tmp/sock" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
if "$ASPACE" --connect "unix:$tmp/sock" web >"$tmp/o" 2>&1; then
	fail "aspace web without a web listener"
elif grep -q "UNIMPLEMENTED.*web-listen" "$tmp/o"; then pass
else fail "aspace web without a web listener: $(cat "$tmp/o")"; fi
kill "$pid"
wait "$pid"
pid=
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
