#!/bin/sh
# soak-time.sh: the longer runs of test_time (make soak): bombs five
# times as long, twenty rounds of the fair-shares measurement, the whole
# test ROUNDS times (default 3).  $ASPACED and $TEST_TIME name the built
# daemon and test.
set -e
: "${ASPACED:?the built aspaced}"
: "${TEST_TIME:?the built tests/daemon/test_time}"
n=${ROUNDS:-3}
i=1
while [ "$i" -le "$n" ]; do
	echo "soak-time: round $i of $n"
	TIME_SOAK=1 "$TEST_TIME" "$ASPACED"
	i=$((i + 1))
done
echo "soak-time: $n rounds passed"
