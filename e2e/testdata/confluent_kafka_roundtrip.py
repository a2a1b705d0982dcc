"""Produce N records with confluent-kafka (librdkafka), read them back, print JSON.

Usage: confluent_kafka_roundtrip.py BOOTSTRAP TOPIC PARTITIONS COUNT

Same contract as kafka_python_roundtrip.py; the producer is idempotent
(enable.idempotence implies acks=all) and the consumer assigns every
partition at OFFSET_BEGINNING without joining a group.
"""
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition


def main():
    bootstrap, topic, partitions, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all",
                         "enable.idempotence": True, "linger.ms": 5})
    produced, errors = [], []

    def on_delivery(i):
        def report(err, msg):
            if err is not None:
                errors.append("record %d: %s" % (i, err))
            else:
                produced.append([msg.partition(), msg.offset(), i])
        return report

    for i in range(count):
        while True:
            try:
                producer.produce(topic, key=b"k%d" % i, value=b"v%d" % i, partition=i % partitions,
                                 on_delivery=on_delivery(i))
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    left = producer.flush(60)
    if left:
        errors.append("%d records undelivered after flush" % left)

    # group.id is set because the binding wants one; assign() never joins the group.
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "weir-e2e-unused",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    consumed = []
    deadline = time.time() + 60
    while len(consumed) < len(produced) and time.time() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            errors.append("consume: %s" % msg.error())
            continue
        consumed.append([msg.partition(), msg.offset(), msg.key().decode(), msg.value().decode()])
    consumer.close()

    json.dump({"produced": produced, "consumed": consumed, "errors": errors}, sys.stdout)


if __name__ == "__main__":
    try:
        main()
    except KafkaException as e:
        json.dump({"errors": [str(e)]}, sys.stdout)
