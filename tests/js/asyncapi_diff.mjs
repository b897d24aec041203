// The official `asyncapi diff` engine (@asyncapi/diff, which the AsyncAPI CLI runs) on pairs of documents.
//
//   node asyncapi_diff.mjs old.yaml new.yaml [old2.yaml new2.yaml ...]
//
// Each document is parsed and dereferenced by @asyncapi/parser first (as @asyncapi/diff's README requires).
// Prints ONE JSON object on stdout, keyed "<old> <new>":
//   { "breaking": [{action, path}], "non-breaking": [...], "unclassified": [...] }  or  { "error": "..." }
// eventdeck's tests compare their own classification with this one.
//
// A recursive schema makes the parser's dereferenced document a cyclic object graph, which the diff engine would
// walk forever; each cycle is cut where it closes (replaced by the string "[circular]"), on both sides alike.

import { Parser, fromFile } from '@asyncapi/parser';
import { diff } from '@asyncapi/diff';

function acyclic(value, stack = new Set()) {
  if (value === null || typeof value !== 'object') return value;
  if (stack.has(value)) return '[circular]';
  stack.add(value);
  const copy = Array.isArray(value) ? value.map((v) => acyclic(v, stack))
    : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, acyclic(v, stack)]));
  stack.delete(value);
  return copy;
}

// A file named in several pairs (the tests' base fixture) is parsed once.
const cache = new Map();

async function parsed(parser, file) {
  if (!cache.has(file)) cache.set(file, parseOnce(parser, file));
  return structuredClone(await cache.get(file));
}

async function parseOnce(parser, file) {
  const { document, diagnostics } = await fromFile(parser, file).parse();
  if (document === undefined) {
    const errors = diagnostics.filter((d) => d.severity === 0).map((d) => d.message);
    throw new Error(`${file} does not parse: ${errors.slice(0, 3).join('; ')}`);
  }
  return acyclic(document.json());
}

const parser = new Parser();
const files = process.argv.slice(2);
const result = {};
for (let i = 0; i + 1 < files.length; i += 2) {
  const key = `${files[i]} ${files[i + 1]}`;
  try {
    const output = diff(await parsed(parser, files[i]), await parsed(parser, files[i + 1]));
    const pick = (changes) => changes.map((c) => ({ action: c.action, path: c.path }));
    result[key] = {
      breaking: pick(output.breaking()),
      'non-breaking': pick(output.nonBreaking()),
      unclassified: pick(output.unclassified()),
    };
  } catch (error) {
    result[key] = { error: String(error?.message ?? error) };
  }
}
process.stdout.write(JSON.stringify(result));
