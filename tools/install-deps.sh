#!/bin/sh
# install-deps.sh: install what building and testing aspace needs on
# Debian 12 (run as root).  Safe to run again.
set -e
export DEBIAN_FRONTEND=noninteractive
pkgs="build-essential autoconf automake pkg-config libevent-dev \
libprotobuf-c-dev protobuf-c-compiler libssl-dev openssl libcmocka-dev libedit-dev"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	apt-get update -qq
	apt-get install -y -qq $missing
fi
