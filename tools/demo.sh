#!/bin/sh
# demo.sh: the README's first command, after the build: start aspaced on a
# Unix socket and on localhost TLS with a self-signed certificate made
# now (TLS clients show a bearer token, also made now), run an example
# trace through each, then stop the daemon.
set -e
cd "$(dirname "$0")/.."
trace=${1:-docs/examples/01-mmap-and-merge.trace}
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || :; wait "$pid" 2>/dev/null || :; rm -rf "$tmp"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
token=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
echo "$token demo" >"$tmp/tokens"
daemon/aspaced --listen "unix:$tmp/sock" --listen tls://127.0.0.1:0 \
    --state-directory "$tmp/state" \
    --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" \
    --tokens "$tmp/tokens" --foreground >"$tmp/listening" &
pid=$!
i=0
until grep -q '^listening tls://' "$tmp/listening" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 200 ] || { echo "aspaced did not start" >&2; exit 1; }
	sleep 0.05
done
cat "$tmp/listening"
url=$(sed -n 's/^listening \(tls:.*\)$/\1/p' "$tmp/listening")
echo "== $trace through unix:$tmp/sock"
client/aspace --connect "unix:$tmp/sock" run "$trace"
echo "== $trace through $url"
client/aspace --connect "$url" --ca "$tmp/cert.pem" --token "$token" \
    run "$trace"
