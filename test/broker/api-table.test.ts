// Every advertised API version has a schema codec (request and response) and a handler,
// and the ranges reach down to the versions librdkafka 2.0 probes for its features
// (shared/reference/kafka-facts.md section 2.1).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { handlers } from '../../src/broker/apis';

test('each handler version has codecs', () => {
  const keys = new Set<number>();
  for (const handler of handlers) {
    assert.not.ok(keys.has(handler.apiKey), `one handler per key (${handler.name})`);
    keys.add(handler.apiKey);
    for (let v = handler.minVersion; v <= handler.maxVersion; v++) {
      assert.ok(requestCodec(handler.apiKey, v), `${handler.name} v${v} request`);
      assert.ok(responseCodec(handler.apiKey, v), `${handler.name} v${v} response`);
    }
  }
});

test('ranges cover what kafkajs, kcat and librdkafka 2.0 need', () => {
  const range = (key: number) => {
    const h = handlers.find((x) => x.apiKey === key)!;
    return [h.minVersion, h.maxVersion];
  };
  const covers = (key: number, min: number, max: number) => {
    const [lo, hi] = range(key);
    assert.ok(lo <= min && hi >= max, `api ${key} serves ${min}-${max} (has ${lo}-${hi})`);
  };
  covers(18, 0, 3);
  covers(3, 0, 12);
  covers(0, 3, 9);
  covers(1, 4, 12);
  covers(2, 1, 7);
  covers(19, 0, 7);
  covers(20, 0, 6);
  covers(37, 0, 3);
  covers(32, 0, 4);
  covers(22, 0, 4);
});

test.run();
