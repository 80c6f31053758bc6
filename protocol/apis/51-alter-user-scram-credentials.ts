// AlterUserScramCredentials (key 51), version 0, flexible (KIP-554): deletions by user and
// mechanism, and upsertions carrying the salt and the salted password the client computed
// (the controller derives StoredKey and ServerKey from them; the password never travels).
// One result per user named.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const AlterUserScramCredentials = defineApi({
  apiKey: ApiKey.AlterUserScramCredentials,
  name: 'AlterUserScramCredentials',
  validVersions: '0',
  flexibleVersions: '0+',
  request: [
    array('deletions', [field('name', 'string'), field('mechanism', 'int8')]),
    array('upsertions', [
      field('name', 'string'),
      field('mechanism', 'int8'),
      field('iterations', 'int32'),
      field('salt', 'bytes'),
      field('saltedPassword', 'bytes'),
    ]),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    array('results', [
      field('user', 'string'),
      field('errorCode', 'int16'),
      field('errorMessage', 'string', { nullableVersions: '0+', default: null }),
    ]),
  ],
});
