// Spectral's own $ref resolver with http(s) refused at once, as eventdeck refuses remote references by default:
// the comparison tests (tests/test_lint_spectral.py) never wait on the network. Loaded with `spectral lint --resolver`.
const { Resolver } = require('@stoplight/spectral-ref-resolver');
const { resolveFile } = require('@stoplight/json-ref-readers');

const offline = {
  resolve: (ref) => Promise.reject(new Error(`remote reference not fetched (offline): ${ref}`)),
};

module.exports = new Resolver({ resolvers: { https: offline, http: offline, file: { resolve: resolveFile } } });
