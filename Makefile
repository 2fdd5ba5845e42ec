# The two commands a newcomer needs:  make run   and   make test
# Both start their own services (a private PostgreSQL and a Tansu broker under .local/).
SHELL := /bin/bash
SWIFT_FLAGS ?=
SERVICES := scripts/services.sh
WITH_ENV := eval "$$($(SERVICES) env)" &&

.PHONY: build test lint run bench bench-memory callgrind faults sanitize services stop-services clean fuzz fuzz-check

build:
	swift build $(SWIFT_FLAGS)

services:
	$(SERVICES) start

stop-services:
	$(SERVICES) stop

# Unit and integration tests against the real PostgreSQL and broker, with contracts checked by
# clients no one here wrote (curl, prometheus_client, confluent-kafka: scripts/test-tools.sh).
test: services lint
	scripts/test-tools.sh
	swift build --build-tests $(SWIFT_FLAGS)
	$(WITH_ENV) swift test --skip-build --disable-swift-testing $(SWIFT_FLAGS)

# The deployment files, checked without a cluster or a Docker engine by tools no one here wrote
# (kubernetes-validate, kubectl kustomize, promtool, hadolint, the compose-spec schema):
# see scripts/lint-deploy.sh and docs/OPERATIONS.md, "Deploying it".
lint:
	scripts/lint-deploy.sh

# Proof under faults (docs/RELIABILITY.md): every scenario at full size, each `cascade consume` the
# release build, then the table. About 30 minutes; `make test` runs a subset at small sizes.
FAULTS_REPORT := .local/faults/results.jsonl
FAULTS_TESTS := KillFaultTests|DatabaseFaultTests|FloodFaultTests|RebalanceStormTests|BrokerFaultTests
faults: services
	swift build -c release --product cascade
	swift build --build-tests $(SWIFT_FLAGS)
	mkdir -p .local/faults && rm -f $(FAULTS_REPORT)
	$(WITH_ENV) CASCADE_FAULTS=full CASCADE_FAULTS_REPORT=$(CURDIR)/$(FAULTS_REPORT) CASCADE_TEST_BINARY=$(CURDIR)/.build/release/cascade \
		swift test --skip-build --disable-swift-testing $(SWIFT_FLAGS) --filter '$(FAULTS_TESTS)'; status=$$?; \
		scripts/fault-table.py $(FAULTS_REPORT) --commit "$$(git rev-parse --short HEAD)" --date "$$(date -u +%F)" && exit $$status

# The suite under ThreadSanitizer (SANITIZER=thread, ~15 min) or the pure suites under
# AddressSanitizer (SANITIZER=address, ~2 min), in build paths of their own (docs/RELIABILITY.md).
SANITIZER ?= thread
sanitize: services
	$(WITH_ENV) scripts/sanitize.sh $(SANITIZER)

# The whole pipeline on an embedded broker and a private PostgreSQL, with demo data.
run: services build
	$(WITH_ENV) swift run $(SWIFT_FLAGS) cascade demo

clean: stop-services
	rm -rf .build .local

# The benchmark (docs/BENCHMARKS.md): release build, durable PostgreSQL, Tansu. BENCH_ARGS adds flags.
# Tansu answers a fetch only when fetch.wait.max.ms runs out and stalls idempotent produce for
# about 500 ms whenever more than one produce request is in flight (idempotence forces that),
# so the run sets those three (Apache Kafka needs none of them; see docs/BENCHMARKS.md).
BENCH_ARGS ?=
bench: services
	swift build -c release --product cascade
	swift build -c release --product cascade-bench
	$(WITH_ENV) .build/release/cascade-bench --kafka-config fetch.wait.max.ms=5 --kafka-config enable.idempotence=false \
		--kafka-config max.in.flight.requests.per.connection=1 \
		--json-out docs/bench-results.jsonl $(BENCH_ARGS)

# The long memory mode: a 5,000,000-report backlog, RSS sampled over the drain (about 12 minutes
# on 2 cores); every other phase skipped.
bench-memory: services
	swift build -c release --product cascade
	swift build -c release --product cascade-bench
	$(WITH_ENV) .build/release/cascade-bench --kafka-config fetch.wait.max.ms=5 --kafka-config enable.idempotence=false \
		--kafka-config max.in.flight.requests.per.connection=1 --memory-reports 5000000 \
		--skip failpoints,json,json-shapes,baseline,drain,drain-scraped,drain-auth,jwt-verify,fanout,unbatched,latency,mock-latency \
		--json-out docs/bench-results.jsonl

# Instructions per report by component, from valgrind's callgrind over a drain of CALLGRIND_REPORTS
# (scripts/callgrind.sh; about 2 minutes). Repeatable where wall time is not: compare commits on it.
CALLGRIND_REPORTS ?= 20000
callgrind: services
	$(WITH_ENV) scripts/callgrind.sh $(CALLGRIND_REPORTS)

# libFuzzer over the pure parsers (Tests/Fuzz, scripts/fuzz.sh): FUZZ_SECONDS per target, every
# target or those in FUZZ_TARGETS. Builds into .build-fuzz/ with --sanitize=fuzzer,address; not
# part of `make test`. fuzz-check replays the committed corpus and regressions once (seconds).
FUZZ_SECONDS ?= 120
FUZZ_TARGETS ?=
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-check:
	scripts/fuzz.sh --check $(FUZZ_TARGETS)
