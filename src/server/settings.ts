// Translates the parsed BrokerConfig into the option objects of the subsystems.

import { BrokerConfig } from '../config/config';
import { Logger } from '../logger';
import { LogManagerOptions } from '../log/log-manager';

export function brokerTopicDefaults(config: BrokerConfig): Record<string, string> {
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
