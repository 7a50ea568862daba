#!/bin/sh
# run-diff.sh: differential test of the simulator against Linux.
#
#  a) every traces/NAME.trace that has a golden file: the simulator's
#     output must equal it.  The golden file is golden/NAME.out (made on
#     Linux by make-golden.sh), or golden-nozp/NAME.out for a trace whose
#     first command is `kernel zero_page off` (a kernel without the zero
#     page; see golden-nozp/KERNEL for how those were made);
#  b) where this host can run the reference (Linux x86-64, ref-run works),
#     ref-run's output is compared with the golden file too; a difference
#     only prints a NOTE (the host kernel may differ from the golden one).
#     golden-nozp traces are checked so only on a host without the zero
#     page; golden/ ones only on a host with it (on a host without it they
#     run live instead, see below);
#  c) random traces from gen-trace, seeds 1..${ASPACE_DIFF_SEEDS:-500}:
#     ref-run and the simulator must agree.  Where Linux placed a non-fixed
#     mmap/mremap outside the trace's window, the trace is cut before that
#     line (and a final `maps` added), as it is then no reference trace;
#  d) the same with gen-trace -z (traces that begin `kernel zero_page off`),
#     seeds 1..${ASPACE_DIFF_Z_SEEDS:-200}: live only on a host without the
#     zero page; elsewhere the simulator runs them alone (a crash, a
#     timeout or an error line fails) and a NOTE says why;
#  e) the same with gen-trace -w (traces with a small swap device and
#     pageout then swap-in clusters), seeds 1..${ASPACE_DIFF_W_SEEDS:-200},
#     live.  Where the reference differs, it is run again (up to 4 more
#     times): under swap Linux does not always answer the same, and a
#     simulator output equal to one of its answers passes, with a NOTE;
#     then gen-trace -w -p (the pageout sequences aimed at any recent
#     mapping, with several tasks alive too), seeds
#     1..${ASPACE_DIFF_WP_SEEDS:-100}, the same way;
#  f) fork shares PTE tables in the simulator by default (`kernel
#     share_tables`, a design choice Linux does not make): every trace of
#     a) and the first ${ASPACE_DIFF_OFF_SEEDS:-100} seeds of c) and of e)
#     run in the simulator a second time with share_tables off, and must
#     give the same answer both ways.
#
# The host is probed once (ref-run on `kernel zero_page on`).  On a host
# without the zero page every live comparison (b for golden/ traces, c)
# gets `kernel zero_page off` prepended to the trace file given to both
# runners, so that both outputs shift by one line alike; b then compares
# ref-run with the simulator (a FAIL if they differ), since golden/ was
# made with the zero page.  Nothing is left out without a NOTE.
#
# Environment: REF_RUN (ref-run binary), SIM_RUN (simulator command, run as
# `$SIM_RUN FILE`), GEN_TRACE (gen-trace binary), srcdir (where tests/ is,
# or this directory), ASPACE_DIFF_SEEDS, ASPACE_DIFF_Z_SEEDS (seeds of the
# -z mode, 0 for none), ASPACE_DIFF_W_SEEDS (of the -w mode, 0 for none,
# and then no -w -p either), ASPACE_DIFF_WP_SEEDS (of -w -p, 0 for none),
# ASPACE_DIFF_FIRST_SEED (the random modes' first seed, 1 unless set: a
# soak goes on past the seeds CI runs), ASPACE_DIFF_KEEP (directory for
# failing random traces, default ./linux-diff-failures), ASPACE_DIFF_NCMDS
# (commands per random trace), ASPACE_DIFF_GEN_OPTS
# (options for gen-trace before the seed, e.g. "-a" to add memory accesses;
# "-l" adds a finite `kernel rlimit_memlock` to some traces, "-m" msync,
# "-s" System V shared memory; the default is "-a -t -l -m -s").
# Exit status: 0 if all passed, 1 on a failure, 99 on a setup error.

set -u

srcdir=${srcdir:-.}
if [ -d "$srcdir/tests/linux-diff/traces" ]; then
	dir=$srcdir/tests/linux-diff
elif [ -d "$srcdir/traces" ]; then
	dir=$srcdir
else
	echo "run-diff: cannot find traces/ under srcdir=$srcdir" >&2
	exit 99
fi
if [ -z "${SIM_RUN:-}" ]; then
	echo "run-diff: SIM_RUN is not set" >&2
	exit 99
fi
REF_RUN=${REF_RUN:-}
GEN_TRACE=${GEN_TRACE:-}
seeds=${ASPACE_DIFF_SEEDS:-500}
first_seed=${ASPACE_DIFF_FIRST_SEED:-1}
offseeds=${ASPACE_DIFF_OFF_SEEDS:-100}
zseeds=${ASPACE_DIFF_Z_SEEDS:-200}
wseeds=${ASPACE_DIFF_W_SEEDS:-200}
wpseeds=${ASPACE_DIFF_WP_SEEDS:-100}
gen_opts=${ASPACE_DIFF_GEN_OPTS--a -t -l -m -s}
# (-w -p, pageout aimed anywhere under swap, passes 1,000 seeds too since
# w525 and w719 were fixed: fault-around after a read-around at a punched
# hole, ext4's flush at the release of a file truncated to 0; -w and -p
# alone pass 1,000 and 500.  The first ASPACE_DIFF_WP_SEEDS of -w -p run
# here, as seeds wp1...)
wgen_opts=${ASPACE_DIFF_W_GEN_OPTS:-"$gen_opts -w"}
ncmds=${ASPACE_DIFF_NCMDS:-150}
keep=${ASPACE_DIFF_KEEP:-linux-diff-failures}

work=$(mktemp -d "${TMPDIR:-/tmp}/run-diff.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
unsettled=0

# Guard against a runner that hangs, where timeout(1) exists.
if command -v timeout >/dev/null 2>&1; then
	tmo="timeout 120"
else
	tmo=""
fi

# run_sim TRACE OUT [off] / run_ref TRACE OUT
# SIM_RUN is a command with arguments: it must be split into words.
# With "off", the simulator runs with `kernel share_tables off` (f).
# shellcheck disable=SC2086
run_sim() {
	st=0
	if [ "${3:-}" = off ]; then
		$tmo $SIM_RUN --kernel share_tables=off "$1" >"$2" \
		    2>"$work/sim.err" || st=$?
	else
		$tmo $SIM_RUN "$1" >"$2" 2>"$work/sim.err" || st=$?
	fi
	# A crash or a timeout shows where the output stopped.
	[ "$st" -le 1 ] || echo "<the simulator failed: status $st>" >>"$2"
}
# Statuses 0 and 1 (a trace with "! error" lines) are normal; anything else
# (a crash, a timeout) is retried once, then reported as such.
run_ref() {
	for try in 1 2; do
		st=0
		$tmo "$REF_RUN" "$1" >"$2" 2>"$work/ref.err" || st=$?
		[ "$st" -le 1 ] && return 0
	done
	echo "ERROR: the reference runner failed on $1 (status $st)" >&2
	return 1
}

# first_diff EXPECTED ACTUAL: nothing if equal, else three lines: the
# trace line number the differing output belongs to, expected, actual.
first_diff() {
	awk -v ef="$1" '
	function hdr(s) { return match(s, /^[0-9]+:/) ? substr(s, 1, RLENGTH - 1) : "" }
	FILENAME == ef { e[FNR] = $0; ne = FNR; next }
	{ a[FNR] = $0; na = FNR }
	END {
		n = ne > na ? ne : na; t = 0
		for (i = 1; i <= n; i++) {
			x = i <= ne ? e[i] : "<end of output>"
			y = i <= na ? a[i] : "<end of output>"
			h = hdr(x); if (h == "") h = hdr(y); if (h != "") t = h
			if (x != y) { print t; print x; print y; exit }
		}
	}' "$1" "$2"
}

# report WHAT TRACE DIFF: print the difference found by first_diff.
report() {
	n=$(sed -n 1p "$3")
	if [ "$n" -gt 0 ] 2>/dev/null; then
		cmd=$(sed -n "${n}p" "$2")
	else
		cmd="(before the first command)"
	fi
	echo "$1 line $n: $cmd"
	echo "  expected: $(sed -n 2p "$3")"
	echo "  actual:   $(sed -n 3p "$3")"
}

# The reference works here if a tiny trace gives the known answer.
can_ref() {
	[ "$(uname -s)" = Linux ] && [ "$(uname -m)" = x86_64 ] || return 1
	[ -n "$REF_RUN" ] && [ -x "$REF_RUN" ] || return 1
	printf '%s\n' 'mmap 0x200000000000 4096 r-- private,anon,fixed' maps \
		>"$work/probe.trace"
	printf '%s\n' '1: = 0x200000000000' '2: maps' \
		'  200000000000-200000001000 r--p 00000000' >"$work/probe.exp"
	"$REF_RUN" "$work/probe.trace" 2>/dev/null | cmp -s - "$work/probe.exp"
}

# nozp TRACE: is its first command `kernel zero_page off`?
nozp() {
	awk '/^[ \t]*(#|$)/ { next }
	{ r = $1 == "kernel" && $2 == "zero_page" && $3 == "off"; exit }
	END { exit !r }' "$1"
}

# Does this host map the zero page?  yes, no, or unknown (ref-run says).
probe_zero_page() {
	printf '%s\n' 'kernel zero_page on' >"$work/zp.trace"
	case $("$REF_RUN" "$work/zp.trace" 2>/dev/null) in
	"1: = 0") echo yes ;;
	"1: ! error: host kernel differs: zero_page") echo no ;;
	*) echo unknown ;;
	esac
}

# probe_swap: "yes" if the reference can enable a swap file here (root,
# a disk file system, no other swap area), else its answer.
probe_swap() {
	printf '%s\n' 'kernel swap 48K' >"$work/swap.trace"
	a=$("$REF_RUN" "$work/swap.trace" 2>/dev/null)
	if [ "$a" = "1: = 0" ]; then echo yes; else echo "${a:-no answer}"; fi
}

# live_trace IN OUT: the trace as both runners get it for a live
# comparison: on a host without the zero page, with `kernel zero_page off`
# prepended unless it already begins so.
live_trace() {
	if [ "$host_zp" = no ] && ! nozp "$1"; then
		{ echo 'kernel zero_page off'; cat "$1"; } >"$2"
	else
		cp "$1" "$2"
	fi
}

# compare_live WHAT TRACE: ref-run and the simulator on TRACE must agree;
# 0 if they do, else the difference is reported and 1 returned.
compare_live() {
	run_ref "$2" "$work/ref.out" || return 1
	run_sim "$2" "$work/sim.out"
	first_diff "$work/ref.out" "$work/sim.out" >"$work/diff"
	[ -s "$work/diff" ] || return 0
	report "$1" "$2" "$work/diff"
	return 1
}

# a) and b): the hand-written traces and their golden outputs.
check_golden() {
	kernel=$(sed -n 1p "$dir/golden/KERNEL" 2>/dev/null)
	kernel_nozp=$(sed -n 1p "$dir/golden-nozp/KERNEL" 2>/dev/null)
	nozp_unchecked=0
	for t in "$dir"/traces/*.trace; do
		[ -f "$t" ] || continue
		name=$(basename "$t" .trace)
		if nozp "$t"; then
			gold=$dir/golden-nozp/$name.out
			gkernel=${kernel_nozp:-unknown}
		else
			gold=$dir/golden/$name.out
			gkernel=${kernel:-unknown}
		fi
		if [ ! -f "$gold" ]; then
			echo "NOTE: $name: no golden file ($gold); not compared"
			continue
		fi
		run_sim "$t" "$work/sim.out"
		first_diff "$gold" "$work/sim.out" >"$work/diff"
		if [ -s "$work/diff" ]; then
			report "FAIL $name" "$t" "$work/diff"
			failed=$((failed + 1))
		else
			passed=$((passed + 1))
		fi
		run_sim "$t" "$work/sim.out" off
		first_diff "$gold" "$work/sim.out" >"$work/diff"
		if [ -s "$work/diff" ]; then
			report "FAIL $name (share_tables off)" "$t" "$work/diff"
			failed=$((failed + 1))
		fi
		[ "$ref_ok" = yes ] || continue
		if [ "$host_zp" = unknown ]; then
			continue	# said once, at the start
		elif nozp "$t" && [ "$host_zp" = yes ]; then
			nozp_unchecked=$((nozp_unchecked + 1))
			continue
		elif [ "$host_zp" = no ] && ! nozp "$t"; then
			live_trace "$t" "$work/live.trace"
			if compare_live "FAIL $name (live, zero_page off)" \
			    "$work/live.trace"; then
				passed=$((passed + 1))
			else
				failed=$((failed + 1))
			fi
			continue
		fi
		run_ref "$t" "$work/ref.out" || { failed=$((failed + 1)); continue; }
		first_diff "$gold" "$work/ref.out" >"$work/diff"
		[ -s "$work/diff" ] || continue
		echo "NOTE: host kernel $(uname -r) differs from the golden" \
			"kernel ($gkernel) on $name line $(sed -n 1p "$work/diff"):"
		report "  $name" "$t" "$work/diff"
	done
	[ "$nozp_unchecked" -eq 0 ] ||
		echo "NOTE: the reference check of $nozp_unchecked golden-nozp" \
			"traces not run (host has the zero page)"
}

# outside_line TRACE OUT: the first trace line whose mmap/mremap result
# lies outside the window in effect there; nothing if there is none.
outside_line() {
	awk -v tr="$1" '
	function num(s,   v, i, c, base, mul) {
		mul = 1; c = substr(s, length(s))
		if (c == "K") mul = 1024; else if (c == "M") mul = 1048576
		else if (c == "G") mul = 1073741824
		if (mul > 1) s = substr(s, 1, length(s) - 1)
		base = 10; v = 0
		if (s ~ /^0[xX]/) { base = 16; s = substr(s, 3) }
		for (i = 1; i <= length(s); i++)
			v = v * base + index("0123456789abcdef", tolower(substr(s, i, 1))) - 1
		return v * mul
	}
	BEGIN { ws = num("0x200000000000"); wl = num("0x100000000000") }
	FILENAME == tr {
		if ($1 == "window" && NF >= 3) { ws = num($2); wl = num($3) }
		op[FNR] = $1; s[FNR] = ws; l[FNR] = wl; next
	}
	/^[0-9]+: = 0x[0-9a-f]+$/ {
		n = substr($1, 1, length($1) - 1) + 0
		if (op[n] != "mmap" && op[n] != "mremap") next
		a = num($3)
		if (a < s[n] || a >= s[n] + l[n]) { print n; exit }
	}' "$1" "$2"
}

# make_reference OPTS SEED: $work/seed.trace and its reference
# $work/ref.out.
make_reference() {
	# shellcheck disable=SC2086
	"$GEN_TRACE" $1 "$2" $ncmds >"$work/gen.trace" || return 1
	live_trace "$work/gen.trace" "$work/seed.trace"
	i=0
	while [ $i -lt 10 ]; do
		run_ref "$work/seed.trace" "$work/ref.out"
		cut=$(outside_line "$work/seed.trace" "$work/ref.out")
		[ -n "$cut" ] || return 0
		head -n $((cut - 1)) "$work/seed.trace" >"$work/cut.trace"
		echo maps >>"$work/cut.trace"
		mv "$work/cut.trace" "$work/seed.trace"
		i=$((i + 1))
	done
	return 1
}

# swap_reruns SEED: a trace with swap whose reference differs from the
# simulator is run on the host again, up to 10 more times (under load
# a host may give its other answer six times in a row): Linux's answers
# there vary from run to run (which pages a pageout can isolate, when
# queued reclaim work runs), and a simulator output equal to one of them
# is one Linux gives: true, with a NOTE.  If no run equals the simulator
# but the host's runs differ among themselves, the seed is unsettled:
# true too, with a NOTE, counted apart and kept in $keep.  False if the
# host answered the same every time (a real difference).
swap_reruns() {
	grep -q '^kernel swap [1-9]' "$work/seed.trace" || return 1
	varied=no
	for again in 2 3 4 5 6 7 8 9 10 11; do
		run_ref "$work/seed.trace" "$work/rerun.out" || return 1
		if cmp -s "$work/rerun.out" "$work/sim.out"; then
			echo "NOTE: seed $1: the host answered otherwise at" \
				"first (swap); run $again equals the simulator"
			varied=no
			return 0
		fi
		cmp -s "$work/rerun.out" "$work/ref.out" || varied=yes
	done
	[ "$varied" = yes ] || return 1
	mkdir -p "$keep"
	cp "$work/seed.trace" "$keep/seed-$1.trace"
	cp "$work/ref.out" "$keep/seed-$1.ref"
	cp "$work/sim.out" "$keep/seed-$1.sim"
	echo "NOTE: seed $1 unsettled: the host gave varying answers in 11" \
		"runs (swap), none the simulator's ($keep/seed-$1.trace)"
	unsettled=$((unsettled + 1))
	return 0
}

# c), d) and e): random traces against the live kernel.
# check_random OPTS NSEEDS TAG: gen-trace OPTS, NSEEDS seeds from
# first_seed; TAG names the mode in messages and kept files ("" or "z").
check_random() {
	seed=$first_seed
	while [ "$seed" -lt $((first_seed + $2)) ]; do
		s=$3$seed
		if ! make_reference "$1" "$seed"; then
			echo "FAIL seed $s: cannot make a reference trace"
			failed=$((failed + 1))
			seed=$((seed + 1))
			continue
		fi
		run_sim "$work/seed.trace" "$work/sim.out"
		first_diff "$work/ref.out" "$work/sim.out" >"$work/diff"
		if [ -s "$work/diff" ] && swap_reruns "$s"; then
			[ "$varied" = yes ] || passed=$((passed + 1))
		elif [ -s "$work/diff" ]; then
			mkdir -p "$keep"
			cp "$work/seed.trace" "$keep/seed-$s.trace"
			cp "$work/ref.out" "$keep/seed-$s.ref"
			cp "$work/sim.out" "$keep/seed-$s.sim"
			report "FAIL seed $s ($keep/seed-$s.trace)" \
				"$work/seed.trace" "$work/diff"
			failed=$((failed + 1))
		else
			passed=$((passed + 1))
			[ $((seed - first_seed)) -ge "$offseeds" ] ||
			    check_off "$s"
		fi
		seed=$((seed + 1))
	done
}

# f) for a random trace the simulator passed: the same with share_tables
# off, against the same reference output.
check_off() {
	run_sim "$work/seed.trace" "$work/sim.out" off
	first_diff "$work/ref.out" "$work/sim.out" >"$work/diff"
	[ -s "$work/diff" ] || return 0
	mkdir -p "$keep"
	cp "$work/seed.trace" "$keep/seed-$1-off.trace"
	cp "$work/ref.out" "$keep/seed-$1-off.ref"
	cp "$work/sim.out" "$keep/seed-$1-off.sim"
	report "FAIL seed $1, share_tables off ($keep/seed-$1-off.trace)" \
		"$work/seed.trace" "$work/diff"
	failed=$((failed + 1))
}

# d) on a host with the zero page: the -z traces in the simulator alone.
check_sim_only() {
	seed=$first_seed
	while [ "$seed" -lt $((first_seed + $2)) ]; do
		s=$3$seed
		# shellcheck disable=SC2086
		"$GEN_TRACE" $1 "$seed" $ncmds >"$work/seed.trace" || {
			echo "FAIL seed $s: gen-trace failed"
			failed=$((failed + 1))
			seed=$((seed + 1))
			continue
		}
		run_sim "$work/seed.trace" "$work/sim.out"
		if grep -q '^[0-9]*: ! error\|^<the simulator failed' \
		    "$work/sim.out"; then
			mkdir -p "$keep"
			cp "$work/seed.trace" "$keep/seed-$s.trace"
			cp "$work/sim.out" "$keep/seed-$s.sim"
			echo "FAIL seed $s ($keep/seed-$s.trace): $(grep -m1 \
				'^[0-9]*: ! error\|^<the simulator failed' \
				"$work/sim.out")"
			failed=$((failed + 1))
		else
			passed=$((passed + 1))
		fi
		seed=$((seed + 1))
	done
}

host_zp=unknown
if can_ref; then
	ref_ok=yes
	host_zp=$(probe_zero_page)
	case $host_zp in
	no) echo "NOTE: this host has no zero page: every live comparison" \
		"runs its trace with \`kernel zero_page off' prepended" ;;
	unknown) echo "NOTE: cannot tell whether this host maps the zero" \
		"page; reference checks and random tests skipped" ;;
	esac
else
	ref_ok=no
	echo "NOTE: this host cannot run the Linux reference; reference checks" \
		"and random comparisons skipped"
fi
check_golden
if [ "$seeds" -gt 0 ] || [ "$zseeds" -gt 0 ] || [ "$wseeds" -gt 0 ]; then
	if [ -z "$GEN_TRACE" ] || [ ! -x "$GEN_TRACE" ]; then
		echo "run-diff: GEN_TRACE is not set or not executable" >&2
		failed=$((failed + 1))
	elif [ "$ref_ok" = yes ] && [ "$host_zp" != unknown ]; then
		[ "$seeds" -le 0 ] || check_random "$gen_opts" "$seeds" ""
		host_swap=no
		[ "$wseeds" -le 0 ] || host_swap=$(probe_swap)
		if [ "$host_swap" = yes ]; then
			check_random "$wgen_opts" "$wseeds" w
			[ "$wpseeds" -le 0 ] ||
			    check_random "$wgen_opts -p" "$wpseeds" wp
		elif [ "$wseeds" -gt 0 ]; then
			echo "NOTE: the $wseeds -w seeds (swap) not run: the" \
				"reference cannot enable swap here: $host_swap"
		fi
		if [ "$zseeds" -le 0 ]; then
			:
		elif [ "$host_zp" = no ]; then
			check_random "$gen_opts -z" "$zseeds" z
		else
			echo "NOTE: the $zseeds -z seeds (kernel zero_page off) run" \
				"in the simulator only (host has the zero page)"
			check_sim_only "$gen_opts -z" "$zseeds" z
		fi
	elif [ "$zseeds" -gt 0 ]; then
		check_sim_only "$gen_opts -z" "$zseeds" z
	fi
fi
if [ "$unsettled" -gt 0 ]; then
	echo "$passed passed, $failed failed, $unsettled unsettled (the host" \
		"varied, see the NOTEs)"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
