"""One step of the secure client matrix (e2e/security_clients_test.go).

usage: secure_client.py LIB MODE CONF_JSON TOPIC GROUP N

LIB is kafka-python or confluent-kafka. MODE is probe (list topics),
produce (N records v0..vN-1, acks=all) or consume (N records in group
GROUP from the earliest offset, then a synchronous commit). CONF_JSON
holds bootstrap, protocol, ca, and user/password (SASL_SSL, SCRAM-SHA-512)
or cert/key (SSL). Prints one JSON object: {"values": [...]} or
{"error": "<exception class and text>"}; exits 0 either way.
"""
import json
import logging
import sys
import time

lib, mode, conf, topic, group, n = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6])
DEADLINE = time.time() + 20
logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")


def kafka_python():
    import kafka
    c = {"bootstrap_servers": conf["bootstrap"], "security_protocol": conf["protocol"], "ssl_cafile": conf["ca"]}
    if conf["protocol"] == "SASL_SSL":
        c.update(sasl_mechanism="SCRAM-SHA-512", sasl_plain_username=conf["user"], sasl_plain_password=conf["password"])
    else:
        c.update(ssl_certfile=conf["cert"], ssl_keyfile=conf["key"])
    if mode == "probe":
        cons = kafka.KafkaConsumer(**c)
        topics = cons.topics()
        cons.close()
        return sorted(topics)
    if mode == "produce":
        p = kafka.KafkaProducer(acks="all", max_block_ms=5000, **c)
        # kafka-python 2.0.2 turns a one-topic MetadataResponse with an
        # error into failed_update and leaves unauthorized_topics alone, so
        # send() times out instead of raising TopicAuthorizationFailedError
        # (cluster.update_metadata). Keep what the broker answered.
        answered = []
        failed_update = p._metadata.failed_update
        p._metadata.failed_update = lambda exc: (answered.append(exc), failed_update(exc))[1]
        try:
            futs = [p.send(topic, ("v%d" % i).encode()) for i in range(n)]
            for f in futs:
                f.get(timeout=10)
        except kafka.errors.KafkaTimeoutError:
            refused = [e for e in answered if isinstance(e, kafka.errors.TopicAuthorizationFailedError)]
            if refused:
                raise refused[-1]
            raise
        finally:
            p.close(timeout=5)
        return []
    cons = kafka.KafkaConsumer(topic, group_id=group, auto_offset_reset="earliest", enable_auto_commit=False, **c)
    got = []
    while len(got) < n and time.time() < DEADLINE:
        for recs in cons.poll(timeout_ms=500).values():
            got += [r.value.decode() for r in recs]
    cons.commit()
    cons.close(autocommit=False)
    return got


def confluent_kafka():
    import confluent_kafka as ck
    from confluent_kafka.admin import AdminClient
    c = {"bootstrap.servers": conf["bootstrap"], "security.protocol": conf["protocol"], "ssl.ca.location": conf["ca"]}
    if conf["protocol"] == "SASL_SSL":
        c.update({"sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": conf["user"], "sasl.password": conf["password"]})
    else:
        c.update({"ssl.certificate.location": conf["cert"], "ssl.key.location": conf["key"]})
    if mode == "probe":
        return sorted(AdminClient(c).list_topics(timeout=8).topics)
    if mode == "produce":
        errs = []
        p = ck.Producer(dict(c, **{"acks": "all", "message.timeout.ms": 10000}))
        for i in range(n):
            p.produce(topic, ("v%d" % i).encode(), on_delivery=lambda err, msg: errs.append(err))
        p.flush(15)
        bad = [e for e in errs if e is not None]
        if bad or len(errs) != n:
            raise RuntimeError("delivery: %d of %d reported, errors %s" % (len(errs), n, bad))
        return []
    cons = ck.Consumer(dict(c, **{"group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False}))
    cons.subscribe([topic])
    got = []
    try:
        while len(got) < n and time.time() < DEADLINE:
            m = cons.poll(0.5)
            if m is None:
                continue
            if m.error():
                raise ck.KafkaException(m.error())
            got.append(m.value().decode())
        cons.commit(asynchronous=False)
    finally:
        cons.close()
    return got


try:
    values = {"kafka-python": kafka_python, "confluent-kafka": confluent_kafka}[lib]()
    print(json.dumps({"values": values}))
except Exception as e:  # the test reads the refusal from the text
    print(json.dumps({"error": "%s: %r" % (type(e).__name__, e)}))
