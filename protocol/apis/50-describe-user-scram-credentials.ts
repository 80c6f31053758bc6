// DescribeUserScramCredentials (key 50), version 0, flexible (KIP-554): the SCRAM
// mechanisms and iteration counts each user has credentials for; never salts or keys.
// A null (or empty) user list asks for every user.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const DescribeUserScramCredentials = defineApi({
  apiKey: ApiKey.DescribeUserScramCredentials,
  name: 'DescribeUserScramCredentials',
  validVersions: '0',
  flexibleVersions: '0+',
  request: [array('users', [field('name', 'string')], { nullableVersions: '0+' })],
  response: [
    field('throttleTimeMs', 'int32'),
    field('errorCode', 'int16'),
    field('errorMessage', 'string', { nullableVersions: '0+', default: null }),
    array('results', [
      field('user', 'string'),
      field('errorCode', 'int16'),
      field('errorMessage', 'string', { nullableVersions: '0+', default: null }),
      array('credentialInfos', [field('mechanism', 'int8'), field('iterations', 'int32')]),
    ]),
  ],
});
