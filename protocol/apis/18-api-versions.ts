// ApiVersions (key 18), versions 0-4; flexible from v3.
// v1: throttle time. v2: same as v1. v3: client software name and version in the request;
// supported/finalized feature tags in the response. v4: same as v3, but a supported
// feature may have minimum version 0 (v0-3 answers leave such features out, KAFKA-17011). The response always uses response
// header v0 (see protocol/header.ts).

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const ApiVersions = defineApi({
  apiKey: ApiKey.ApiVersions,
  name: 'ApiVersions',
  validVersions: '0-4',
  flexibleVersions: '3+',
  request: [
    field('clientSoftwareName', 'string', { versions: '3+' }),
    field('clientSoftwareVersion', 'string', { versions: '3+' }),
  ],
  response: [
    field('errorCode', 'int16'),
    array('apiKeys', [field('apiKey', 'int16'), field('minVersion', 'int16'), field('maxVersion', 'int16')]),
    field('throttleTimeMs', 'int32', { versions: '1+' }),
    array('supportedFeatures', [field('name', 'string'), field('minVersion', 'int16'), field('maxVersion', 'int16')], {
      versions: '3+',
      taggedVersions: '3+',
      tag: 0,
    }),
    field('finalizedFeaturesEpoch', 'int64', { versions: '3+', taggedVersions: '3+', tag: 1, default: -1 }),
    array(
      'finalizedFeatures',
      [field('name', 'string'), field('maxVersionLevel', 'int16'), field('minVersionLevel', 'int16')],
      {
        versions: '3+',
        taggedVersions: '3+',
        tag: 2,
      },
    ),
    field('zkMigrationReady', 'bool', { versions: '3+', taggedVersions: '3+', tag: 3, default: false }),
  ],
});
