// eventdeck's house rules on messages, for Spectral: the same checks as `eventdeck lint` (pipeline/contract/lint/),
// so a team that runs Spectral gets the same verdicts. Given `$` (the resolved document); option `check` picks the
// rule: name, unique, title, summary, examples, required, descriptions, versions, pii.

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
const MAX_NAME = 128;

// A JSON Merge Patch (RFC 7386), as AsyncAPI applies traits.
function mergePatch(target, patch) {
  if (!isObject(patch)) return patch;
  const result = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

// The message as a consumer sees it: traits applied (3.x: the message wins; 2.x: traits win, in order).
function effective(message, major) {
  const traits = Array.isArray(message.traits) ? message.traits.filter(isObject) : [];
  if (traits.length === 0) return message;
  const own = { ...message };
  delete own.traits;
  if (major >= 3) {
    let merged = {};
    for (const trait of traits) merged = mergePatch(merged, trait);
    return mergePatch(merged, own);
  }
  let merged = own;
  for (const trait of traits) merged = mergePatch(merged, trait);
  return merged;
}

// Every message of the document once: [message, path].
function messages(doc) {
  const major = parseInt(String(doc.asyncapi || '0'), 10);
  const seen = new Set();
  const out = [];
  const add = (message, path) => {
    // A message still written as a $ref could not be resolved (its own finding); there is nothing to check.
    if (isObject(message) && typeof message.$ref !== 'string' && !seen.has(message)) {
      seen.add(message);
      out.push([message, path]);
    }
  };
  const channels = isObject(doc.channels) ? doc.channels : {};
  if (major >= 3) {
    for (const [id, channel] of Object.entries(channels)) {
      if (isObject(channel) && isObject(channel.messages)) {
        for (const [key, message] of Object.entries(channel.messages)) add(message, ['channels', id, 'messages', key]);
      }
    }
  } else {
    for (const [address, channel] of Object.entries(channels)) {
      for (const verb of ['publish', 'subscribe']) {
        const op = isObject(channel) ? channel[verb] : undefined;
        const message = isObject(op) ? op.message : undefined;
        if (isObject(message) && Array.isArray(message.oneOf)) {
          message.oneOf.forEach((m, i) => add(m, ['channels', address, verb, 'message', 'oneOf', i]));
        } else add(message, ['channels', address, verb, 'message']);
      }
    }
  }
  const components = isObject(doc.components) && isObject(doc.components.messages) ? doc.components.messages : {};
  for (const [key, message] of Object.entries(components)) add(message, ['components', 'messages', key]);
  return out.map(([message, path]) => ({ message: effective(message, major), raw: message, path, major }));
}

function isHierarchical(name) {
  const parts = name.split('.');
  return parts.length >= 2 && parts.every((part) => /^\p{Lu}[\p{L}\p{N}]*$/u.test(part));
}

function payloadOf(entry) {
  let payload = entry.message.payload;
  let format = entry.message.schemaFormat;
  if (entry.major >= 3 && isObject(payload) && 'schemaFormat' in payload && 'schema' in payload) {
    format = payload.schemaFormat;
    payload = payload.schema;
  }
  const json = format === undefined || (typeof format === 'string' &&
    (format.startsWith('application/vnd.aai.asyncapi') || format.startsWith('application/schema')));
  return json ? payload : undefined;
}

function hasRequired(schema, seen) {
  if (!isObject(schema) || seen.has(schema)) return false;
  seen.add(schema);
  if (Array.isArray(schema.required) && schema.required.length > 0) return true;
  if (Array.isArray(schema.allOf) && schema.allOf.some((part) => hasRequired(part, seen))) return true;
  for (const key of ['oneOf', 'anyOf']) {
    const branches = schema[key];
    if (Array.isArray(branches) && branches.length > 0 && branches.every((b) => hasRequired(b, new Set(seen)))) {
      return true;
    }
  }
  return false;
}

function described(schema, seen) {
  if (!isObject(schema) || '$ref' in schema || seen.has(schema)) return true;
  seen.add(schema);
  if (typeof schema.description === 'string' && schema.description.trim()) return true;
  return Array.isArray(schema.allOf) &&
    schema.allOf.some((part) => isObject(part) && Object.keys(part).length > 0 && described(part, seen));
}

const WALK_ONE = ['items', 'additionalProperties', 'contains', 'not', 'if', 'then', 'else'];
const WALK_MANY = ['anyOf', 'oneOf', 'prefixItems'];

function* occurrences(schema, seen) {
  if (!isObject(schema) || seen.has(schema)) return;
  seen.add(schema);
  if (isObject(schema.properties)) {
    for (const [name, child] of Object.entries(schema.properties)) yield [name, child];
  }
  for (const part of Array.isArray(schema.allOf) ? schema.allOf : []) yield* occurrences(part, seen);
}

// Names of properties (at any depth) that no part of their allOf composition describes.
function undescribed(schema) {
  const found = [];
  const stack = [[schema]];
  const done = new Set();
  while (stack.length) {
    const group = stack.pop().filter(isObject);
    if (group.length === 0 || group.some((s) => done.has(s))) continue;
    group.forEach((s) => done.add(s));
    const byName = new Map();
    const seen = new Set();
    for (const member of group) {
      for (const [name, child] of occurrences(member, seen)) {
        if (!byName.has(name)) byName.set(name, []);
        byName.get(name).push(child);
      }
      for (const part of Array.isArray(member.allOf) ? member.allOf : []) {
        if (isObject(part)) WALK_ONE.forEach((k) => stack.push([part[k]]));
      }
      WALK_ONE.forEach((k) => stack.push([member[k]]));
      for (const k of WALK_MANY) if (Array.isArray(member[k])) member[k].forEach((item) => stack.push([item]));
      if (isObject(member.patternProperties)) Object.values(member.patternProperties).forEach((p) => stack.push([p]));
    }
    for (const [name, children] of byName) {
      if (!children.some((child) => described(child, new Set()))) found.push(name);
      stack.push(children);
    }
  }
  return found;
}

// Every schema object in a schema, following schema keywords only.
function* subschemas(schema) {
  const stack = [schema];
  const seen = new Set();
  while (stack.length) {
    const node = stack.pop();
    if (!isObject(node) || seen.has(node)) continue;
    seen.add(node);
    yield node;
    for (const k of ['items', 'additionalItems', 'additionalProperties', 'contains', 'propertyNames', 'not', 'if',
      'then', 'else', 'unevaluatedItems', 'unevaluatedProperties']) stack.push(node[k]);
    for (const k of ['allOf', 'anyOf', 'oneOf', 'prefixItems']) if (Array.isArray(node[k])) stack.push(...node[k]);
    for (const k of ['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas']) {
      if (isObject(node[k])) stack.push(...Object.values(node[k]));
    }
  }
}

const CHECKS = {
  name(entry) {
    const name = entry.message.name;
    if (typeof name !== 'string') return ['message has no "name" (give it one like "Payment.Authorised.Ecom")'];
    const problems = [];
    if (!isHierarchical(name)) {
      problems.push(`event name "${name}" does not follow {Entity}.{Event}.{Metadata} (PascalCase parts joined by dots)`);
    }
    if (name.length > MAX_NAME) problems.push(`event name is ${name.length} characters; at most ${MAX_NAME} are allowed`);
    return problems;
  },
  title: (entry) => (typeof entry.message.title === 'string' && entry.message.title.trim() ? [] : ['message has no "title"']),
  summary: (entry) =>
    (typeof entry.message.summary === 'string' && entry.message.summary.trim() ? [] : ['message has no "summary"']),
  examples: (entry) => (Array.isArray(entry.message.examples) &&
    entry.message.examples.some((e) => isObject(e) && 'payload' in e) ? [] : ['message has no example with a payload']),
  required(entry) {
    const payload = payloadOf(entry);
    if (payload === undefined) return entry.message.payload === undefined ? ['message has no payload schema'] : [];
    return hasRequired(payload, new Set()) ? [] : ['the payload declares no "required" fields'];
  },
  descriptions(entry) {
    const payload = payloadOf(entry);
    return payload === undefined ? [] : undescribed(payload).map((name) => `property "${name}" has no description`);
  },
  versions(entry, doc, names) {
    const name = entry.message.name;
    const problems = [];
    if (typeof name === 'string' && isHierarchical(name)) {
      name.split('.').forEach((part, index) => {
        const version = /[^0-9]V([0-9]+)$/.exec(part);
        if (/(Version|Ver)[0-9]+$/.test(part)) problems.push(`spell a version as V<n> on the event part`);
        else if (version && index !== 1) problems.push('the version suffix belongs on the event part ({Entity}.{Event}V<n>.{Metadata})');
        else if (version && parseInt(version[1], 10) < 2) problems.push('the first version has no suffix; a breaking evolution starts at V2');
      });
    }
    const lifecycle = entry.message['x-lifecycle'];
    if (isObject(lifecycle) && typeof lifecycle.supersededBy === 'string' && lifecycle.supersededBy &&
        !names.has(lifecycle.supersededBy)) {
      problems.push(`superseded by "${lifecycle.supersededBy}", which the document does not define`);
    }
    return problems;
  },
  pii(entry, doc) {
    const payload = payloadOf(entry);
    if (payload === undefined) return [];
    const problems = [];
    let marked = 0;
    for (const node of subschemas(payload)) {
      if (!('x-pii' in node)) continue;
      if (typeof node['x-pii'] !== 'boolean') problems.push('x-pii must be true or false');
      else if (node['x-pii']) marked += 1;
    }
    if (marked === 0) return problems;
    const sealing = 'x-sealing' in entry.message ? entry.message['x-sealing'] : doc['x-sealing'];
    if (sealing === undefined) problems.push('holds personal data (x-pii) but declares no x-sealing');
    else if (sealing === 'none') problems.push('holds personal data (x-pii) but is published unsealed (x-sealing: none)');
    else if (isObject(sealing) && isObject(sealing.sign) && !isObject(sealing.encrypt)) {
      problems.push('holds personal data (x-pii) but its x-sealing only signs; add "encrypt"');
    }
    return problems;
  },
};

export default function eventdeckMessages(doc, options, context) {
  if (!isObject(doc)) return [];
  const raw = context && context.document ? context.document.data : doc;
  const all = messages(doc);
  const names = new Set(all.map((e) => e.message.name).filter((n) => typeof n === 'string'));
  if (options.check === 'unique') {
    const seen = new Set();
    const results = [];
    for (const entry of all) {
      const name = entry.message.name;
      if (typeof name !== 'string') continue;
      if (seen.has(name)) results.push({ message: `event name "${name}" is used by more than one message`, path: written(raw, entry.path) });
      seen.add(name);
    }
    return results;
  }
  const check = CHECKS[options.check];
  return all.flatMap((entry) => check(entry, doc, names).map((message) => ({ message, path: written(raw, entry.path) })));
}
