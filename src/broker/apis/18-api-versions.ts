// ApiVersions (key 18), versions 0-4.
// v0: error code and the api key ranges. v1: throttle time. v2: same as v1.
// v3: flexible (compact arrays, tagged fields; client software name/version in the
// request), with the supported and finalized features as tagged fields (KIP-584).
// v4: same as v3, except that supported features whose minimum is 0 are listed (KIP-1022;
// in v0-3 answers they are left out, as Kafka leaves them out since KAFKA-17011, because
// older clients fail on a minimum of 0). The response always travels with response header
// v0 (KIP-511), and a request at a version we do not serve is answered in the v0 layout
// with UNSUPPORTED_VERSION.
//
// Features. A finalized level of 0 means the feature is off, and Kafka lists no finalized
// feature at level 0. Clients read them: the Java producer uses the transaction protocol
// v2 (KIP-890) only when transaction.version is finalized at 2 or more, and the Java
// admin's describeFeatures and kafka-features show them all. Brook has neither
// transactions nor the KIP-848 consumer protocol, so transaction.version and group.version
// are supported at level 0 only (listed as 0-0 from v4, left out before) and finalized at
// none. metadata.version names the Kafka release whose API versions Brook serves: 4.1-IV1
// (level 27); Brook runs at that one level and cannot be moved to another (it serves no
// UpdateFeatures), so its supported range is 27-27 and that level is finalized. The
// finalized-features epoch is the offset of the last metadata record this node applied,
// as a KRaft broker reports the offset of its metadata image.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { handlers } from './index';

/** Kafka 4.1's metadata.version 4.1-IV1. */
export const METADATA_VERSION_LEVEL = 27;

/** The features this broker supports, as KIP-584 ranges. */
export const SUPPORTED_FEATURES: readonly { name: string; minVersion: number; maxVersion: number }[] = [
  { name: 'group.version', minVersion: 0, maxVersion: 0 },
  { name: 'metadata.version', minVersion: METADATA_VERSION_LEVEL, maxVersion: METADATA_VERSION_LEVEL },
  { name: 'transaction.version', minVersion: 0, maxVersion: 0 },
];

/** The cluster-wide finalized levels; level 0 (off) is never listed, as in Kafka. */
const FINALIZED_FEATURES: readonly { name: string; level: number }[] = [
  { name: 'group.version', level: 0 },
  { name: 'metadata.version', level: METADATA_VERSION_LEVEL },
  { name: 'transaction.version', level: 0 },
];

export function apiVersionsBody(errorCode: number) {
  return {
    errorCode,
    apiKeys: handlers
      .map((h) => ({ apiKey: h.apiKey, minVersion: h.advertisedMinVersion ?? h.minVersion, maxVersion: h.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey),
    throttleTimeMs: 0,
  };
}

/** The feature fields of a v3+ answer at `version`, with `epoch` as the finalized-features epoch. */
export function featureFields(version: number, epoch: number) {
  return {
    supportedFeatures: SUPPORTED_FEATURES.filter((f) => version >= 4 || f.minVersion > 0).map((f) => ({ ...f })),
    finalizedFeaturesEpoch: epoch,
    finalizedFeatures: FINALIZED_FEATURES.filter((f) => f.level !== 0).map((f) => ({
      name: f.name,
      maxVersionLevel: f.level,
      minVersionLevel: f.level,
    })),
  };
}

export const apiVersions: ApiHandler<typeof ApiKey.ApiVersions> = {
  apiKey: ApiKey.ApiVersions,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, request) {
    // v3 carries client software name and version, which must match [a-zA-Z0-9.-]+
    // (start and end alphanumeric); librdkafka falls back to v0 on INVALID_REQUEST.
    if (request.clientSoftwareName !== undefined && request.clientSoftwareName !== '') {
      const pattern = /^[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?$/;
      if (!pattern.test(request.clientSoftwareName) || !pattern.test(request.clientSoftwareVersion ?? '')) {
        return apiVersionsBody(ErrorCode.INVALID_REQUEST);
      }
    }
    const version = ctx.header.apiVersion;
    if (version < 3) return apiVersionsBody(ErrorCode.NONE);
    return {
      ...apiVersionsBody(ErrorCode.NONE),
      ...featureFields(version, Math.max(0, ctx.broker.quorum.image.lastOffset)),
    };
  },
  errorResponse(_request, errorCode) {
    return apiVersionsBody(errorCode);
  },
};
