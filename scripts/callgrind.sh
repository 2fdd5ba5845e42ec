#!/usr/bin/env bash
# Counts the instructions `cascade consume` spends per report, by component, with valgrind's
# callgrind: a drain of REPORTS (default 20,000) run by cascade-bench with the consumer under
# valgrind. Instruction counts repeat where wall time does not, so two commits compare on them.
#
#   scripts/callgrind.sh [REPORTS]          build release binaries, profile a drain, print the table
#   scripts/callgrind.sh --table FILE [N]   print the table of an existing callgrind file
#
# The profile is kept in .local/callgrind/callgrind.<pid> for callgrind_annotate. Components
# are inclusive counts of the functions named in the table; they overlap where one calls the
# other (the indented rows are parts of the row above). The consumer's once-a-second lag scan
# runs about fifty times as often per report under valgrind as it does at full speed, so it is
# shown and left out of the total that matters. Needs valgrind and the local services.
set -euo pipefail
cd "$(dirname "$0")/.."

table() {
    local file="$1" reports="$2" annotated
    annotated="$(mktemp)"
    callgrind_annotate --inclusive=yes "$file" 2>/dev/null | swift demangle --simplified >"$annotated"
    count() { grep -F -- "$1" "$annotated" | head -1 | awk '{gsub(",", "", $1); printf "%.0f\n", $1}'; }
    local total scan
    total="$(grep "PROGRAM TOTALS" "$annotated" | awk '{gsub(",", "", $1); print $1}')"
    scan="$(count "BatchWorkers.partitionProgress()")"
    printf '%-46s %12s\n' "component (instructions per report)" "Ir/report"
    printf '%-46s %12d\n' "whole process, less the lag scan" $(((total - ${scan:-0}) / reports))
    printf '%-46s %12d\n' "  (lag scan, left out)" $((${scan:-0} / reports))
    row() { printf '%-46s %12d\n' "$1" $(($(count "$2") / reports)); }
    row "worker: one batch, end to end" "BatchProcessor.process(_:)"
    row "  report decoding and validation" "static ReportValidation.validate(_:limits:)"
    row "    of which JSON parsing" "static JSONParser.parse(_:)"
    row "  snapshot load (query, rows to jobs)" "BatchStore.loadSnapshot"
    row "  planning: downstream request messages" "static DownstreamRequest.message"
    row "  planning: result records" "ResultRecord.jsonBytes.getter"
    row "  planning: event ids (UUIDv5)" "ReportSource.eventId(_:)"
    row "  writes: parameter binding and round trips" "BatchStore.write(_:readFrom:in:)"
    row "  outbox framing" "static OutboxFraming.encode"
    row "Kafka produce (relay thread)" "OutboxRelay.run()"
    row "Kafka delivery reports" "closure #1 in KafkaProducer.init(config:)"
    row "Kafka consume, offsets (consumer loop)" "CompletionConsumer.run()"
    row "librdkafka broker threads" "rd_kafka_broker_thread_main"
    rm -f "$annotated"
}

if [[ "${1:-}" == "--table" ]]; then
    table "$2" "${3:-20000}"
    exit 0
fi
reports="${1:-20000}"
[[ "$reports" =~ ^[0-9]+$ ]] || { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
command -v valgrind >/dev/null || { echo "callgrind: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
swift build -c release --product cascade
swift build -c release --product cascade-bench
out="$PWD/.local/callgrind"
mkdir -p "$out"
rm -f "$out"/callgrind.*
wrapper="$out/cascade-under-callgrind"
printf '#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=%s/callgrind.%%p %s/.build/release/cascade "$@"\n' "$out" "$PWD" >"$wrapper"
chmod +x "$wrapper"
# The bench's drain phase alone, with the consumer settings `make bench` uses.
.build/release/cascade-bench --cascade "$wrapper" --reports "$reports" \
    --skip failpoints,json,json-shapes,baseline,drain-scraped,drain-auth,jwt-verify,fanout,unbatched,latency,mock-latency \
    --kafka-config fetch.wait.max.ms=5 --kafka-config enable.idempotence=false \
    --kafka-config max.in.flight.requests.per.connection=1 >/dev/null
profiles=("$out"/callgrind.*)  # the drain starts one consumer
profile="${profiles[0]}"
echo "callgrind: $profile ($reports reports, commit $(git rev-parse --short HEAD))"
table "$profile" "$reports"
