// A kafkajs group consumer in its own process, so a test can kill -9 it like a crashed
// client. Prints one JSON line per record and one per assignment change.
// argv: port groupId topic sessionTimeoutMs

import { Kafka, logLevel } from 'kafkajs';

const [port, groupId, topic, sessionTimeout] = process.argv.slice(2);
const kafka = new Kafka({ brokers: [`127.0.0.1:${port}`], clientId: 'child', logLevel: logLevel.NOTHING });
const consumer = kafka.consumer({ groupId, sessionTimeout: Number(sessionTimeout), heartbeatInterval: 500 });
consumer.on(consumer.events.GROUP_JOIN, (event) => {
  process.stdout.write(`${JSON.stringify({ assigned: event.payload.memberAssignment[topic] ?? [] })}\n`);
});
(async () => {
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      process.stdout.write(
        `${JSON.stringify({ partition, offset: message.offset, value: message.value?.toString() })}\n`,
      );
    },
  });
})();
