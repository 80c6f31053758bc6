// Brook's public entry point: the pieces other programs embed or build on.

export { startBroker } from './server/broker-server';
export type { RunningBroker } from './server/broker-server';
export { loadConfig } from './config/config';
export type { BrokerConfig } from './config/config';
export { createLogger, silentLogger } from './logger';
export { AuthenticationFailedError, KafkaConnection } from './net/kafka-connection';
export { parseClientSecurity, readClientSecurityFile } from './security/client-config';
export type { ClientSecurity, ClientTls, ClientSasl } from './security/client-config';
export { Cluster, KafkaError } from './client/cluster';
export type { ClientOptions, TopicMetadata, PartitionMetadata } from './client/cluster';
export { Producer, BufferExhaustedError } from './client/producer';
export type { ProducerOptions, ProducerRecord, RecordMetadata } from './client/producer';
export { DefaultPartitioner, murmur2, partitionForKey } from './client/partitioner';
export { Consumer, assignPartitions } from './client/consumer';
export { Admin } from './client/admin';
export type { NewTopic, TopicDescription, GroupDescription } from './client/admin';
export type { ConsumerOptions, ConsumerRecord, TopicPartitionOffset } from './client/consumer';
export { requestCodec, responseCodec } from '../protocol/codec';
export { encodeRecordBatch, encodeRecordBatchSync, RecordBatchView } from '../protocol/record-batch';
export { ErrorCode, errorInfo } from '../protocol/errors';
