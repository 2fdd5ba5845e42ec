#!/usr/bin/env bash
# Runs the tests under a sanitizer, in a build directory of its own (never .build):
#
#   scripts/sanitize.sh thread    # the whole suite under ThreadSanitizer      -> .build-tsan
#   scripts/sanitize.sh address   # the pure suites under AddressSanitizer     -> .build-asan
#   scripts/sanitize.sh thread --filter 'PipelineTests.StartupTests'   # more `swift test` arguments
#
# thread: scripts/sanitizers/c11_threads_shim.c (LD_PRELOADed, built with clang) shows TSan the
# synchronisation it cannot see: librdkafka's C11 threads, locks and condition variables (without
# it, a SEGV in TSan's allocator on thread rdk:mock, then false races through librdkafka's
# queues), the contended hand-over of Synchronization.Mutex, and it lets SIGTERM reach a TSan-built
# `cascade` (see the shim's comments). The pipeline tests spawn `cascade`; CASCADE_TEST_BINARY
# points them at the sanitized build, so the service runs under TSan too and reports into the same
# log folder. Needs the local services (scripts/services.sh start).
#
# address: only the suites with no broker and no database (PURE_SUITES below). LeakSanitizer is
# off: Swift keeps references where it cannot see them (tag bits in a multi-payload enum's pointer,
# a weak reference's side table encoded in the refcount word), so a run reports XCTest's live test
# cases as tens of MB "leaked". SANITIZE_LEAKS=1 turns it on for a leak hunt (read the direct leaks).
#
# Reports go to <build path>/sanitizer-logs/{tsan,asan}.<pid>, the test output to
# <build path>/sanitizer-logs/test-output.log. Prints the number of reports and exits non-zero
# if there is any, or if a test failed. SANITIZE_NICE (default 19) is the build and test niceness;
# CC (default clang, which the shim needs) builds the shim.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

PURE_SUITES=(CascadeDomainTests HTTPTests MetricsTests CryptoTests CascadeServiceTests CascadeCLITests)
NICE=(nice -n "${SANITIZE_NICE:-19}")

mode="${1:-}"
shift || true
case "$mode" in
  thread)  BUILD=.build-tsan; KIND=tsan; REPORT='WARNING: ThreadSanitizer'; OTHER='ERROR: ThreadSanitizer' ;;
  address) BUILD=.build-asan; KIND=asan; REPORT='ERROR: AddressSanitizer'; OTHER='ERROR: LeakSanitizer' ;;  # only with SANITIZE_LEAKS=1
  *) echo "usage: $0 thread|address" >&2; exit 2 ;;
esac
LOGS="$ROOT/$BUILD/sanitizer-logs"

eval "$(scripts/services.sh env)"   # DATABASE_URL, CASCADE_BROKERS, LD_LIBRARY_PATH (librdkafka >= 2.2)
if [ "$mode" = thread ]; then scripts/services.sh start; fi

seconds() { date +%s; }
t0=$(seconds)
"${NICE[@]}" swift build --build-tests --sanitize="$mode" --build-path "$BUILD"
t1=$(seconds)

rm -rf "$LOGS" && mkdir -p "$LOGS"
test_env=()
filters=()
if [ "$mode" = thread ]; then
  SHIM="$ROOT/$BUILD/c11_threads_shim.so"
  "${NICE[@]}" "${CC:-clang}" -shared -fPIC -O2 -Wall -o "$SHIM" scripts/sanitizers/c11_threads_shim.c -ldl -lpthread
  options="halt_on_error=0 second_deadlock_stack=1 history_size=7 log_path=$LOGS/tsan"
  [ -f scripts/sanitizers/tsan.supp ] && options+=" suppressions=$ROOT/scripts/sanitizers/tsan.supp"
  test_env=(LD_PRELOAD="$SHIM" TSAN_OPTIONS="$options" TSAN_SHIM_SIGNALFD_PROGRAM=cascade
            CASCADE_TEST_BINARY="$ROOT/$BUILD/debug/cascade")
else
  test_env=(ASAN_OPTIONS="log_path=$LOGS/asan detect_leaks=${SANITIZE_LEAKS:-0}")
  filters=(--filter "^($(IFS='|'; echo "${PURE_SUITES[*]}"))\.")
fi

set +e
env "${test_env[@]}" "${NICE[@]}" swift test --skip-build --disable-swift-testing --sanitize="$mode" \
  --build-path "$BUILD" "${filters[@]}" "$@" 2>&1 | tee "$LOGS/test-output.log"
status=${PIPESTATUS[0]}
set -e
t2=$(seconds)

reports=$(cat "$LOGS/$KIND".* 2>/dev/null | grep -c "$REPORT" || true)
other=$(cat "$LOGS/$KIND".* 2>/dev/null | grep -c "$OTHER" || true)   # TSan itself crashing, or leaks
# The whole run's totals follow its top suite's end; a run cut short has none.
summary=$(grep -A1 -E "^Test Suite '(All tests|Selected tests)' (passed|failed)" "$LOGS/test-output.log" \
  | grep -E 'Executed [0-9]+ tests?' | tail -1 | sed 's/^[[:space:]]*//')

echo
echo "sanitize.sh $mode: build $((t1 - t0)) s, tests $((t2 - t1)) s; swift test exit $status"
echo "  ${summary:-no totals: the run did not finish (see $LOGS/test-output.log)}"
echo "  $reports report(s) \"$REPORT\", $other \"$OTHER\", logs in $LOGS"
if [ "$reports" -gt 0 ] || [ "$other" -gt 0 ] || [ "$status" -ne 0 ]; then exit 1; fi
