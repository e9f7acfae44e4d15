#!/usr/bin/env bash
# Build libFuzzer targets with clang and run each for a while.
#
#   B=build-fuzz FUZZ_SECONDS=60 scripts/fuzz.sh fuzz_cmn_envelope [NAME...]
#
# Each tests/fuzz/NAME.c is built with -fsanitize=fuzzer,address,undefined
# together with common/*.c and the generated protobuf code, plus for
# fuzz_eng_* engine/eng_*.c (not eng_main.c), for fuzz_agt_* agent/agt_*.c
# (not agt_main.c), for fuzz_ctl_* ctl/ctl_*.c (not ctl_main.c), into
# $B/NAME. It then runs for FUZZ_SECONDS on a copy of
# tests/fuzz/corpus/NAME/ in $B/run/NAME/ (the saved corpus is not touched;
# copy interesting new inputs back by hand). Prints the executions run and
# any crash/leak/timeout/oom file found; exits 1 if a target failed to build
# or found something.
#
# Environment: B (build-fuzz), FUZZ_SECONDS (60), FUZZ_MAX_LEN (libFuzzer's
# -max_len, default: libFuzzer's choice), CLANG (clang), FUZZ_ARGS (extra
# libFuzzer flags).
set -u

B=${B:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
CLANG=${CLANG:-clang}
cd "$(dirname "$0")/.." || exit 1

if [ $# -eq 0 ]; then
    echo "usage: B=build-fuzz FUZZ_SECONDS=60 $0 NAME..." >&2
    echo "targets: $(cd tests/fuzz && ls fuzz_*.c 2>/dev/null | sed 's/\.c$//' | tr '\n' ' ')" >&2
    exit 2
fi
if ! command -v "$CLANG" >/dev/null; then
    echo "fuzz: $CLANG not found (apt-get install clang)" >&2
    exit 1
fi

# common/cmn_https.c (every target compiles common/) needs OpenSSL.
PKG_COMMON="libzmq libprotobuf-c libevent libevent_pthreads yaml-0.1 libsodium \
 libevent_openssl openssl"
CFLAGS="-std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 -Wall -Wno-unused-command-line-argument \
 -Icommon -Iengine -Iagent -Ictl -I$B/gen"

mkdir -p "$B/gen" "$B/run"
for p in proto/*.proto; do
    g="$B/gen/$(basename "$p" .proto).pb-c.c"
    if [ ! -f "$g" ] || [ "$p" -nt "$g" ]; then
        protoc-c --proto_path=proto --c_out="$B/gen" "$p" || exit 1
    fi
done

# Sources of one component without the file holding main().
component_src() {
    local dir=$1 prefix=$2 f
    for f in "$dir"/"$prefix"_*.c; do
        [ -f "$f" ] || continue
        [ "$(basename "$f")" = "${prefix}_main.c" ] && continue
        echo "$f"
    done
}

build_one() {
    local name=$1 src="tests/fuzz/$1.c" pkgs=$PKG_COMMON extra=""
    case $name in
        fuzz_eng_*) extra=$(component_src engine eng)
                    pkgs="$pkgs sqlite3 jansson" ;;
        fuzz_agt_*) extra=$(component_src agent agt); pkgs="$pkgs libvirt" ;;
        fuzz_ctl_*) extra=$(component_src ctl ctl)
                    pkgs="$pkgs jansson" ;;
        fuzz_setup_*) extra="agent/setup_key.c agent/agt_conf.c"
                      pkgs="$pkgs jansson" ;;
        fuzz_cmn_*) ;;
        *) echo "fuzz: $name: name must start with fuzz_cmn_/eng_/agt_/ctl_/setup_" >&2
           return 1 ;;
    esac
    if [ ! -f "$src" ]; then
        echo "fuzz: no $src" >&2
        return 1
    fi
    # shellcheck disable=SC2046,SC2086
    "$CLANG" $CFLAGS $(pkg-config --cflags $pkgs) -o "$B/$name" "$src" \
        common/cmn_*.c "$B"/gen/*.pb-c.c $extra \
        $(pkg-config --libs $pkgs) -lpthread
}

run_one() {
    local name=$1 dir="$B/run/$1" log
    rm -rf "$dir"
    mkdir -p "$dir/corpus"
    if [ -d "tests/fuzz/corpus/$name" ]; then
        cp -r "tests/fuzz/corpus/$name/." "$dir/corpus/"
    else
        echo "fuzz: $name: no tests/fuzz/corpus/$name, starting empty"
    fi
    log="$dir/fuzz.log"
    local args=(-max_total_time="$FUZZ_SECONDS" -print_final_stats=1
                -timeout=25 -rss_limit_mb=2048 -artifact_prefix="$dir/")
    [ -n "${FUZZ_MAX_LEN:-}" ] && args+=(-max_len="$FUZZ_MAX_LEN")
    # shellcheck disable=SC2206
    [ -n "${FUZZ_ARGS:-}" ] && args+=($FUZZ_ARGS)
    echo "fuzz: running $name for ${FUZZ_SECONDS}s (log $log)"
    "$B/$name" "${args[@]}" "$dir/corpus" >"$log" 2>&1
    local rc=$?
    local execs cov
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
    local found
    found=$(find "$dir" -maxdepth 1 -type f \
            \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
               -o -name 'oom-*' -o -name 'slow-unit-*' \) | sort)
    echo "fuzz: $name: ${execs:-?} executions, ${cov:-no coverage line}," \
         "corpus $(find "$dir/corpus" -type f | wc -l) files, exit $rc"
    if [ -n "$found" ]; then
        echo "fuzz: $name: FOUND:"
        echo "$found" | sed 's/^/    /'
        grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -5 | sed 's/^/    /'
        return 1
    fi
    if [ $rc -ne 0 ]; then
        echo "fuzz: $name: libFuzzer exited $rc; see $log"
        tail -5 "$log" | sed 's/^/    /'
        return 1
    fi
    return 0
}

failed=0
for arg in "$@"; do
    name=$(basename "$arg" .c)
    echo "fuzz: building $B/$name"
    if ! build_one "$name"; then
        echo "fuzz: $name: BUILD FAILED"
        failed=1
        continue
    fi
    run_one "$name" || failed=1
done
exit $failed
