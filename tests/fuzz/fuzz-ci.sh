#!/bin/sh
# fuzz-ci.sh: the fuzz targets under libFuzzer for a bounded time, for
# `make fuzz-ci` (Makefile.am builds the binaries, this runs them).
#
#   fuzz-ci.sh probe CC
#	Exit 0 if CC links a libFuzzer target with ASan and UBSan, else say
#	why and exit 77.
#   fuzz-ci.sh run NAME BINARY SEEDS SECONDS MAX_LEN TIMEOUT RSS_MB [FLAG...]
#	Fuzz BINARY for SECONDS from a copy of the seed directory SEEDS (the
#	seeds themselves are never written), then print one line of figures.
#	A crash, leak, UBSan report, timeout (or a slow unit, which
#	libFuzzer reports past 10 s), or running out of memory fails: the
#	report's end is printed, and each input that caused it with its path
#	and its bytes in base64 and hex, ready to add to SEEDS.
#
# Environment: TMPDIR.  Exit status: 0 on success, 1 when the fuzzer
# found something, 77 when libFuzzer is missing (probe), 99 on a setup
# error.

set -u

probe()
{
	cc=$1
	dir=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-probe.XXXXXX") || exit 99
	cat >"$dir/p.c" <<'EOF'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return n && !d; }
EOF
	if ! command -v "$cc" >/dev/null 2>&1; then
		why="$cc not found"
	elif ! "$cc" -fsanitize=fuzzer,address,undefined "$dir/p.c" \
	    -o "$dir/p" >"$dir/log" 2>&1; then
		why="$cc cannot link -fsanitize=fuzzer,address,undefined:"
		why="$why $(head -n 3 "$dir/log")"
	else
		why=""
	fi
	rm -rf "$dir"
	[ -z "$why" ] && exit 0
	echo "SKIP: fuzz-ci: $why"
	echo "SKIP: fuzz-ci: on Debian 12: apt-get install clang" \
	    "libclang-rt-14-dev (or run tools/install-deps.sh)"
	exit 77
}

# Print an input that made the fuzzer fail: path, base64, hex.
show_input()
{
	echo "fuzz-ci: input: $1 ($(wc -c <"$1") bytes)"
	echo "fuzz-ci: base64 (base64 -d >SEEDS/regress-NAME):"
	base64 "$1" | head -n 200
	echo "fuzz-ci: hex:"
	od -A x -t x1z -v "$1" | head -n 200
}

# A figure from libFuzzer's final stats or its last status line.
final_stat()
{
	sed -n "s/^stat::$1: *//p" "$2" | tail -n 1
}
last_field()
{
	grep -E '^#[0-9]+' "$2" | tail -n 1 |
	    sed -n "s/.* $1: \\([0-9a-zA-Z/]*\\).*/\\1/p"
}

run()
{
	name=$1 bin=$2 seeds=$3 secs=$4 maxlen=$5 tmo=$6 rss=$7
	shift 7
	if [ ! -x "$bin" ] || [ ! -d "$seeds" ]; then
		echo "fuzz-ci: $name: no $bin or no $seeds" >&2
		exit 99
	fi
	work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$name.XXXXXX") || exit 99
	mkdir "$work/corpus" "$work/artifacts" || exit 99
	cp "$seeds"/* "$work/corpus/" || exit 99
	nseeds=$(ls "$work/corpus" | wc -l)
	echo "fuzz-ci: $name: ${secs}s from $nseeds seeds (max_len $maxlen," \
	    "timeout ${tmo}s, rss ${rss} MB) in $work"
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	    "$bin" -max_total_time="$secs" -max_len="$maxlen" -timeout="$tmo" \
	    -rss_limit_mb="$rss" -print_final_stats=1 \
	    -artifact_prefix="$work/artifacts/" "$@" "$work/corpus" \
	    >"$work/log" 2>&1
	status=$?
	execs=$(final_stat number_of_executed_units "$work/log")
	rate=$(final_stat average_exec_per_sec "$work/log")
	rssmb=$(final_stat peak_rss_mb "$work/log")
	cov=$(last_field cov "$work/log")
	ft=$(last_field ft "$work/log")
	corp=$(last_field corp "$work/log")
	init=$(grep -E '^#[0-9]+[[:space:]]+INITED' "$work/log" | head -n 1 |
	    sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	echo "fuzz-ci: $name: ${execs:-?} execs, ${rate:-?}/s," \
	    "cov ${init:-?} -> ${cov:-?}, ft ${ft:-?}," \
	    "corpus $nseeds -> ${corp:-?}, peak rss ${rssmb:-?} MB"
	found=$(ls "$work/artifacts")
	if [ "$status" -eq 0 ] && [ -z "$found" ]; then
		rm -rf "$work"
		return 0
	fi
	echo "FAIL: fuzz-ci: $name: libFuzzer exit status $status; its log ends:"
	grep -v -E '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|RELOAD)' \
	    "$work/log" | tail -n 80
	for f in "$work"/artifacts/*; do
		[ -f "$f" ] && show_input "$f"
	done
	echo "FAIL: fuzz-ci: $name: log and inputs kept in $work"
	return 1
}

case ${1:-} in
probe)
	[ $# -eq 2 ] || exit 99
	probe "$2"
	;;
run)
	[ $# -ge 8 ] || exit 99
	shift
	run "$@" || exit 1
	;;
*)
	echo "usage: fuzz-ci.sh probe CC |" \
	    "run NAME BINARY SEEDS SECONDS MAX_LEN TIMEOUT RSS_MB [FLAG...]" >&2
	exit 99
	;;
esac
