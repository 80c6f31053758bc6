// `npm run bench`: every benchmark in one run (so figures compare by ratio on the same
// machine at the same moment), each writing its result file under bench/results/.
// Pass --quick for the small settings that the test suite also runs.

import { main as crc } from './crc32c';
import { main as produceFetch } from './produce-fetch';
import { main as workerPool } from './worker-pool';
import { main as quorum } from './quorum';
import { writeResult } from './lib/env';

(async () => {
  const quick = process.argv.includes('--quick');
  const suffix = quick ? '-quick' : '';
  process.stdout.write('== CRC-32C\n');
  process.stdout.write(`written ${writeResult(`crc32c${suffix}`, crc())}\n`);
  process.stdout.write('== worker pool against inline\n');
  process.stdout.write(`written ${writeResult(`worker-pool${suffix}`, await workerPool())}\n`);
  process.stdout.write('== metadata quorum\n');
  process.stdout.write(`written ${writeResult(`quorum${suffix}`, await quorum())}\n`);
  process.stdout.write('== broker produce and fetch\n');
  process.stdout.write(`written ${writeResult(`produce-fetch${suffix}`, await produceFetch())}\n`);
})();
