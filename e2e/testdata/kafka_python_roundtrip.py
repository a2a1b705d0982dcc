"""Produce N records with kafka-python, read them back, print JSON.

Usage: kafka_python_roundtrip.py BOOTSTRAP TOPIC PARTITIONS COUNT

The producer uses acks='all'; record i goes to partition i % PARTITIONS with
key "k<i>" and value "v<i>". The consumer has no group: it assigns every
partition and reads from the beginning. The Go test (python_test.go) checks
the output: {"produced": [[partition, offset, i], ...],
             "consumed": [[partition, offset, key, value], ...]}.
"""
import json
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition


def main():
    bootstrap, topic, partitions, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                             request_timeout_ms=30000)
    futures = []
    for i in range(count):
        futures.append((i, producer.send(topic, key=b"k%d" % i, value=b"v%d" % i,
                                         partition=i % partitions)))
    producer.flush(timeout=60)
    produced = []
    for i, fut in futures:
        md = fut.get(timeout=60)
        produced.append([md.partition, md.offset, i])
    producer.close(timeout=10)

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                             auto_offset_reset="earliest", enable_auto_commit=False)
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    consumed = []
    deadline = time.time() + 60
    while len(consumed) < count and time.time() < deadline:
        for tp, records in consumer.poll(timeout_ms=500).items():
            for r in records:
                consumed.append([tp.partition, r.offset, r.key.decode(), r.value.decode()])
    consumer.close()

    json.dump({"produced": produced, "consumed": consumed}, sys.stdout)


if __name__ == "__main__":
    main()
