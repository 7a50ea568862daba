#!/bin/sh
# make-golden.sh: regenerate tests/linux-diff/golden/NAME.out from every
# tests/linux-diff/traces/NAME.trace by running it on this host's kernel
# with ref-run, and record the kernel in golden/KERNEL.
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

mkdir -p "$dir/golden" || exit 1
n=0
for t in "$dir"/traces/*.trace; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .trace)
	# ref-run exits 1 when the trace has error lines: that is output too
	"$REF_RUN" "$t" >"$dir/golden/$name.out.tmp"
	[ $? -le 1 ] || { echo "make-golden: $name: ref-run failed" >&2; exit 1; }
	mv "$dir/golden/$name.out.tmp" "$dir/golden/$name.out"
	n=$((n + 1))
done
uname -r >"$dir/golden/KERNEL"
echo "make-golden: $n golden files for kernel $(uname -r)"
