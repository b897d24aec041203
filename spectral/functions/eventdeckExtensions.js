// eventdeck's house rule on extensions, for Spectral: the same checks as `eventdeck lint`'s eventdeck-extensions
// (pipeline/contract/lint/extension_rules.py): each eventdeck extension valid against its JSON Schema, standing
// where it means something, and no near-miss of a known name (which would be ignored silently). Given `$`.
import { schema } from '@stoplight/spectral-functions';
import SCHEMAS from './extensionSchemas.js';

// The longest part of `path` that is written in the document itself, not behind a $ref into another file: Spectral
// cannot tell which file a finding is in when its path runs through such a reference, so report it where the
// reference is written.
function written(raw, path) {
  let node = raw;
  const out = [];
  for (const token of path) {
    if (!node || typeof node !== 'object' || !(token in node)) break;
    const next = node[token];
    if (next && typeof next === 'object' && typeof next.$ref === 'string' && !next.$ref.startsWith('#')) break;
    node = next;
    out.push(token);
  }
  return out;
}

const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
const PLACES = {
  document: ['x-eventbridge', 'x-sealing'],
  info: ['x-backstage'],
  server: ['x-eventbridge'],
  message: ['x-enrichment', 'x-sealing', 'x-lifecycle'],
};
const KNOWN = [...new Set(Object.values(PLACES).flat())].sort();
const ALL_NAMES = [...KNOWN, 'x-pii'];

// Levenshtein distance, as extension_rules._edits.
function edits(a, b) {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    previous = current;
  }
  return previous[b.length];
}

function nearMiss(key) {
  let best = ALL_NAMES[0];
  for (const name of ALL_NAMES) if (edits(key, name) < edits(key, best)) best = name;
  const distance = edits(key, best);
  return distance > 0 && distance * 5 <= Math.max(key.length, best.length) ? best : undefined;
}

function* places(doc) {
  const major = parseInt(String(doc.asyncapi || '0'), 10);
  yield ['document', doc, []];
  if (isObject(doc.info)) yield ['info', doc.info, ['info']];
  for (const [name, server] of Object.entries(isObject(doc.servers) ? doc.servers : {})) {
    yield ['server', server, ['servers', name]];
  }
  const channels = isObject(doc.channels) ? doc.channels : {};
  for (const [id, channel] of Object.entries(channels)) {
    if (!isObject(channel)) continue;
    yield ['channel', channel, ['channels', id]];
    if (major >= 3 && isObject(channel.messages)) {
      for (const [key, message] of Object.entries(channel.messages)) {
        yield ['message', message, ['channels', id, 'messages', key]];
      }
    }
    for (const verb of major >= 3 ? [] : ['publish', 'subscribe']) {
      const op = channel[verb];
      if (!isObject(op)) continue;
      yield ['operation', op, ['channels', id, verb]];
      const message = op.message;
      if (isObject(message) && Array.isArray(message.oneOf)) {
        for (const [i, m] of message.oneOf.entries()) yield ['message', m, ['channels', id, verb, 'message', 'oneOf', i]];
      } else yield ['message', message, ['channels', id, verb, 'message']];
    }
  }
  for (const [id, op] of Object.entries(major >= 3 && isObject(doc.operations) ? doc.operations : {})) {
    yield ['operation', op, ['operations', id]];
  }
  const messages = isObject(doc.components) && isObject(doc.components.messages) ? doc.components.messages : {};
  for (const [key, message] of Object.entries(messages)) yield ['message', message, ['components', 'messages', key]];
}

export default function eventdeckExtensions(doc, _options, context) {
  if (!isObject(doc)) return [];
  const raw = context && context.document ? context.document.data : doc;
  const results = [];
  const seen = new Set();
  for (const [kind, node, path] of places(doc)) {
    if (!isObject(node) || typeof node.$ref === 'string' || seen.has(node)) continue;
    seen.add(node);
    const allowed = PLACES[kind] || [];
    for (const key of Object.keys(node)) {
      if (!key.startsWith('x-')) continue;
      if (allowed.includes(key)) {
        const problems = schema(node[key], { schema: SCHEMAS[key], allErrors: false },
          { ...context, path: written(raw, [...path, key]) });
        for (const problem of problems || []) {
          results.push({ message: `${key}: ${problem.message}`, path: written(raw, problem.path) });
        }
      } else if (KNOWN.includes(key)) {
        const homes = Object.keys(PLACES).filter((place) => PLACES[place].includes(key));
        results.push({ message: `${key} has no meaning on a ${kind} object; it belongs on: ${homes.join(', ')}`,
          path: written(raw, [...path, key]) });
      } else if (key === 'x-pii') {
        results.push({ message: `x-pii marks a payload property, not a ${kind} object`, path: written(raw, [...path, key]) });
      } else {
        const close = nearMiss(key);
        if (close) results.push({ message: `unknown extension ${key}: did you mean ${close}?`, path: written(raw, [...path, key]) });
      }
    }
  }
  return results;
}
