#!/bin/sh
# make-golden.sh: regenerate the golden outputs by running every
# tests/linux-diff/traces/NAME.trace on this host's kernel with ref-run,
# and record the kernel they were made on.
#
#  - a trace whose first command is `kernel zero_page off` models a kernel
#    without the zero page (mm_forbids_zeropage()); its golden is
#    golden-nozp/NAME.out, kernel in golden-nozp/KERNEL.  Only a host
#    without the zero page can make these: on a host with it (ref-run
#    answers `kernel zero_page off` with "host kernel differs") they are
#    refused and left as they are;
#  - every other trace: golden/NAME.out, kernel in golden/KERNEL.
#
# Usage: REF_RUN=path/to/ref-run [srcdir=...] make-golden.sh
#    or: make-golden.sh path/to/ref-run
# Run it on Linux x86-64, as root (the reference assumes root's limits).

set -u

REF_RUN=${1:-${REF_RUN:-}}
srcdir=${srcdir:-.}
if [ -d "$srcdir/tests/linux-diff/traces" ]; then
	dir=$srcdir/tests/linux-diff
elif [ -d "$srcdir/traces" ]; then
	dir=$srcdir
else
	dir=$(dirname "$0")
fi
if [ -z "$REF_RUN" ] || [ ! -x "$REF_RUN" ]; then
	echo "make-golden: set REF_RUN to the ref-run binary" >&2
	exit 2
fi
if [ "$(uname -s)" != Linux ] || [ "$(uname -m)" != x86_64 ]; then
	echo "make-golden: needs Linux x86-64" >&2
	exit 2
fi

# nozp TRACE: is its first command `kernel zero_page off`?
nozp() {
	awk '/^[ \t]*(#|$)/ { next }
	{ r = $1 == "kernel" && $2 == "zero_page" && $3 == "off"; exit }
	END { exit !r }' "$1"
}

# Does this host map the zero page?  yes, no, or unknown.
printf 'kernel zero_page on\n' >"${TMPDIR:-/tmp}/make-golden.$$"
zp=$("$REF_RUN" "${TMPDIR:-/tmp}/make-golden.$$" 2>/dev/null)
rm -f "${TMPDIR:-/tmp}/make-golden.$$"
case $zp in
"1: = 0") host_zp=yes ;;
"1: ! error: host kernel differs: zero_page") host_zp=no ;;
*) host_zp=unknown ;;
esac

mkdir -p "$dir/golden" "$dir/golden-nozp" || exit 1
n=0
nz=0
refused=0
for t in "$dir"/traces/*.trace; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .trace)
	gdir=$dir/golden
	if nozp "$t"; then
		if [ "$host_zp" != no ]; then
			refused=$((refused + 1))
			continue
		fi
		gdir=$dir/golden-nozp
		nz=$((nz + 1))
	else
		n=$((n + 1))
	fi
	# ref-run exits 1 when the trace has error lines: that is output too
	"$REF_RUN" "$t" >"$gdir/$name.out.tmp"
	[ $? -le 1 ] || { echo "make-golden: $name: ref-run failed" >&2; exit 1; }
	mv "$gdir/$name.out.tmp" "$gdir/$name.out"
done
[ "$n" -eq 0 ] || uname -r >"$dir/golden/KERNEL"
if [ "$nz" -gt 0 ]; then
	{
		uname -r
		echo "Made by ref-run on this kernel, booted without the zero page."
	} >"$dir/golden-nozp/KERNEL"
fi
echo "make-golden: $n golden files, $nz golden-nozp files for kernel $(uname -r)"
if [ "$refused" -gt 0 ]; then
	echo "make-golden: refused $refused golden-nozp files: this host" \
		"maps the zero page (probe: $host_zp); golden-nozp/ left as it is" >&2
fi
