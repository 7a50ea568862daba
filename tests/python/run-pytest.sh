#!/bin/sh
# run-pytest.sh: the Python client's tests (tests/python/test_*.py), run
# by make check.  The tests start a real aspaced (conftest.py: a Unix
# socket and TLS, with test certificates from tests/daemon/certs.sh and a
# token file) and talk to it through the aspace package in python/.
#
# Nothing here is skipped: a missing python3-protobuf, python3-pytest,
# protoc or openssl (tools/install-deps.sh installs them all) fails the
# test, saying what to install.  PYTEST_ARGS passes options to pytest
# (PYTEST_ARGS='-m "not needs_grade"').
PYTHON3=${PYTHON3:-python3}
srcdir=${srcdir:-.}
ASPACED=${ASPACED:-daemon/aspaced}
ASPACE=${ASPACE:-client/aspace}
ASPACE_PB2_DIR=${ASPACE_PB2_DIR:-python}

die() {
	echo "FAIL: $*" >&2
	exit 1
}

command -v "$PYTHON3" >/dev/null 2>&1 ||
    die "no $PYTHON3 (apt-get install python3; configure PYTHON3=...)"
"$PYTHON3" -c 'import google.protobuf' 2>/dev/null ||
    die "$PYTHON3 has no google.protobuf (apt-get install python3-protobuf)"
"$PYTHON3" -c 'import pytest' 2>/dev/null ||
    die "$PYTHON3 has no pytest (apt-get install python3-pytest)"
[ -f "$ASPACE_PB2_DIR/aspace_pb2.py" ] ||
    die "$ASPACE_PB2_DIR/aspace_pb2.py is missing: protoc was not found by configure (apt-get install protobuf-compiler, then configure again)"
command -v openssl >/dev/null 2>&1 ||
    die "the openssl command is missing (apt-get install openssl)"

case $ASPACED in /*) ;; *) ASPACED=$(pwd)/$ASPACED ;; esac
case $ASPACE in /*) ;; *) ASPACE=$(pwd)/$ASPACE ;; esac
case $ASPACE_PB2_DIR in /*) ;; *) ASPACE_PB2_DIR=$(pwd)/$ASPACE_PB2_DIR ;; esac
top=$(cd "$srcdir" && pwd)
PYTHONPATH=$top/python${PYTHONPATH:+:$PYTHONPATH}
CERTS_SH=$top/tests/daemon/certs.sh
# Nothing is written into the source tree (it may be read-only).
PYTHONDONTWRITEBYTECODE=1
export ASPACED ASPACE ASPACE_PB2_DIR PYTHONPATH CERTS_SH PYTHONDONTWRITEBYTECODE

eval "set -- $PYTEST_ARGS"
exec "$PYTHON3" -m pytest -p no:cacheprovider -q -ra "$top/tests/python" "$@"
