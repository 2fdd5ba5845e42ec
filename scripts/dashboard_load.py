#!/usr/bin/env python3
"""Produce completion reports at a steady rate, for scripts/dashboard-scenario.sh.

    python3 scripts/dashboard_load.py --topic T --model M --job-prefix P --rate 1500 --seconds 220 \\
        [--first 0] [--failure-percent 10] [--malformed-percent 3] [--linger-ms 100]

Report i (i = first, first+1, ...) completes job P<i> of model M, version v1, keyed by its job id:
a success with an output, or (failure-percent of them) a failure with an error. malformed-percent
of the messages are not reports: two thirds are not JSON (dead letters of reason `malformed`), a
third lack `status` (`invalid_field`); they name job P<i> too and should all become dead letters. The jobs must exist
(`started`) beforehand. The producer paces itself in 10 ms slices, so the reports' timestamps
(what `cascade_consumer_lag_seconds` measures from) follow the wall clock.

Bootstrap servers come from --brokers or CASCADE_BROKERS. Prints a progress line every 10 s on
stderr and, at the end, one JSON line on stdout: {"sent", "success", "failure", "malformed",
"seconds", "rate"}. Exits 1 if any delivery failed.
"""
import argparse
import json
import os
import sys
import time

from confluent_kafka import KafkaException, Producer


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brokers", default=os.environ.get("CASCADE_BROKERS"))
    parser.add_argument("--topic", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--job-prefix", required=True)
    parser.add_argument("--rate", type=float, required=True, help="reports per second")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--first", type=int, default=0, help="index of the first job")
    parser.add_argument("--failure-percent", type=float, default=10)
    parser.add_argument("--malformed-percent", type=float, default=3)
    parser.add_argument("--linger-ms", type=int, default=100,
                        help="the producer's linger.ms (default 100: see below why not less)")
    args = parser.parse_args()
    if not args.brokers:
        parser.error("no brokers: pass --brokers or set CASCADE_BROKERS")

    # Tansu stalls idempotent produce when more than one request is in flight (see the Makefile's
    # bench target). And its memory engine stores each produced batch as an object that every
    # fetch of the partition goes through: at linger.ms=5 (about 1,200 small batches a second at
    # 1,500 reports/s) a consumer fetching every 5 ms took a whole core after 30 s, and more as
    # the log grew; at 100-200 ms it stays near 15 %. A real Kafka needs none of this.
    producer = Producer({
        "bootstrap.servers": args.brokers,
        "enable.idempotence": False,
        "max.in.flight.requests.per.connection": 1,
        "linger.ms": args.linger_ms,
        "acks": "all",
        "log_level": 3,
    })
    failed = []

    def delivered(error, _message):
        if error is not None:
            failed.append(error)

    # Spread failures and malformed messages evenly: per 1,000 messages, the first
    # malformed*10 are malformed, the next failure*10 failures (the index is permuted first).
    malformed_per_mille = round(args.malformed_percent * 10)
    failure_per_mille = round(args.failure_percent * 10)
    counts = {"success": 0, "failure": 0, "malformed": 0}

    def message(i):
        job = f"{args.job_prefix}{i}"
        slot = (i * 7919) % 1000  # 7919 is prime: a permutation of 0..999 within each thousand
        if slot < malformed_per_mille:
            counts["malformed"] += 1
            if slot % 3 != 2:
                return job, f"oops, not a report ({job})"
            return job, json.dumps({"model_id": args.model, "model_version": "v1", "job_id": job})
        if slot < malformed_per_mille + failure_per_mille:
            counts["failure"] += 1
            return job, json.dumps({"model_id": args.model, "model_version": "v1", "job_id": job,
                                    "status": "failure", "error": {"code": "OOM", "message": "out of memory"}})
        counts["success"] += 1
        return job, json.dumps({"model_id": args.model, "model_version": "v1", "job_id": job, "status": "success",
                                "output": {"uri": f"s3://dashboard/out/{job}.json", "tokens": 512}})

    total = int(args.rate * args.seconds)
    start = time.monotonic()
    next_log = start + 10
    sent = 0
    while sent < total:
        now = time.monotonic()
        due = min(total, int((now - start) * args.rate))
        while sent < due:
            key, value = message(args.first + sent)
            try:
                producer.produce(args.topic, key=key, value=value, on_delivery=delivered)
            except BufferError:
                producer.poll(0.05)
                continue
            sent += 1
        producer.poll(0)
        if now >= next_log:
            print(f"dashboard_load: {sent} sent in {now - start:.0f} s ({len(failed)} failed deliveries)",
                  file=sys.stderr, flush=True)
            next_log += 10
        time.sleep(0.01)
    elapsed = time.monotonic() - start
    left = producer.flush(30)
    if left:
        failed.append(KafkaException(f"{left} messages still undelivered after 30 s"))
    print(json.dumps({"sent": sent, **counts, "seconds": round(elapsed, 1), "rate": round(sent / elapsed, 1),
                      "failed_deliveries": len(failed)}), flush=True)
    if failed:
        print(f"dashboard_load: {len(failed)} failed deliveries, first: {failed[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
