#!/bin/sh
# test-grading-doc.sh: docs/grading.md's worked example cannot drift.
# The doc marks its files and its commands:
#
#   <!-- file: PATH -->        the fenced block after it is file PATH
#   <!-- command: CMD -->      the fenced block after it is what CMD
#                              prints on standard output
#
# This script writes every file into a fresh directory, runs every
# command there (aspace: the built one, $ASPACE) and compares its output
# with the block.  With UPDATE=1 it prints the doc with each command's
# block made anew instead (UPDATE=1 tests/cli/test-grading-doc.sh >
# docs/grading.md.new).
ASPACE=${ASPACE:-client/aspace}
DOC=${DOC:-${srcdir:-.}/docs/grading.md}
case $ASPACE in /*) ;; *) ASPACE=$(pwd)/$ASPACE ;; esac
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin" "$tmp/work"
ln -s "$ASPACE" "$tmp/bin/aspace"
[ -r "$DOC" ] || { echo "no $DOC"; exit 99; }
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
