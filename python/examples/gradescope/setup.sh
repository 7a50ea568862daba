#!/bin/sh
# setup.sh: Gradescope runs this once, as root, when it builds the
# autograder's image (Ubuntu or Debian), in /autograder/source: this
# directory as the teacher uploaded it.  It installs the aspace Python
# client from distribution packages only (no PyPI), and aspaced too when
# the zip holds aspace's source tarball (the autograder then runs its own
# daemon; otherwise config.json names a shared one).
set -eu
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-protobuf protobuf-compiler \
    python3-setuptools python3-pip

# aspace-VERSION.tar.gz (make dist): build and install aspaced, the
# aspace command and the proto, and take the Python client from it.
tarball=$(ls aspace-*.tar.gz 2>/dev/null | head -n 1 || true)
if [ -n "$tarball" ]; then
	apt-get install -y -qq build-essential pkg-config libevent-dev \
	    libprotobuf-c-dev protobuf-c-compiler libssl-dev libjansson-dev \
	    libcmocka-dev
	rm -rf build-aspace && mkdir build-aspace
	tar -xzf "$tarball" -C build-aspace --strip-components=1
	(cd build-aspace && ./configure --quiet && make -j2 && make install)
	python_dir=build-aspace/python
else
	# python/ and proto/ copied from the aspace source tree.
	python_dir=python
fi
# --no-build-isolation: build with Debian's setuptools, offline.
# --break-system-packages: the image is the autograder's alone.
python3 -m pip install --no-build-isolation --break-system-packages \
    "$python_dir" ||
    python3 -m pip install --no-build-isolation "$python_dir"
