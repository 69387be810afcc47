// Checks the requests `careledger patient put --kubo/--pinning-service` and `patient publish`
// sent (captured by the Rust test cli/tests/cli/publish.rs into target/publish-fixture/)
// against what others publish, not against careledger's own reading:
// - POST /pins: the IPFS Pinning Service API's OpenAPI description, as npm
//   mock-ipfs-pinning-service ships it (api/oas-doc.yaml, spec version 0.1.2), with
//   openapi-request-validator: the path and method exist, the body is a valid Pin, the
//   content type is the one the description gives, and the bearer token the security scheme
//   requires is sent.
// - POST /api/v0/dag/import: no OpenAPI description of Kubo's RPC that covers dag/import is
//   published on a registry reachable here, so the request is compared with the one Kubo's own
//   JavaScript client (npm kubo-rpc-client, `dag.import(car, {pinRoots: true})`) sends to a
//   loopback recorder: method, path, the pin-roots parameter, a multipart/form-data body
//   whose one part is named `file` and holds the CAR.
// Usage: node check.mjs DIR | node check.mjs --self-test (known-bad requests must be refused).
import { readFileSync, readdirSync } from 'node:fs'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import yaml from 'js-yaml'
import OpenAPIRequestValidator from 'openapi-request-validator'
import { create as kuboClient } from 'kubo-rpc-client'

const require = createRequire(import.meta.url)
const specPath = join(dirname(require.resolve('mock-ipfs-pinning-service/package.json')), 'api', 'oas-doc.yaml')
const spec = yaml.load(readFileSync(specPath, 'utf8'))
const Validator = OpenAPIRequestValidator.default ?? OpenAPIRequestValidator

/** The reasons a captured POST /pins request is not what the description allows. */
function pinningProblems (request) {
  const problems = []
  const operation = spec.paths?.[request.path]?.[request.method.toLowerCase()]
  if (!operation) return [`${request.method} ${request.path} is not in the description`]
  const mediaTypes = Object.keys(operation.requestBody?.content ?? {})
  const contentType = (request.content_type ?? '').split(';')[0].trim()
  if (!mediaTypes.includes(contentType)) problems.push(`content type ${contentType} is not one of ${mediaTypes}`)
  const security = operation.security ?? spec.security ?? []
  const schemes = security.flatMap((s) => Object.keys(s)).map((n) => spec.components.securitySchemes[n])
  for (const scheme of schemes) {
    if (scheme.type === 'http' && scheme.scheme === 'bearer' && !/^Bearer \S+$/.test(request.authorization ?? '')) {
      problems.push('no bearer token, which the security scheme requires')
    }
  }
  const validator = new Validator({
    parameters: operation.parameters ?? [],
    requestBody: operation.requestBody,
    componentSchemas: spec.components.schemas
  })
  const result = validator.validateRequest({
    headers: { 'content-type': request.content_type },
    body: request.body,
    query: {},
    params: {}
  })
  for (const e of result?.errors ?? []) problems.push(`${e.path ?? ''} ${e.message}`.trim())
  return problems
}

/** What Kubo's own client sends for dag.import(car, {pinRoots: true}), parsed. */
async function kuboReference (car) {
  let captured
  const server = createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      captured = { method: req.method, url: req.url, contentType: req.headers['content-type'], body: Buffer.concat(chunks) }
      res.setHeader('content-type', 'application/json')
      res.end('{"Root":{"Cid":{"/":"bafkqaaa"},"PinErrorMsg":""}}\n')
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const timer = setTimeout(() => server.close(), 30000)
  try {
    const client = kuboClient({ url: `http://127.0.0.1:${server.address().port}/api/v0` })
    for await (const _ of client.dag.import([car], { pinRoots: true })) { /* drain */ }
  } finally {
    clearTimeout(timer)
    server.closeAllConnections?.()
    await new Promise((resolve) => server.close(resolve))
  }
  return captured
}

/** The parts of a multipart/form-data body: [{name, filename, data}]. */
function multipartParts (contentType, body) {
  const match = /boundary=("?)([^";]+)\1/.exec(contentType ?? '')
  if (!/^multipart\/form-data/i.test(contentType ?? '') || !match) throw new Error(`not multipart/form-data: ${contentType}`)
  const delimiter = Buffer.from(`--${match[2]}`)
  const parts = []
  let at = body.indexOf(delimiter)
  if (at < 0) throw new Error('no boundary in the body')
  while (true) {
    at += delimiter.length
    if (body.subarray(at, at + 2).toString() === '--') break
    const headEnd = body.indexOf('\r\n\r\n', at)
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headEnd)
    if (headEnd < 0 || next < 0) throw new Error('an unterminated part')
    const head = body.subarray(at, headEnd).toString()
    const name = /name="([^"]*)"/.exec(head)?.[1]
    const filename = /filename="([^"]*)"/.exec(head)?.[1]
    parts.push({ name, filename, data: body.subarray(headEnd + 4, next) })
    at = next + 2
  }
  return parts
}

/** The reasons a captured dag/import request differs from Kubo's own client's. */
async function kuboProblems (request) {
  const problems = []
  const body = Buffer.from(request.body_base64, 'base64')
  let parts
  try {
    parts = multipartParts(request.content_type, body)
  } catch (e) {
    return [e.message]
  }
  const ours = new URLSearchParams(request.query)
  if (parts.length !== 1) problems.push(`${parts.length} parts, not one CAR`)
  const car = parts[0]?.data ?? Buffer.alloc(0)
  const reference = await kuboReference(car)
  const refUrl = new URL(reference.url, 'http://x')
  if (request.method !== reference.method) problems.push(`method ${request.method}, Kubo's client sends ${reference.method}`)
  if (request.path !== refUrl.pathname) problems.push(`path ${request.path}, Kubo's client posts to ${refUrl.pathname}`)
  for (const [key, value] of refUrl.searchParams) {
    if (ours.get(key) !== value) problems.push(`${key}=${ours.get(key)}, Kubo's client sends ${key}=${value}`)
  }
  for (const key of ours.keys()) {
    if (!refUrl.searchParams.has(key)) problems.push(`parameter ${key}, which Kubo's client does not send`)
  }
  const refParts = multipartParts(reference.contentType, reference.body)
  if (parts[0] && parts[0].name !== refParts[0].name) problems.push(`part named ${parts[0].name}, Kubo's client names it ${refParts[0].name}`)
  if (parts[0] && !refParts[0].data.equals(car)) problems.push('the part is not the bytes Kubo\'s client would send')
  // a CARv1 header: varint length, then DAG-CBOR {roots, version: 1}
  if (car.length < 2 || !car.subarray(0, 64).includes(Buffer.from('version'))) problems.push('the part is not a CARv1')
  return problems
}

async function check (request) {
  if (request.api === 'pinning-service') return pinningProblems(request)
  if (request.api === 'kubo') return kuboProblems(request)
  return [`unknown api ${request.api}`]
}

async function selfTest () {
  const pin = {
    api: 'pinning-service', method: 'POST', path: '/pins', query: '', content_type: 'application/json',
    authorization: 'Bearer REDACTED',
    body: { cid: 'bafkqaaa', name: 'careledger record x/0', origins: ['/ip4/127.0.0.1/tcp/8080/http'], meta: { app: 'careledger' } }
  }
  const car = Buffer.concat([Buffer.from([0x11]), Buffer.from('\xa2eroots\x80gversion\x01', 'latin1')])
  const form = (name, boundary = 'b0undary') => Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="record.car"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    car, Buffer.from(`\r\n--${boundary}--\r\n`)
  ])
  const kubo = {
    api: 'kubo', method: 'POST', path: '/api/v0/dag/import', query: 'pin-roots=true',
    content_type: 'multipart/form-data; boundary=b0undary', body_base64: form('file').toString('base64')
  }
  const good = [pin, kubo]
  const bad = [
    ['no cid', { ...pin, body: { name: 'x' } }],
    ['origins not strings', { ...pin, body: { ...pin.body, origins: [7] } }],
    ['too many origins', { ...pin, body: { ...pin.body, origins: Array.from({ length: 21 }, (_, i) => `/ip4/10.0.0.${i}/tcp/1/http`) } }],
    ['a name over 255', { ...pin, body: { ...pin.body, name: 'n'.repeat(256) } }],
    ['meta not strings', { ...pin, body: { ...pin.body, meta: { n: 1 } } }],
    ['no token', { ...pin, authorization: '' }],
    ['form-encoded', { ...pin, content_type: 'application/x-www-form-urlencoded' }],
    ['another path', { ...pin, path: '/pin' }],
    ['GET for import', { ...kubo, method: 'GET' }],
    ['another path', { ...kubo, path: '/api/v0/dag/put' }],
    ['no pin-roots', { ...kubo, query: '' }],
    ['pin-roots=false', { ...kubo, query: 'pin-roots=false' }],
    ['a part named data', { ...kubo, body_base64: form('data').toString('base64') }],
    ['not multipart', { ...kubo, content_type: 'application/vnd.ipld.car', body_base64: car.toString('base64') }]
  ]
  let failed = 0
  for (const request of good) {
    const problems = await check(request)
    if (problems.length) { failed++; console.log(`FAIL a good ${request.api} request was refused: ${problems.join('; ')}`) }
  }
  for (const [what, request] of bad) {
    const problems = await check(request)
    if (!problems.length) { failed++; console.log(`FAIL a ${request.api} request with ${what} was accepted`) } else console.log(`ok refused (${what}): ${problems[0]}`)
  }
  console.log(`self-test: ${good.length + bad.length - failed} passed, ${failed} failed`)
  return failed === 0
}

const arg = process.argv[2]
if (!arg) { console.error('usage: node check.mjs DIR | --self-test'); process.exit(2) }
if (arg === '--self-test') process.exit((await selfTest()) ? 0 : 1)
const files = readdirSync(arg).filter((f) => f.endsWith('.json')).sort()
if (!files.some((f) => f.includes('kubo')) || !files.some((f) => f.includes('pinning'))) {
  console.error(`${arg} does not hold a captured request of each API`)
  process.exit(1)
}
let passed = 0
let failed = 0
for (const file of files) {
  const problems = await check(JSON.parse(readFileSync(join(arg, file), 'utf8')))
  if (problems.length) { failed++; console.log(`FAIL ${file}: ${problems.join('; ')}`) } else { passed++; console.log(`ok ${file}`) }
}
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
