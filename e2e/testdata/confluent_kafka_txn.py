"""librdkafka's transactional producer in a consume-transform-produce loop.

Usage: confluent_kafka_txn.py BOOTSTRAP IN OUT PARTITIONS COUNT

Writes COUNT records v0..v(COUNT-1) to IN (record i to partition
i % PARTITIONS), copies them to OUT in transactions that also commit the
group's offsets (send_offsets_to_transaction), then writes an aborted
transaction of ABORTED records and a non-transactional "end" record per
partition to OUT, and reads OUT back with read_committed and with
read_uncommitted up to the "end" records. Prints JSON:
{"committed": {p: [values]}, "uncommitted": {p: [values]}, "transactions": n, "errors": [...]}.
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

bootstrap, src, dst, partitions, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
errors = []
deadline = time.time() + 60

plain = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
for i in range(count):
    plain.produce(src, value=("v%d" % i).encode(), partition=i % partitions)
plain.flush(30)

consumer = Consumer({
    "bootstrap.servers": bootstrap, "group.id": "python-txn-copy", "isolation.level": "read_committed",
    "enable.auto.commit": False, "auto.offset.reset": "earliest",
})
consumer.subscribe([src])
producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": "python-txn-copy-1",
                     "transaction.timeout.ms": 10000})
producer.init_transactions(30)

copied, transactions = 0, 0
while copied < count and time.time() < deadline:
    msgs = consumer.consume(num_messages=50, timeout=1.0)
    msgs = [m for m in msgs if m.error() is None]
    if not msgs:
        continue
    producer.begin_transaction()
    for m in msgs:
        producer.produce(dst, value=m.value(), partition=m.partition())
    producer.send_offsets_to_transaction(consumer.position(consumer.assignment()),
                                         consumer.consumer_group_metadata(), 30)
    producer.commit_transaction(30)
    copied += len(msgs)
    transactions += 1
if copied != count:
    errors.append("copied %d of %d" % (copied, count))

# An aborted transaction: read_uncommitted sees it, read_committed never.
producer.begin_transaction()
for p in range(partitions):
    producer.produce(dst, value=b"aborted", partition=p)
producer.flush(30)
producer.abort_transaction(30)
for p in range(partitions):
    plain.produce(dst, value=b"end", partition=p)
plain.flush(30)
consumer.close()


def read_back(isolation):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "python-txn-read-" + isolation,
                  "isolation.level": isolation, "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    c.assign([TopicPartition(dst, p, 0) for p in range(partitions)])
    got, ended = {}, set()
    while len(ended) < partitions and time.time() < deadline:
        for m in c.consume(num_messages=500, timeout=1.0):
            if m.error() is not None:
                errors.append(str(m.error()))
                continue
            if m.value() == b"end":
                ended.add(m.partition())
            else:
                got.setdefault(m.partition(), []).append(m.value().decode())
    if len(ended) < partitions:
        errors.append("%s: saw the end of %d partitions of %d" % (isolation, len(ended), partitions))
    c.close()
    return got


print(json.dumps({"committed": read_back("read_committed"), "uncommitted": read_back("read_uncommitted"),
                  "transactions": transactions, "errors": errors}))
