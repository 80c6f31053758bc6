// ApiVersions (key 18), versions 0-3.
// v0: error code and the api key ranges. v1: throttle time. v2: same as v1.
// v3: flexible (compact arrays, tagged fields; client software name/version in the
// request). The response always travels with response header v0 (KIP-511), and a request
// at a version we do not serve is answered in the v0 layout with UNSUPPORTED_VERSION.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { handlers } from './index';

export function apiVersionsBody(errorCode: number) {
  return {
    errorCode,
    apiKeys: handlers
      .map((h) => ({ apiKey: h.apiKey, minVersion: h.advertisedMinVersion ?? h.minVersion, maxVersion: h.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey),
    throttleTimeMs: 0,
  };
}

export const apiVersions: ApiHandler<typeof ApiKey.ApiVersions> = {
  apiKey: ApiKey.ApiVersions,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: 3,
  handle(_ctx, request) {
    // v3 carries client software name and version, which must match [a-zA-Z0-9.-]+
    // (start and end alphanumeric); librdkafka falls back to v0 on INVALID_REQUEST.
    if (request.clientSoftwareName !== undefined && request.clientSoftwareName !== '') {
      const pattern = /^[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?$/;
      if (!pattern.test(request.clientSoftwareName) || !pattern.test(request.clientSoftwareVersion ?? '')) {
        return apiVersionsBody(ErrorCode.INVALID_REQUEST);
      }
    }
    return apiVersionsBody(ErrorCode.NONE);
  },
  errorResponse(_request, errorCode) {
    return apiVersionsBody(errorCode);
  },
};
