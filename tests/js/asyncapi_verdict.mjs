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
// The parser runs in a child process, so that a document it cannot finish within TIMEOUT_MS is recorded as a
// "timeout" error and the child killed and replaced: a timer on the parser's own thread would not do, since
// CPU-bound parsing starves timers, and a worker thread stuck in a blocking read (a FIFO, a stalled mount)
// cannot be terminated.

import { fork } from 'node:child_process';
import dns from 'node:dns';
import { fileURLToPath } from 'node:url';

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
  process.on('message', async (file) => {
    try {
      // fromFile, not parse(text): relative $refs resolve against the file's own folder.
      const { document, diagnostics } = await fromFile(parser, file).parse();
      const errors = diagnostics.filter((d) => d.severity === ERROR);
      process.send({
        valid: document !== undefined && errors.length === 0,
        errors: errors.map((d) => ({ code: String(d.code), message: d.message, path: pointer(d.path) })),
        warnings: diagnostics.filter((d) => d.severity === WARNING).length,
      });
    } catch (error) {
      process.send(failure('exception', String(error?.message ?? error)));
    }
  });
}

const SERVE = '--serve';
let child = null;

function judge(file) {
  // The child's stdout is ignored: ours carries nothing but the one JSON object.
  child ??= fork(fileURLToPath(import.meta.url), [SERVE], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const current = child;
  return new Promise((resolve) => {
    const settle = (verdict, replaceChild) => {
      clearTimeout(timer);
      current.removeAllListeners('message').removeAllListeners('exit');
      if (replaceChild) {
        current.kill('SIGKILL');
        child = null;
      }
      resolve(verdict);
    };
    const timer = setTimeout(
      () => settle(failure('timeout', `no verdict within ${TIMEOUT_MS / 1000} s`), true),
      TIMEOUT_MS,
    );
    current.on('message', (verdict) => settle(verdict, false));
    current.on('exit', (code, signal) => settle(failure('exception', `parser exited (${signal ?? code})`), true));
    current.send(file);
  });
}

if (process.argv[2] === SERVE) {
  await serveVerdicts();
} else {
  const verdicts = {};
  for (const file of process.argv.slice(2)) {
    verdicts[file] = await judge(file);
  }
  child?.kill();
  process.stdout.write(JSON.stringify(verdicts, null, 2) + '\n');
}
