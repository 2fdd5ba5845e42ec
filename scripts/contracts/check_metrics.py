#!/usr/bin/env python3
"""Parses a /metrics scrape with Prometheus' own parser (prometheus_client) and checks that
every metric docs/OPERATIONS.md documents is there with its type. Prints a JSON summary of
the figures the tests compare (sums per family, max lag in seconds).

usage: check_metrics.py SCRAPE_FILE
exit: 0 when every documented metric is present and typed, 1 otherwise (the problems on stderr).
"""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

# The label names each family's samples carry (histogram buckets add "le").
LABELS = {
    "cascade_build_info": {"version", "librdkafka"},
    "cascade_reports": {"code"},
    "cascade_dead_letters": {"reason"},
    "cascade_subscriptions_fired": {"outcome"},
    "cascade_rebalances": {"kind"},
    "cascade_database_errors": {"class"},
    "cascade_kafka_errors": {"code"},
    "cascade_consumer_lag_messages": {"topic", "partition"},
    "cascade_consumer_lag_seconds": {"topic", "partition"},
    "cascade_consumer_committed_offset": {"topic", "partition"},
    "cascade_consumer_log_end_offset": {"topic", "partition"},
    "cascade_deliveries": {"result"},
    "cascade_dependency_reachable": {"dependency"},
}

# Families that may have no sample yet: per-partition ones before an assignment, errors
# before the first one, the outbox's before the first probe.
MAY_BE_EMPTY = {
    "cascade_kafka_errors", "cascade_consumer_lag_messages", "cascade_consumer_lag_seconds",
    "cascade_consumer_committed_offset", "cascade_consumer_log_end_offset",
    "cascade_outbox_rows", "cascade_outbox_messages", "cascade_outbox_oldest_age_seconds",
}

# name -> type, as prometheus_client reports families (counters without their _total).
DOCUMENTED = {
    "cascade_build_info": "gauge",
    "cascade_reports": "counter",
    "cascade_duplicate_reports": "counter",
    "cascade_dead_letters": "counter",
    "cascade_subscriptions_fired": "counter",
    "cascade_key_mismatches": "counter",
    "cascade_batch_reports": "histogram",
    "cascade_batch_duration_seconds": "histogram",
    "cascade_report_age_at_commit_seconds": "histogram",
    "cascade_rebalances": "counter",
    "cascade_database_errors": "counter",
    "cascade_kafka_errors": "counter",
    "cascade_worker_utilisation": "gauge",
    "cascade_consumer_lag_messages": "gauge",
    "cascade_consumer_lag_seconds": "gauge",
    "cascade_consumer_committed_offset": "gauge",
    "cascade_consumer_log_end_offset": "gauge",
    "cascade_assigned_partitions": "gauge",
    "cascade_fetch_paused": "gauge",
    "cascade_pending_reports": "gauge",
    "cascade_outbox_rows": "gauge",
    "cascade_outbox_messages": "gauge",
    "cascade_outbox_oldest_age_seconds": "gauge",
    "cascade_outbox_relay_catching_up": "gauge",
    "cascade_deliveries": "counter",
    "cascade_dependency_reachable": "gauge",
    "cascade_ready": "gauge",
    "cascade_live": "gauge",
    "process_cpu_seconds": "counter",
    "process_resident_memory_bytes": "gauge",
    "process_virtual_memory_bytes": "gauge",
    "process_start_time_seconds": "gauge",
    "process_open_fds": "gauge",
    "process_max_fds": "gauge",
}


def main(path):
    with open(path, encoding="utf-8") as f:
        families = {fam.name: fam for fam in text_string_to_metric_families(f.read())}
    problems = []
    for name, kind in DOCUMENTED.items():
        fam = families.get(name)
        if fam is None:
            problems.append(f"missing: {name}")
        elif fam.type != kind:
            problems.append(f"{name}: type {fam.type}, documented {kind}")
        else:
            if not fam.samples and name not in MAY_BE_EMPTY:
                problems.append(f"{name}: no samples")
            for sample in fam.samples:
                labels = set(sample.labels) - ({"le"} if sample.name.endswith("_bucket") else set())
                if labels != LABELS.get(name, set()):
                    problems.append(f"{sample.name}: labels {sorted(labels)}, documented {sorted(LABELS.get(name, set()))}")
    for name in families:
        if name.startswith("cascade_") and name not in DOCUMENTED:
            problems.append(f"undocumented: {name}")

    def total(name, suffix=""):
        fam = families.get(name)
        return sum(s.value for s in fam.samples if s.name == name + suffix) if fam else None

    def by_label(name, label, suffix=""):
        fam = families.get(name)
        out = {}
        for s in fam.samples if fam else []:
            if s.name == name + suffix:
                out[s.labels.get(label, "")] = out.get(s.labels.get(label, ""), 0) + s.value
        return out

    lag_seconds = [s.value for s in families["cascade_consumer_lag_seconds"].samples] if "cascade_consumer_lag_seconds" in families else []
    summary = {
        "reports_total": total("cascade_reports", "_total"),
        "reports_by_code": by_label("cascade_reports", "code", "_total"),
        "duplicates_total": total("cascade_duplicate_reports", "_total"),
        "dead_letters_by_reason": by_label("cascade_dead_letters", "reason", "_total"),
        "lag_messages": total("cascade_consumer_lag_messages"),
        "lag_partitions": len(lag_seconds),
        "lag_seconds_max": max(lag_seconds) if lag_seconds else None,
        "assigned_partitions": total("cascade_assigned_partitions"),
        "batches": total("cascade_batch_reports", "_count"),
        "ready": total("cascade_ready"),
        "live": total("cascade_live"),
        "dependency_reachable": by_label("cascade_dependency_reachable", "dependency"),
    }
    print(json.dumps(summary, sort_keys=True))
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
