#!/usr/bin/env bash
# libFuzzer over the pure parsers (Tests/Fuzz). Not part of `make test`.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   fuzz each target (default 120 s, every target)
#   scripts/fuzz.sh --check [TARGET...]                replay corpus + regressions once, no mutation
#
# Builds one sanitized executable (fuzzer + address) into .build-fuzz/, never .build/. Each
# target fuzzes a copy of its committed seeds (Tests/Fuzz/corpus/<target>/) under
# .build-fuzz/fuzz-work/<target>/, so new inputs never land in the repository; a crash, leak,
# timeout (an input over 10 s counts as a hang) or out-of-memory input is copied to
# Tests/Fuzz/regressions/<target>/ and the script exits non-zero. Everything runs under nice: the
# machine is shared. FUZZ_RSS_MB overrides the memory limit (default 2048).
set -euo pipefail
cd "$(dirname "$0")/.."

readonly FUZZ_DIR=Tests/Fuzz
readonly BUILD_PATH=.build-fuzz
readonly WORK="$BUILD_PATH/fuzz-work"
readonly RSS_MB="${FUZZ_RSS_MB:-2048}"
# SwiftPM hands swiftc `-sanitize=fuzzer -sanitize=address` and the driver keeps only the last
# for compiling (Swift 6.3): the Swift code got ASan but no coverage counters, and libFuzzer ran
# blind ("no interesting inputs"). The combined -Xswiftc flag comes last, so it wins.
BUILD_FLAGS=(--build-path "$BUILD_PATH" -c release --sanitize=fuzzer --sanitize=address -Xswiftc "-sanitize=fuzzer,address")

mode=fuzz
seconds=120
if [[ "${1:-}" == "--check" ]]; then
    mode=check
    shift
elif [[ "${1:-}" =~ ^[0-9]+$ ]]; then
    seconds="$1"
    shift
elif [[ "${1:-}" == -* ]]; then
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi

echo "fuzz: building (CASCADE_FUZZ=1 swift build ${BUILD_FLAGS[*]})" >&2
# ld.gold warns once per ASan helper symbol ("Cannot export local symbol"): hundreds of lines of noise.
set +e
CASCADE_FUZZ=1 nice -n 19 swift build "${BUILD_FLAGS[@]}" --product CascadeFuzz 2>&1 | grep -v "Cannot export local symbol" >&2
build_status="${PIPESTATUS[0]}"
set -e
[[ "$build_status" == 0 ]] || { echo "fuzz: build failed" >&2; exit 1; }
BIN="$(CASCADE_FUZZ=1 swift build "${BUILD_FLAGS[@]}" --show-bin-path)/CascadeFuzz"
if command -v readelf >/dev/null && ! grep -q __sancov_cntrs <<<"$(readelf -S "$BIN")"; then
    echo "fuzz: $BIN has no coverage counters; libFuzzer would fuzz blind" >&2
    exit 1
fi

# The Swift runtime's own crash reporter waits for a debugger-style unwind that can take minutes
# under ASan; libFuzzer and ASan already print the stack.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:symbolize=1}"

mapfile -t known < <(CASCADE_FUZZ_TARGET=list "$BIN" 2>/dev/null)
targets=("$@")
((${#targets[@]})) || targets=("${known[@]}")
for target in "${targets[@]}"; do
    [[ " ${known[*]} " == *" $target "* ]] || { echo "fuzz: unknown target '$target' (known: ${known[*]})" >&2; exit 2; }
done

inputs_of() {  # the committed inputs of a target: seeds, then regressions
    find "$FUZZ_DIR/corpus/$1" "$FUZZ_DIR/regressions/$1" -type f ! -name .gitkeep 2>/dev/null | sort
}

# Copies each finding into regressions/<target>/ unless an identical input is already there.
keep_findings() {
    local target="$1" artifacts="$2" file sum
    mkdir -p "$FUZZ_DIR/regressions/$target"
    for file in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
        [[ -f "$file" ]] || continue
        sum="$(sha1sum <"$file" | cut -d' ' -f1)"
        if ! find "$FUZZ_DIR/regressions/$target" -type f -exec sha1sum {} + | grep -q "^$sum "; then
            cp "$file" "$FUZZ_DIR/regressions/$target/"
            echo "fuzz: $target: kept $FUZZ_DIR/regressions/$target/$(basename "$file")" >&2
        fi
    done
}

verdict_of() {  # $1 = libFuzzer's exit status, $2 = artifact dir
    local kinds
    kinds="$(find "$2" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) \
        -printf '%f\n' | sed 's/-.*//' | sort -u | paste -sd+ -)"
    if [[ -n "$kinds" ]]; then echo "FAIL($kinds)"
    elif [[ "$1" != 0 ]]; then echo "FAIL(exit $1)"
    else echo "ok"; fi
}

failed=0
printf '%-8s %9s %12s %7s %7s  %s\n' target seconds executions cov ft verdict
for target in "${targets[@]}"; do
    dir="$WORK/$target"
    rm -rf "$dir"
    mkdir -p "$dir/corpus" "$dir/artifacts"
    log="$dir/fuzz.log"
    mapfile -t committed < <(inputs_of "$target")
    start=$SECONDS
    set +e
    if [[ "$mode" == check ]] && ((${#committed[@]} == 0)); then
        printf '%-8s no inputs to replay\n' "$target"
        set -e
        continue
    fi
    if [[ "$mode" == check ]]; then
        # Each file once, in order; no mutation, so nothing is written but a failing input's artifact.
        CASCADE_FUZZ_TARGET="$target" nice -n 19 timeout --kill-after=30 600 "$BIN" \
            -rss_limit_mb="$RSS_MB" -timeout=10 -detect_leaks=1 -artifact_prefix="$dir/artifacts/" \
            "${committed[@]}" >"$log" 2>&1
    else
        cp "$FUZZ_DIR/corpus/$target"/* "$dir/corpus/"
        CASCADE_FUZZ_TARGET="$target" nice -n 19 timeout --kill-after=30 $((seconds + 300)) "$BIN" \
            -max_total_time="$seconds" -rss_limit_mb="$RSS_MB" -timeout=10 -detect_leaks=1 -print_final_stats=1 \
            -artifact_prefix="$dir/artifacts/" "$dir/corpus" >"$log" 2>&1
    fi
    status=$?
    set -e
    elapsed=$((SECONDS - start))
    verdict="$(verdict_of "$status" "$dir/artifacts")"
    if [[ "$mode" == check ]]; then
        executions=$(grep -c '^Executed ' "$log" || true)
        cov=- ft=-
    else
        executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1 || true)
        last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
        [[ -n "$executions" ]] || executions=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
        cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
        ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
        keep_findings "$target" "$dir/artifacts"
    fi
    printf '%-8s %9s %12s %7s %7s  %s\n' "$target" "$elapsed" "${executions:--}" "${cov:--}" "${ft:--}" "$verdict"
    if [[ "$verdict" != ok ]]; then
        failed=1
        echo "fuzz: $target: see $log" >&2
        grep -m1 -E 'invariant broken|Fatal error|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)' "$log" >&2 || true
    fi
done
exit "$failed"
