"""confluent-kafka-python (Debian's python3-confluent-kafka, 1.7 on librdkafka 2.0) against a
broker at argv[1].

AdminClient: creates topics (and one that exists already), grows a topic with
create_partitions (and tries to shrink it), lists topics and groups, describes a topic's
configs and deletes a topic.
An idempotent producer then writes keyed records with headers into one topic per codec
(gzip, snappy, lz4, zstd), each lingered into few batches; the test that runs this script
reads the stored batches' codec bits itself. Finally a group consumer reads every codec
topic back and commits. Prints one JSON object with what each step saw; any exception ends
the script non-zero with a traceback.
"""

import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

BOOTSTRAP = sys.argv[1]
CODECS = ["gzip", "snappy", "lz4", "zstd"]
PER_CODEC = 40
ADMIN_TOPIC = "ck-admin"
GROUP = "ck-group"
TIMEOUT_S = 10


def outcome(future):
    """None when an admin future succeeded, else the Kafka error's name."""
    try:
        future.result(timeout=TIMEOUT_S)
        return None
    except KafkaException as error:
        return error.args[0].name()


def admin_step(admin):
    topics = [NewTopic(ADMIN_TOPIC, num_partitions=1, replication_factor=1)]
    topics += [NewTopic(f"ck-{codec}", num_partitions=1, replication_factor=1) for codec in CODECS]
    created = {name: outcome(f) for name, f in admin.create_topics(topics, operation_timeout=TIMEOUT_S).items()}
    again = admin.create_topics([NewTopic(ADMIN_TOPIC, 1, 1)], operation_timeout=TIMEOUT_S)
    grown = admin.create_partitions([NewPartitions(ADMIN_TOPIC, 4)], operation_timeout=TIMEOUT_S)
    grow_error = outcome(grown[ADMIN_TOPIC])
    shrunk = admin.create_partitions([NewPartitions(ADMIN_TOPIC, 2)], operation_timeout=TIMEOUT_S)
    # Metadata may lag the controller by a moment: wait for the new partition count.
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        metadata = admin.list_topics(timeout=TIMEOUT_S)
        partitions = len(metadata.topics[ADMIN_TOPIC].partitions) if ADMIN_TOPIC in metadata.topics else 0
        if partitions == 4 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    resource = ConfigResource(ConfigResource.Type.TOPIC, ADMIN_TOPIC)
    configs = admin.describe_configs([resource])[resource].result(timeout=TIMEOUT_S)
    return {
        "created": created,
        "createdAgain": outcome(again[ADMIN_TOPIC]),
        "grown": grow_error,
        "shrunk": outcome(shrunk[ADMIN_TOPIC]),
        "partitions": partitions,
        "leaders": sorted({p.leader for p in metadata.topics[ADMIN_TOPIC].partitions.values()}),
        "brokers": [b.id for b in metadata.brokers.values()],
        "controller": metadata.controller_id,
        "topics": sorted(t for t in metadata.topics if t.startswith("ck-")),
        "cleanupPolicy": configs["cleanup.policy"].value if "cleanup.policy" in configs else None,
    }


def produce_step():
    delivered = {codec: [] for codec in CODECS}
    errors = []

    def report(error, message):
        if error is not None:
            errors.append(str(error))
        else:
            delivered[message.topic()[len("ck-"):]].append(message.offset())

    for codec in CODECS:
        producer = Producer(
            {
                "bootstrap.servers": BOOTSTRAP,
                "client.id": f"ck-producer-{codec}",
                "enable.idempotence": True,
                "compression.codec": codec,
                # One or two batches per topic: a small batch that the codec does not shrink
                # is sent uncompressed by librdkafka, which would hide a codec problem.
                "linger.ms": 200,
            }
        )
        for i in range(PER_CODEC):
            producer.produce(
                f"ck-{codec}",
                key=f"{codec}-{i}",
                value=f"{codec} value {i} " + "abc" * 50,
                headers=[("codec", codec.encode()), ("n", str(i).encode())],
                on_delivery=report,
            )
        left = producer.flush(TIMEOUT_S)
        if left:
            errors.append(f"{codec}: {left} messages not delivered")
    return {"delivered": delivered, "errors": errors}


def consume_step():
    consumer = Consumer(
        {
            "bootstrap.servers": BOOTSTRAP,
            "group.id": GROUP,
            "client.id": "ck-consumer",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumed = []
    errors = []
    try:
        consumer.subscribe([f"ck-{codec}" for codec in CODECS])
        deadline = time.monotonic() + 15
        while len(consumed) < PER_CODEC * len(CODECS) and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                errors.append(str(message.error()))
                continue
            headers = {k: v.decode() for k, v in (message.headers() or [])}
            consumed.append([message.topic(), message.offset(), message.key().decode(), message.value().decode(), headers])
        consumer.commit(asynchronous=False)
        committed = consumer.committed([TopicPartition(f"ck-{codec}", 0) for codec in CODECS], timeout=TIMEOUT_S)
        committed = {tp.topic: tp.offset for tp in committed}
    finally:
        consumer.close()
    return {"consumed": consumed, "errors": errors, "committed": committed}


def main():
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    result = {"admin": admin_step(admin)}
    result["produce"] = produce_step()
    result["consume"] = consume_step()
    result["groups"] = [[g.id, g.state, g.protocol_type] for g in admin.list_groups(timeout=TIMEOUT_S)]
    deleted = admin.delete_topics([ADMIN_TOPIC], operation_timeout=TIMEOUT_S)
    result["deleted"] = outcome(deleted[ADMIN_TOPIC])
    # Metadata may trail the controller by a moment: wait for the topic to go.
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        topics = sorted(t for t in admin.list_topics(timeout=TIMEOUT_S).topics if t.startswith("ck-"))
        if ADMIN_TOPIC not in topics or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    result["topicsAfterDelete"] = topics
    print(json.dumps(result))


if __name__ == "__main__":
    main()
