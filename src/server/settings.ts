// Translates the parsed BrokerConfig into the option objects of the subsystems.

import { BrokerConfig, ConfigError } from '../config/config';
import { validateBrokerTopicDefaults } from '../broker/topic-config';
import { Logger } from '../logger';
import { LogManagerOptions } from '../log/log-manager';

/** Kafka's default for message.max.bytes, which then is not reported as set by the file. */
const MESSAGE_MAX_BYTES_DEFAULT = 1048588;

/**
 * The broker keys that set topic defaults, checked as Kafka checks server.properties: a bad
 * value stops the start with Kafka's message (a ConfigError).
 */
export function brokerTopicDefaults(config: BrokerConfig): Record<string, string> {
  const problem = validateBrokerTopicDefaults(config.topicDefaults);
  if (problem) throw new ConfigError(problem);
  if (config.messageMaxBytes === MESSAGE_MAX_BYTES_DEFAULT) return { ...config.topicDefaults };
  return { ...config.topicDefaults, 'message.max.bytes': String(config.messageMaxBytes) };
}

export function logManagerOptions(config: BrokerConfig, dataDir: string, logger: Logger): LogManagerOptions {
  let lastStorageErrorLogMs = 0;
  return {
    dataDir,
    tailCacheBytes: config.tailCacheBytes,
    retentionCheckIntervalMs: config.retentionCheckIntervalMs,
    recoveryPointCheckpointIntervalMs: config.recoveryPointCheckpointIntervalMs,
    highWatermarkCheckpointIntervalMs: config.highWatermarkCheckpointIntervalMs,
    producerIdExpirationMs: config.producerIdExpirationMs,
    producerIdExpirationCheckIntervalMs: config.producerIdExpirationCheckIntervalMs,
    maxProducerIdsPerPartition: config.maxProducerIdsPerPartition,
    cleaner: {
      enable: config.cleanerEnable,
      threads: config.cleanerThreads,
      dedupeBufferBytes: config.cleanerDedupeBufferBytes,
      loadFactor: config.cleanerLoadFactor,
      ioBytesPerSecondMax: config.cleanerIoMaxBytesPerSecond,
      backoffMs: config.cleanerBackoffMs,
    },
    cleanerInline: config.cleanerInline,
    cleanerDecompressedBytesMax: config.messageDecompressedMaxBytes,
    onCleaned: ({ topic, partition, result, swapped }) => {
      logger.info('log cleaner pass', {
        topic,
        partition,
        endOffset: result.endOffset,
        groups: result.groups.length,
        swapped,
        bytesRead: result.stats.bytesRead,
        bytesWritten: result.stats.bytesWritten,
        messagesRead: result.stats.messagesRead,
        messagesWritten: result.stats.messagesWritten,
      });
    },
    onCleanerError: ({ topic, partition, error }) => {
      logger.error('log cleaner pass failed; the log is tried again later', {
        topic,
        partition,
        code: (error as NodeJS.ErrnoException)?.code,
        error: String(error),
      });
    },
    onStorageError: ({ topic, partition, error }) => {
      const now = Date.now();
      if (now - lastStorageErrorLogMs < 10_000) return;
      lastStorageErrorLogMs = now;
      logger.error('append or read failed on storage; undone (logged at most every 10 s)', {
        topic,
        partition,
        code: (error as NodeJS.ErrnoException)?.code,
      });
    },
    onLogDirectoryOffline: ({ dir, topic, partition, error }) => {
      logger.error('log directory offline after a storage error: its partitions answer KAFKA_STORAGE_ERROR', {
        dir,
        topic,
        partition,
        code: (error as NodeJS.ErrnoException)?.code,
        error: String(error),
      });
    },
    onRetention: ({ topic, partition, segmentsDeleted, logStartOffset }) => {
      logger.info('retention deleted old segments', { topic, partition, segmentsDeleted, logStartOffset });
    },
    onRecovered: ({ topic, partition, truncatedBytes, logEndOffset }) => {
      if (truncatedBytes > 0)
        logger.warn('recovered partition: truncated a torn or corrupt tail', {
          topic,
          partition,
          truncatedBytes,
          logEndOffset,
        });
    },
    onHousekeepingError: ({ topic, partition, step, error }) => {
      logger.error('periodic log step failed; tried again at the next check', {
        topic,
        partition,
        step,
        code: (error as NodeJS.ErrnoException)?.code,
        error: String(error),
      });
    },
  };
}
