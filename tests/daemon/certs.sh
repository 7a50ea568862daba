#!/bin/sh
# certs.sh DIR [server2]: test certificates for aspaced, made with the
# openssl command into DIR (which must exist):
#   ca.pem ca.key          a test CA
#   server.pem server.key  the server, for 127.0.0.1, ::1 and localhost
#   alice.pem alice.key    a client, subject CN=alice, signed by the CA
#   mallory.pem mallory.key  a client, CN=mallory, signed by another CA
#   server2.pem server2.key  with "server2": the server's names, signed
#                          by the other CA (a certificate to reload)
# Exit 77 (automake's "skipped") when openssl is missing.
set -eu

dir=${1:?usage: certs.sh DIR [server2]}
more=${2:-}
if ! command -v openssl >/dev/null 2>&1; then
	echo "certs.sh: the openssl command is missing (Debian: openssl)" >&2
	exit 77
fi
cd "$dir"

key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$1.key" 2>/dev/null
}

# ca NAME CN: a self-signed CA
ca() {
	key "$1"
	openssl req -x509 -new -key "$1.key" -sha256 -days 2 -subj "/CN=$2" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign \
	    -out "$1.pem" 2>/dev/null
}

# leaf NAME CN CA EXT...: a certificate for NAME signed by CA
leaf() {
	name=$1 cn=$2 signer=$3
	shift 3
	key "$name"
	openssl req -new -key "$name.key" -subj "/CN=$cn" \
	    -out "$name.csr" 2>/dev/null
	printf '%s\n' basicConstraints=CA:FALSE "$@" >"$name.ext"
	openssl x509 -req -in "$name.csr" -CA "$signer.pem" \
	    -CAkey "$signer.key" -CAcreateserial -sha256 -days 2 \
	    -extfile "$name.ext" -out "$name.pem" 2>/dev/null
	rm -f "$name.csr" "$name.ext"
}

ca ca "aspace test CA"
ca other "another CA"
leaf server localhost ca keyUsage=critical,digitalSignature \
    extendedKeyUsage=serverAuth \
    subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
leaf alice alice ca keyUsage=critical,digitalSignature \
    extendedKeyUsage=clientAuth
leaf mallory mallory other keyUsage=critical,digitalSignature \
    extendedKeyUsage=clientAuth
if [ "$more" = server2 ]; then
	leaf server2 localhost other keyUsage=critical,digitalSignature \
	    extendedKeyUsage=serverAuth \
	    subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
fi
rm -f ca.srl other.srl
