#!/bin/sh
# verify-units.sh: the files of systemd/ as systemd reads them.
#   - systemd-analyze verify finds nothing to say about aspaced.service
#     (made from its .in with the built aspaced, $ASPACED, in place of
#     @sbindir@/aspaced: the executable must exist) and aspaced.socket;
#   - systemd-analyze security --offline=true rates the service's
#     exposure at most 2.0 (it was 1.2 when written), printed;
#   - as root: systemd-sysusers makes the aspaced user in a scratch root,
#     and systemd-tmpfiles makes /etc/aspaced there: mode 0750, group
#     aspaced, and an empty token file of mode 0640.
# Skipped (77) without systemd-analyze, or with one too old for
# --offline (systemd < 250).
set -u

srcdir=${srcdir:-.}
srcdir=$(cd "$srcdir" && pwd) || exit 99	# --root= resolves relative paths
ASPACED=${ASPACED:-$PWD/daemon/aspaced}
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "verify-units: no systemd-analyze (Debian: systemd): skipped"
	exit 77
fi
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
failed=0

sed "s|@sbindir@/aspaced|$ASPACED|g" "$srcdir/systemd/aspaced.service.in" \
    >"$tmp/aspaced.service" || exit 99
cp "$srcdir/systemd/aspaced.socket" "$tmp/" || exit 99

# verify: silent for good units (the man page may not be installed yet).
systemd-analyze verify --man=no "$tmp/aspaced.service" \
    "$tmp/aspaced.socket" >"$tmp/verify" 2>&1
if [ $? -ne 0 ] || [ -s "$tmp/verify" ]; then
	echo "FAIL: systemd-analyze verify:"
	cat "$tmp/verify"
	failed=1
fi

if ! systemd-analyze security --offline=true "$tmp/aspaced.service" \
    >"$tmp/security" 2>&1; then
	if grep -q "offline" "$tmp/security"; then
		echo "verify-units: systemd-analyze has no --offline: skipped"
		exit 77
	fi
fi
exposure=$(sed -n 's/.*Overall exposure level for aspaced.service: \([0-9.]*\).*/\1/p' \
    "$tmp/security")
if [ -z "$exposure" ]; then
	echo "FAIL: systemd-analyze security gave no exposure:"
	cat "$tmp/security"
	failed=1
elif awk "BEGIN { exit !($exposure <= 2.0) }"; then
	echo "aspaced.service: exposure $exposure"
else
	echo "FAIL: aspaced.service: exposure $exposure, over 2.0:"
	grep '✗' "$tmp/security"
	failed=1
fi

# sysusers.d and tmpfiles.d, into a scratch root (root only: chown).
if [ "$(id -u)" = 0 ] && command -v systemd-sysusers >/dev/null 2>&1 &&
    command -v systemd-tmpfiles >/dev/null 2>&1; then
	root=$tmp/root
	mkdir -p "$root/etc"
	if systemd-sysusers --root="$root" \
	    "$srcdir/systemd/sysusers.d/aspaced.conf" >/dev/null 2>&1 &&
	    systemd-tmpfiles --root="$root" --create \
	    "$srcdir/systemd/tmpfiles.d/aspaced.conf" >/dev/null 2>&1; then
		gid=$(sed -n 's/^aspaced:x:\([0-9]*\):.*/\1/p' "$root/etc/group")
		got=$(stat -c '%a %g' "$root/etc/aspaced" \
		    "$root/etc/aspaced/tokens" | tr '\n' ' ')
		if [ -z "$gid" ] || [ "$got" != "750 $gid 640 $gid " ]; then
			echo "FAIL: /etc/aspaced and its tokens: $got (group $gid)"
			failed=1
		fi
	else
		echo "FAIL: systemd-sysusers or systemd-tmpfiles refused the files"
		failed=1
	fi
fi
exit $failed
