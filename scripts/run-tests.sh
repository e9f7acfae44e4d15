#!/bin/bash
# Run Herd's tests and print one closing line "N passed, N failed[, N skipped]".
#
#   B=build scripts/run-tests.sh [unit] [fuzz] [integration] | all
#
# unit         every $B/tests/test_* (cmocka binaries)
# fuzz         every $B/fuzz/fuzz_NAME replaying tests/fuzz/corpus/fuzz_NAME
# integration  every tests/integration/test_*.sh (real daemons and libvirtd)
#
# HERD_VALGRIND=1 runs unit binaries and the daemons that integration tests
# start under valgrind (errors fail the test). Each test's output goes to
# $B/test-logs/<name>.log and is shown when the test fails. An integration
# test exiting 77 counts as skipped. ONLY=REGEX limits the tests run.
set -u

cd "$(dirname "$0")/.." || exit 2
B=${B:-build}
export B
LOGS="$B/test-logs"
mkdir -p "$LOGS"

VALGRIND_CMD="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --track-fds=no"
WRAP=""
SCALE=1
if [ "${HERD_VALGRIND:-0}" = 1 ]; then
    command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
    WRAP=$VALGRIND_CMD
    SCALE=10
fi
UNIT_TIMEOUT=$((120 * SCALE))
FUZZ_TIMEOUT=300
INTEG_TIMEOUT=$((300 * (SCALE > 1 ? 4 : 1)))

PASSED=0
FAILED=0
SKIPPED=0
FAILED_NAMES=""

usage() {
    echo "usage: B=build $0 [unit] [fuzz] [integration] | all" >&2
    exit 2
}

# show_failure NAME LOG
show_failure() {
    local lines
    lines=$(wc -l <"$2")
    echo "---- output of $1 ($2)"
    if [ "$lines" -gt 400 ]; then
        echo "... ($((lines - 400)) earlier lines in $2)"
        tail -n 400 "$2"
    else
        cat "$2"
    fi
    echo "---- end of $1"
}

# run_one KIND NAME TIMEOUT CMD...: run, log, count.
run_one() {
    local kind=$1 name=$2 tmo=$3 logf rc t0 t1
    shift 3
    if [ -n "${ONLY:-}" ] && ! printf '%s' "$name" | grep -Eq -- "$ONLY"; then
        return
    fi
    logf="$LOGS/$name.log"
    t0=$(date +%s%N)
    timeout -k 30 "$tmo" "$@" >"$logf" 2>&1 </dev/null
    rc=$?
    t1=$(date +%s%N)
    local secs
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", (b-a)/1e9}')
    if [ "$rc" = 0 ]; then
        PASSED=$((PASSED + 1))
        printf '%-6s %-40s ok      %6ss\n' "$kind" "$name" "$secs"
    elif [ "$rc" = 77 ] && [ "$kind" = integ ]; then
        SKIPPED=$((SKIPPED + 1))
        printf '%-6s %-40s skipped %6ss (%s)\n' "$kind" "$name" "$secs" \
            "$(grep -m1 'SKIP:' "$logf" | sed 's/.*SKIP: //')"
    else
        FAILED=$((FAILED + 1))
        FAILED_NAMES="$FAILED_NAMES $name"
        local why="exit $rc"
        [ "$rc" = 124 ] && why="timed out after ${tmo}s"
        [ "$rc" = 99 ] && why="valgrind errors"
        printf '%-6s %-40s FAILED  %6ss (%s)\n' "$kind" "$name" "$secs" "$why"
        show_failure "$name" "$logf"
    fi
}

run_unit() {
    local t found=0
    for t in "$B"/tests/test_*; do
        [ -f "$t" ] && [ -x "$t" ] || continue
        found=1
        # shellcheck disable=SC2086
        run_one unit "$(basename "$t")" "$UNIT_TIMEOUT" $WRAP "$t"
    done
    [ $found = 1 ] || echo "unit: no test binaries in $B/tests/"
}

# A replayer with no corpus folder fails: a fuzz target must ship one.
fuzz_replay() {
    local bin=$1 corpus=$2
    if [ ! -d "$corpus" ]; then
        echo "no corpus folder $corpus for $(basename "$bin")"
        return 1
    fi
    if [ -z "$(ls -A "$corpus")" ]; then
        echo "corpus folder $corpus is empty"
        return 1
    fi
    "$bin" "$corpus"
}

run_fuzz() {
    local t name found=0
    for t in "$B"/fuzz/fuzz_*; do
        [ -f "$t" ] && [ -x "$t" ] || continue
        found=1
        name=$(basename "$t")
        run_one fuzz "$name" "$FUZZ_TIMEOUT" \
            bash -c 'fuzz_replay "$0" "$1"' "$t" "tests/fuzz/corpus/$name"
    done
    [ $found = 1 ] || echo "fuzz: no replayers in $B/fuzz/"
}

run_integration() {
    local t
    export HERD_WRAP="$WRAP" HERD_TIMEOUT_SCALE=$SCALE
    for t in tests/integration/test_*.sh; do
        [ -f "$t" ] || continue
        run_one integ "$(basename "$t" .sh)" "$INTEG_TIMEOUT" bash "$t"
    done
}
export -f fuzz_replay

[ $# -gt 0 ] || usage
KINDS=""
for a in "$@"; do
    case "$a" in
        all) KINDS="unit fuzz integration" ;;
        unit|fuzz|integration) KINDS="$KINDS $a" ;;
        *) usage ;;
    esac
done

START=$(date +%s)
for k in $KINDS; do
    case "$k" in
        unit) run_unit ;;
        fuzz) run_fuzz ;;
        integration) run_integration ;;
    esac
done
END=$(date +%s)

[ -n "$FAILED_NAMES" ] && echo "failed:$FAILED_NAMES (logs in $LOGS/)"
echo "total time $((END - START)) s"
if [ "$SKIPPED" -gt 0 ]; then
    echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
else
    echo "$PASSED passed, $FAILED failed"
fi
[ "$FAILED" = 0 ]
