"""Produce, consume and commit with kafka-python pinned to an old broker API
version, so it speaks the protocol of that Kafka release; print JSON.

Usage: kafka_python_old.py BOOTSTRAP TOPIC PARTITIONS COUNT API_VERSION GROUP COMPRESSION

API_VERSION is dotted ("0.10.1", "0.9", "0.8.2"): kafka-python then sends
that release's request versions (0.8.x: Produce v0, Fetch v0, ListOffsets v0,
Metadata v0, OffsetCommit/OffsetFetch v0-v1 and no group membership; 0.9:
v1 produce and fetch, JoinGroup v0; 0.10.1: Produce v2 and Fetch v3, message
format v1). Record i goes to partition i % PARTITIONS with key "k<i>" and
value "v<i>". The consumer reads everything in GROUP (with group membership
from 0.9 on, else by assigning the partitions), commits, and reads its
committed offsets back. The Go test (python_test.go) checks the output:
{"produced": [[partition, offset, i], ...],
 "consumed": [[partition, offset, key, value], ...],
 "committed": {partition: offset}, "errors": [...]}.
"""
import json
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition


def main():
    bootstrap, topic = sys.argv[1], sys.argv[2]
    partitions, count = int(sys.argv[3]), int(sys.argv[4])
    api_version = tuple(int(x) for x in sys.argv[5].split("."))
    group, compression = sys.argv[6], sys.argv[7]
    errors = []

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                             api_version=api_version, request_timeout_ms=30000,
                             compression_type=None if compression == "none" else compression)
    futures = []
    for i in range(count):
        futures.append((i, producer.send(topic, key=b"k%d" % i, value=b"v%d" % i,
                                         partition=i % partitions)))
    producer.flush(timeout=60)
    produced = []
    for i, fut in futures:
        try:
            md = fut.get(timeout=60)
            produced.append([md.partition, md.offset, i])
        except Exception as e:  # reported, the test fails on it
            errors.append("produce %d: %r" % (i, e))
    producer.close(timeout=10)

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, api_version=api_version,
                             auto_offset_reset="earliest", enable_auto_commit=False,
                             session_timeout_ms=10000, heartbeat_interval_ms=1000,
                             consumer_timeout_ms=-1)
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    if api_version >= (0, 9):
        consumer.subscribe([topic])
    else:
        consumer.assign(tps)
    consumed = []
    deadline = time.time() + 60
    while len(consumed) < count and time.time() < deadline:
        for tp, records in consumer.poll(timeout_ms=500).items():
            for r in records:
                consumed.append([tp.partition, r.offset, r.key.decode(), r.value.decode()])
    try:
        consumer.commit()
    except Exception as e:
        errors.append("commit: %r" % (e,))
    committed = {}
    for tp in tps:
        try:
            committed[tp.partition] = consumer.committed(tp)
        except Exception as e:
            errors.append("committed %d: %r" % (tp.partition, e))
    consumer.close()

    json.dump({"produced": produced, "consumed": consumed, "committed": committed,
               "errors": errors}, sys.stdout)


if __name__ == "__main__":
    main()
