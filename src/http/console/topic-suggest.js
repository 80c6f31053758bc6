// Topic-name suggestions for the topic fields of the messages and produce pages: the node's
// topic search, asked again as the person types, so a cluster with thousands of topics
// sends a short list rather than all of them. With options.operation (READ, WRITE) only the
// topics whose authorizedOperations include it are offered.

import { api, encode } from './api.js';
import { h, replace } from './dom.js';
import { allows } from './permissions.js';

/** Names offered at once. */
const SUGGESTIONS_MAX = 50;
/** Typing pauses this long before the node is asked. */
const SUGGEST_DELAY_MS = 200;

export function suggestTopics(input, datalist, options = {}) {
  let timer = null;
  let asked = null;
  const ask = async () => {
    const search = input.value.trim();
    if (search === asked) return;
    asked = search;
    try {
      const answer = await api('GET', `/api/v1/topics?limit=${SUGGESTIONS_MAX}&search=${encode(search)}`);
      const topics = answer.topics
        .filter((t) => options.includeInternal || !t.internal)
        .filter((t) => !options.operation || allows(t, options.operation));
      replace(
        datalist,
        topics.map((t) => h('option', { value: t.name })),
      );
    } catch {
      // Suggestions are a convenience: a failure leaves the field usable as plain text.
    }
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void ask(), SUGGEST_DELAY_MS);
  });
  void ask();
}
