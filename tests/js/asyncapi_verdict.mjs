// The official AsyncAPI JavaScript parser's verdict on each document named on the command line.
//
//   node asyncapi_verdict.mjs doc.yaml [more.yaml ...]
//
// Prints ONE JSON object on stdout:
//   { "<path as given>": { "valid": bool, "errors": [{ "code", "message", "path" }], "warnings": <count> } }
// valid = the parser produced a document and reported no diagnostic of severity 0 (error). "path" is a JSON
// pointer into the document (or into the referenced file the diagnostic is about).
// eventdeck's tests compare their own verdicts with this one.
//
// The parser runs in a worker thread so that a document it cannot finish within TIMEOUT_MS (CPU-bound work
// starves timers on its own thread) is recorded as a "timeout" error and the worker replaced, never a hang.

import dns from 'node:dns';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';

const TIMEOUT_MS = 30_000;
const ERROR = 0;
const WARNING = 1;

// Remote $refs are refused, not fetched, so the verdict is the same on a laptop and on an offline CI machine:
// every http(s) request fails at name resolution, at once, with this error.
dns.lookup = (hostname, options, callback) => {
  const done = typeof options === 'function' ? options : callback;
  done(Object.assign(new Error(`remote $ref refused (offline verdict): ${hostname}`), { code: 'EOFFLINE' }));
};

function failure(code, message) {
  return { valid: false, errors: [{ code, message, path: '' }], warnings: 0 };
}

function pointer(path = []) {
  return path.map((token) => '/' + String(token).replaceAll('~', '~0').replaceAll('/', '~1')).join('');
}

async function serveVerdicts() {
  const { Parser, fromFile } = await import('@asyncapi/parser');
  const parser = new Parser();
  parentPort.on('message', async (file) => {
    try {
      // fromFile, not parse(text): relative $refs resolve against the file's own folder.
      const { document, diagnostics } = await fromFile(parser, file).parse();
      const errors = diagnostics.filter((d) => d.severity === ERROR);
      parentPort.postMessage({
        valid: document !== undefined && errors.length === 0,
        errors: errors.map((d) => ({ code: String(d.code), message: d.message, path: pointer(d.path) })),
        warnings: diagnostics.filter((d) => d.severity === WARNING).length,
      });
    } catch (error) {
      parentPort.postMessage(failure('exception', String(error?.message ?? error)));
    }
  });
}

let worker = null;

function judge(file) {
  worker ??= new Worker(new URL(import.meta.url));
  const current = worker;
  return new Promise((resolve) => {
    const settle = (verdict, replaceWorker) => {
      clearTimeout(timer);
      current.removeAllListeners('message').removeAllListeners('error');
      if (replaceWorker) {
        current.terminate();
        worker = null;
      }
      resolve(verdict);
    };
    const timer = setTimeout(
      () => settle(failure('timeout', `no verdict within ${TIMEOUT_MS / 1000} s`), true),
      TIMEOUT_MS,
    );
    current.on('message', (verdict) => settle(verdict, false));
    current.on('error', (error) => settle(failure('exception', String(error?.message ?? error)), true));
    current.postMessage(file);
  });
}

if (isMainThread) {
  const verdicts = {};
  for (const file of process.argv.slice(2)) {
    verdicts[file] = await judge(file);
  }
  await worker?.terminate();
  // Exit explicitly: a timed-out read (a FIFO, a stalled mount) can keep the I/O thread pool busy forever.
  process.stdout.write(JSON.stringify(verdicts, null, 2) + '\n', () => process.exit(0));
} else {
  await serveVerdicts();
}
