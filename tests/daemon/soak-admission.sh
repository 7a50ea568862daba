#!/bin/sh
# soak-admission.sh [SECONDS]: the longer flood of tests/daemon/
# test_admission (its test_soak): for SECONDS (default 90, at most 600)
# rounds of 256 TCP connections that never handshake, from 127.0.0.2 or
# from 16 addresses that fill the unauthenticated pool, held past the
# handshake deadline every third round, with a Unix and a TLS client
# timed each round (each must be served within 1 s) and the connections
# back to 0 at the end.  Run by `make soak`, not by make
# check; bounded by timeout(1) to SECONDS + 60.
# Environment: ASPACED (default daemon/aspaced), TEST_ADMISSION (default
# tests/daemon/test_admission), srcdir (for certs.sh).
set -eu

secs=${1:-${ADM_SOAK_SECONDS:-90}}
case $secs in
''|*[!0-9]*) echo "soak-admission.sh: not a number of seconds: $secs" >&2
	exit 2 ;;
esac
[ "$secs" -le 600 ] || secs=600
ADM_SOAK_SECONDS=$secs
export ADM_SOAK_SECONDS
exec timeout $((secs + 60)) "${TEST_ADMISSION:-tests/daemon/test_admission}" \
    "${ASPACED:-daemon/aspaced}"
