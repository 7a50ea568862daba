#!/bin/sh
# install-deps.sh: install what building and testing aspace needs on
# Debian 12 (run as root).  Safe to run again.
#
# make fuzz-ci needs clang with libFuzzer: libclang-rt-14-dev ships
# libclang_rt.fuzzer-x86_64.a (and clang's ASan and UBSan runtimes), which
# clang-14 only recommends; llvm ships llvm-symbolizer, for reports with
# file and line; chromium runs the web view's browser test (tests/web/).
set -e
export DEBIAN_FRONTEND=noninteractive
pkgs="build-essential autoconf automake pkg-config libevent-dev \
libprotobuf-c-dev protobuf-c-compiler libssl-dev openssl libcmocka-dev libedit-dev \
libjansson-dev \
clang libclang-rt-14-dev llvm curl python3 chromium \
python3-protobuf protobuf-compiler python3-pytest python3-setuptools python3-pip"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	apt-get update -qq
	apt-get install -y -qq $missing
fi
