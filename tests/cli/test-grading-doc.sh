#!/bin/sh
# test-grading-doc.sh: docs/grading.md's worked example cannot drift.
# The doc marks its files and its commands:
#
#   <!-- file: PATH -->        the fenced block after it is file PATH
#   <!-- command: CMD -->      the fenced block after it is what CMD
#                              prints on standard output
#
# This script writes every file into a fresh directory, runs every
# command there and compares its output with the block.  The commands
# find on PATH aspace (the built one, $ASPACE) and run_autograder (the
# example Gradescope autograder, python/examples/gradescope/, run by
# $PYTHON3 with the aspace package of python/), and an aspaced (the
# built one, $ASPACED) listens on aspaced.sock in their directory.  With
# UPDATE=1 it prints the doc with each command's block made anew instead
# (UPDATE=1 tests/cli/test-grading-doc.sh > docs/grading.md.new).
ASPACE=${ASPACE:-client/aspace}
ASPACED=${ASPACED:-daemon/aspaced}
PYTHON3=${PYTHON3:-python3}
ASPACE_PB2_DIR=${ASPACE_PB2_DIR:-python}
top=$(cd "${srcdir:-.}" && pwd)
DOC=${DOC:-$top/docs/grading.md}
case $ASPACE in /*) ;; *) ASPACE=$(pwd)/$ASPACE ;; esac
case $ASPACED in /*) ;; *) ASPACED=$(pwd)/$ASPACED ;; esac
case $ASPACE_PB2_DIR in /*) ;; *) ASPACE_PB2_DIR=$(pwd)/$ASPACE_PB2_DIR ;; esac
tmp=$(mktemp -d) || exit 99
dpid=
# The daemon goes whatever happens: a failed comparison, a signal.
trap '[ -z "$dpid" ] || { kill "$dpid" 2>/dev/null; wait "$dpid"; }; rm -rf "$tmp"' EXIT
trap 'exit 99' HUP INT TERM
mkdir "$tmp/bin" "$tmp/work"
ln -s "$ASPACE" "$tmp/bin/aspace"
[ -r "$DOC" ] || { echo "no $DOC"; exit 99; }

# run_autograder as a teacher runs it, with the aspace package of python/.
{
	echo '#!/bin/sh'
	echo "PYTHONPATH='$top/python' ASPACE_PB2_DIR='$ASPACE_PB2_DIR' \\"
	echo "    PYTHONDONTWRITEBYTECODE=1 exec '$PYTHON3' \\"
	echo "    '$top/python/examples/gradescope/run_autograder' \"\$@\""
} >"$tmp/bin/run_autograder"
chmod +x "$tmp/bin/run_autograder"

# The doc's aspaced, on aspaced.sock where the commands run.
"$ASPACED" --config /dev/null --state-directory none \
    --listen "unix:$tmp/work/aspaced.sock" >/dev/null 2>"$tmp/aspaced.err" &
dpid=$!
i=0
while [ ! -S "$tmp/work/aspaced.sock" ]; do
	i=$((i + 1))
	if [ "$i" -gt 100 ] || ! kill -0 "$dpid" 2>/dev/null; then
		echo "aspaced did not start:"
		cat "$tmp/aspaced.err"
		exit 99
	fi
	sleep 0.1
done
failed=0
checked=0
mode=text	# text, file, command: what the fenced block is
want=
path=
cmd=
infence=0

# The block just read ($tmp/block) against CMD's output.
run_cmd() {
	(cd "$tmp/work" && PATH="$tmp/bin:$PATH" sh -c "$cmd") \
	    >"$tmp/got" 2>"$tmp/err"
	checked=$((checked + 1))
	if [ -n "$UPDATE" ]; then
		cat "$tmp/got"
	elif ! cmp -s "$tmp/got" "$tmp/block"; then
		failed=$((failed + 1))
		echo "FAIL: $cmd: its output differs from the doc's:"
		diff "$tmp/block" "$tmp/got" | head -20
		cat "$tmp/err"
	fi
}

while IFS= read -r line; do
	if [ "$infence" -eq 1 ]; then
		case $line in
		'```'*)
			infence=0
			case $mode in
			file)
				mkdir -p "$tmp/work/$(dirname "$path")"
				cp "$tmp/block" "$tmp/work/$path"
				;;
			command)
				run_cmd
				;;
			esac
			mode=text
			[ -z "$UPDATE" ] || printf '%s\n' "$line"
			continue
			;;
		esac
		printf '%s\n' "$line" >>"$tmp/block"
		[ -n "$UPDATE" ] && [ "$mode" != command ] &&
		    printf '%s\n' "$line"
		continue
	fi
	[ -z "$UPDATE" ] || printf '%s\n' "$line"
	case $line in
	'<!-- file: '*' -->')
		path=${line#<!-- file: }
		path=${path% -->}
		mode=file
		;;
	'<!-- command: '*' -->')
		cmd=${line#<!-- command: }
		cmd=${cmd% -->}
		mode=command
		;;
	'```'*)
		infence=1
		: >"$tmp/block"
		;;
	esac
done <"$DOC"
if [ -z "$UPDATE" ]; then
	echo "$checked commands checked, $failed failed"
	[ "$checked" -gt 0 ] && [ "$failed" -eq 0 ]
fi
