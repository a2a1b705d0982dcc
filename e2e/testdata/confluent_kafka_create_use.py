"""Create a topic with librdkafka's admin client and use it at once, 20 times.

Each round creates a topic through the first broker, then a fresh admin
client bootstrapped from another broker lists it straight away (librdkafka
caches what that answer says), and a fresh producer writes one record to it.
Prints JSON: the rounds where the topic was missing or not fully led, and
the delivery errors.

usage: confluent_kafka_create_use.py BROKER1,BROKER2,BROKER3 PREFIX ROUNDS
"""
import json
import sys

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

brokers = sys.argv[1].split(",")
prefix, rounds = sys.argv[2], int(sys.argv[3])
creator = AdminClient({"bootstrap.servers": brokers[0]})
missing, errors = [], []
for i in range(rounds):
    name = "%s-%d" % (prefix, i)
    for fut in creator.create_topics([NewTopic(name, num_partitions=3, replication_factor=3)]).values():
        fut.result(timeout=30)
    other = brokers[1 + i % (len(brokers) - 1)]
    md = AdminClient({"bootstrap.servers": other}).list_topics(topic=name, timeout=10)
    t = md.topics.get(name)
    if t is None or t.error is not None or len(t.partitions) != 3 or any(p.leader < 0 for p in t.partitions.values()):
        missing.append({"round": i, "broker": other, "error": str(t.error) if t is not None else "absent"})
    p = Producer({"bootstrap.servers": other, "message.timeout.ms": 10000})
    delivered = []
    p.produce(name, value=b"x", on_delivery=lambda err, msg: delivered.append(err))
    p.flush(15)
    if not delivered or delivered[0] is not None:
        errors.append({"round": i, "error": str(delivered[0]) if delivered else "not delivered"})
print(json.dumps({"rounds": rounds, "missing": missing, "errors": errors}))
