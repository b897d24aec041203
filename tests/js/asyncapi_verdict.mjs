// The official AsyncAPI JavaScript parser's verdict on each document named on the command line.
//
//   node asyncapi_verdict.mjs doc.yaml [more.yaml ...]
//
// Prints ONE JSON object on stdout:
//   { "<path as given>": { "valid": bool, "errors": [{ "code", "message", "path" }], "warnings": <count> } }
// valid = the parser produced a document and reported no diagnostic of severity 0 (error). "path" is a JSON
// pointer into the document (or into the referenced file the diagnostic is about).
// eventdeck's tests compare their own verdicts with this one.

import dns from 'node:dns';
import { Parser, fromFile } from '@asyncapi/parser';

const TIMEOUT_MS = 30_000;
const ERROR = 0;
const WARNING = 1;

// Remote $refs are refused, not fetched, so the verdict is the same on a laptop and on an offline CI machine:
// every http(s) request fails at name resolution, at once, with this error.
dns.lookup = (hostname, options, callback) => {
  const done = typeof options === 'function' ? options : callback;
  done(Object.assign(new Error(`remote $ref refused (offline verdict): ${hostname}`), { code: 'EOFFLINE' }));
};

function pointer(path = []) {
  return path.map((token) => '/' + String(token).replaceAll('~', '~0').replaceAll('/', '~1')).join('');
}

function failure(code, message) {
  return { valid: false, errors: [{ code, message, path: '' }], warnings: 0 };
}

async function verdict(parser, file) {
  // fromFile, not parse(text): relative $refs resolve against the file's own folder.
  const { document, diagnostics } = await fromFile(parser, file).parse();
  const errors = diagnostics.filter((d) => d.severity === ERROR);
  return {
    valid: document !== undefined && errors.length === 0,
    errors: errors.map((d) => ({ code: String(d.code), message: d.message, path: pointer(d.path) })),
    warnings: diagnostics.filter((d) => d.severity === WARNING).length,
  };
}

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve(failure('timeout', `no verdict within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const parser = new Parser();
const verdicts = {};
for (const file of process.argv.slice(2)) {
  verdicts[file] = await withTimeout(
    verdict(parser, file).catch((error) => failure('exception', String(error?.message ?? error))),
    TIMEOUT_MS,
  );
}
// A timed-out parse may still hold the event loop: once the verdicts are written, stop.
process.stdout.write(JSON.stringify(verdicts, null, 2) + '\n', () => process.exit(0));
