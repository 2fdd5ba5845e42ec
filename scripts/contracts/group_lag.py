#!/usr/bin/env python3
"""A consumer group's lag as confluent-kafka (librdkafka's Python client, written by no one
here) computes it: committed() and get_watermark_offsets() per partition, without joining the
group. The contract `cascade lag --json` is checked against.

usage: group_lag.py BROKERS GROUP TOPIC
prints: {"partitions": {"0": {"committed": 12 | null, "log_end": 40, "lag": 28}, ...}, "total_lag": N}
"""
import json
import sys

from confluent_kafka import Consumer, TopicPartition


def main(brokers, group, topic):
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": group, "enable.auto.commit": False})
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        partitions = sorted(metadata.topics[topic].partitions)
        committed = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
        out, total = {}, 0
        for tp in committed:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, tp.partition), timeout=10)
            offset = tp.offset if tp.offset >= 0 else None
            lag = max(0, high - (offset if offset is not None else low))
            out[str(tp.partition)] = {"committed": offset, "log_end": high, "lag": lag}
            total += lag
        print(json.dumps({"partitions": out, "total_lag": total}, sort_keys=True))
    finally:
        consumer.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
