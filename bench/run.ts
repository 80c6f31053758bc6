// `npm run bench`: every benchmark in one run (so figures compare by ratio on the same
// machine at the same moment), each writing its result file under bench/results/.
// Pass --quick for the small settings that the test suite also runs.

import { main as crc } from './crc32c';
import { main as produceFetch } from './produce-fetch';
import { main as workerPool } from './worker-pool';
import { main as quorum } from './quorum';
import { main as fetchSessions } from './fetch-sessions';
import { writeResult } from './lib/env';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const failedScripts: string[] = [];

/** The multi-process benches run as their own scripts (they start and stop brokers by PID). */
function runScript(name: string, quick: boolean): void {
  const result = spawnSync(process.execPath, [path.join(__dirname, `${name}.js`), ...(quick ? ['--quick'] : [])], {
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    process.stdout.write(`${name} exited with ${result.status ?? result.signal}\n`);
    failedScripts.push(name);
  }
}

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
  process.stdout.write('== broker CPU per fetch of many partitions, with and without a fetch session\n');
  process.stdout.write(`written ${writeResult(`fetch-sessions${suffix}`, await fetchSessions())}\n`);
  process.stdout.write('== replicated produce (RF1 against RF3) and partition-leader failover, 3 processes\n');
  runScript('replication', quick);
  process.stdout.write('== metadata quorum failover, 3 processes\n');
  runScript('failover', quick);
  process.stdout.write(
    '== plaintext against TLS: one broker acks=1, and 3 nodes RF3 acks=all with TLS between brokers (produce and fetch, broker CPU per MB)\n',
  );
  runScript('tls', quick);
  process.stdout.write('== produce with an authorizer and 1,000 ACLs against no authorizer (broker CPU per MB, p99)\n');
  runScript('authorizer', quick);
  process.stdout.write(
    '== produce while the log cleaner compacts a large topic: cleaner off, on its worker thread, inline (p99, broker CPU per MB)\n',
  );
  runScript('cleaner', quick);
  process.stdout.write('== the bundled producer against the raw load generator\n');
  runScript('client', quick);
  process.stdout.write('== the HTTP API under load (autocannon)\n');
  runScript('http', quick);
  process.stdout.write('== the bundled client matrix: record sizes, producers, acks, RF; consumer; end to end\n');
  runScript('client-matrix', quick);
  // The peers need nats-server and redis-server (installed from Debian by the bench when
  // missing): not part of the quick smoke run inside the test suite.
  if (!quick || process.argv.includes('--peers')) {
    process.stdout.write('== Brook against NATS JetStream and Redis Streams (and through kcat)\n');
    runScript('peers/run', quick);
  }
  // A bench that did not finish fails the run (and the smoke test), rather than a line in the output.
  if (failedScripts.length > 0) {
    process.stdout.write(`failed: ${failedScripts.join(', ')}\n`);
    process.exitCode = 1;
  }
})();
