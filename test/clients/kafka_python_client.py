"""kafka-python (Debian's python3-kafka, 2.0.2) against a broker at argv[1].

Creates, grows, describes and deletes topics with the admin client; produces keyed records
with acks=all (and, into a topic of their own, gzip-compressed records: its other codecs
need modules Debian packages separately); then reads them in a consumer group with manual
commits: a first member processes about half of the records, commits exactly what it
processed and leaves; a second member of the same group resumes from those commits; the
admin client then lists and describes the group. Prints one JSON object with what each step
saw; the test that runs this script asserts on it. Any exception ends the script non-zero
with a traceback.
"""

import json
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic
from kafka.errors import TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata

BOOTSTRAP = sys.argv[1]
TOPIC = "kp-orders"
PARTITIONS = 3
COUNT = 60
GROUP = "kp-group"
GZIP_TOPIC = "kp-gzip"
GROW_TOPIC = "kp-grow"
GZIP_COUNT = 40
DEADLINE_S = 15  # per consuming member


def admin_step():
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP, client_id="kp-admin", request_timeout_ms=10000)
    try:
        topics = [NewTopic(TOPIC, PARTITIONS, 1), NewTopic(GZIP_TOPIC, 1, 1), NewTopic(GROW_TOPIC, 1, 1)]
        admin.create_topics(topics, timeout_ms=10000)
        try:
            admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)], timeout_ms=10000)
            duplicate = "created twice"
        except TopicAlreadyExistsError as error:
            duplicate = type(error).__name__
        admin.create_partitions({GROW_TOPIC: NewPartitions(3)}, timeout_ms=10000)
        # Metadata may trail the controller by a moment: wait for the new partition count.
        deadline = time.monotonic() + 10
        while len(admin.describe_topics([GROW_TOPIC])[0]["partitions"]) != 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        described = admin.describe_topics([TOPIC, GROW_TOPIC])
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC)])[0].resources[0]
        return {
            "duplicate": duplicate,
            "listed": TOPIC in admin.list_topics(),
            "described": [
                {
                    "topic": topic["topic"],
                    "error": topic["error_code"],
                    "partitions": sorted(p["partition"] for p in topic["partitions"]),
                    "leaders": sorted({p["leader"] for p in topic["partitions"]}),
                }
                for topic in sorted(described, key=lambda topic: topic["topic"])
            ],
            # resources: (error_code, error_message, type, name, [(name, value, ...)])
            "cleanupPolicy": [entry[1] for entry in configs[4] if entry[0] == "cleanup.policy"],
        }
    finally:
        admin.close()


def produce_step():
    producer = KafkaProducer(
        bootstrap_servers=BOOTSTRAP,
        client_id="kp-producer",
        acks="all",
        key_serializer=str.encode,
        value_serializer=str.encode,
    )
    sent = {}
    try:
        futures = [(f"key-{i}", producer.send(TOPIC, key=f"key-{i}", value=f"value-{i}")) for i in range(COUNT)]
        for key, future in futures:
            metadata = future.get(timeout=10)
            sent[key] = [metadata.partition, metadata.offset]
    finally:
        producer.close(timeout=5)
    return sent


def produce_gzip_step():
    """Lingered records in one gzip batch or a few; the test reads the stored codec bits."""
    producer = KafkaProducer(
        bootstrap_servers=BOOTSTRAP,
        client_id="kp-gzip",
        acks="all",
        compression_type="gzip",
        linger_ms=200,
    )
    try:
        futures = [producer.send(GZIP_TOPIC, value=f"gzip value {i} {'abc' * 50}".encode()) for i in range(GZIP_COUNT)]
        offsets = [future.get(timeout=10).offset for future in futures]
    finally:
        producer.close(timeout=5)
    return offsets


def member(limit):
    """Joins GROUP, processes up to `limit` records, commits what it processed, and leaves.

    Commits name the offset after each partition's last processed record, so records that a
    poll fetched but this member did not process are left for the next member."""
    consumer = KafkaConsumer(
        TOPIC,
        bootstrap_servers=BOOTSTRAP,
        group_id=GROUP,
        client_id="kp-member",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=10000,
        heartbeat_interval_ms=1000,
        key_deserializer=bytes.decode,
        value_deserializer=bytes.decode,
    )
    processed = []
    positions = {}
    try:
        deadline = time.monotonic() + DEADLINE_S
        while len(processed) < limit and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=500).items():
                for record in records:
                    if len(processed) == limit:
                        break
                    processed.append([record.key, record.value, tp.partition, record.offset])
                    positions[tp.partition] = record.offset + 1
        consumer.commit({TopicPartition(TOPIC, p): OffsetAndMetadata(o, "kp") for p, o in positions.items()})
        committed = {p: consumer.committed(TopicPartition(TOPIC, p)) for p in range(PARTITIONS)}
    finally:
        consumer.close(autocommit=False)
    return {"processed": processed, "committed": committed}


def group_offsets():
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP, client_id="kp-admin")
    try:
        offsets = admin.list_consumer_group_offsets(GROUP)
        return {tp.partition: [meta.offset, meta.metadata] for tp, meta in offsets.items() if tp.topic == TOPIC}
    finally:
        admin.close()


def groups_step():
    """The group as the admin client sees it once both members have left; then a topic deleted."""
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP, client_id="kp-admin")
    try:
        listed = [list(group) for group in admin.list_consumer_groups()]
        described = [[g.group, g.state, g.protocol_type, len(g.members)] for g in admin.describe_consumer_groups([GROUP])]
        admin.delete_topics([GROW_TOPIC], timeout_ms=10000)
        return {"listed": listed, "described": described, "topicsAfterDelete": sorted(admin.list_topics())}
    finally:
        admin.close()


def main():
    result = {"admin": admin_step(), "produced": produce_step(), "gzipOffsets": produce_gzip_step()}
    result["first"] = member(COUNT // 2)
    result["groupOffsetsAfterFirst"] = group_offsets()
    result["second"] = member(COUNT - len(result["first"]["processed"]))
    result["groups"] = groups_step()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
