"""Consume N records with a kafka-python group consumer, commit, close.

usage: kafka_python_group.py BOOTSTRAP TOPIC GROUP N

Auto-commit is off: the consumer commits its positions once, after exactly
N records (each yielded record moves its partition's position), then
closes. Prints the values read as a JSON list.
"""
import json
import sys

from kafka import KafkaConsumer


def main():
    bootstrap, topic, group, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        consumer_timeout_ms=30000,
        session_timeout_ms=10000,
        heartbeat_interval_ms=1000,
    )
    got = []
    for msg in consumer:
        got.append(msg.value.decode())
        if len(got) == n:
            break
    consumer.commit()
    consumer.close()
    json.dump(got, sys.stdout)


if __name__ == "__main__":
    main()
