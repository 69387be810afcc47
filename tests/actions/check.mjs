// Checks careledger's Solana Actions JSON bodies against the official TypeScript types of
// npm @solana/actions-spec, with the package's own TypeScript compiler.
//
//   node check.mjs FIXTURE_DIR
//   node check.mjs --self-test
//
// FIXTURE_DIR/manifest.json is a non-empty list of
//   { "file": "grant-get.json", "type": "ActionGetResponse" }
// ("file" relative to FIXTURE_DIR; "type" the name of a type that the package's index.d.ts
// exports, with type arguments where the type needs them, e.g. `ActionPostRequest<{ days: string }>`
// or `ActionParameter<"text">`). Each file's JSON is written verbatim as an object literal of
// its type into a TypeScript file in a temporary directory, and `tsc --noEmit --strict` must
// accept it: excess-property checks reject unknown fields, and missing fields, wrong field types
// and wrong literals (`"type": "transactoin"`) are type errors. Then the rules the spec's text
// states and a type cannot (URLs, base64, base58, ...) are checked at run time; see RUNTIME below.
// Exit 0 when every fixture passes, 1 on any failure, 2 on bad usage or a bad manifest.
//
// --self-test writes good and bad fixtures to a temporary directory, runs this checker on them,
// and asserts that it accepts each good one and rejects each bad one with the expected message.
import { spawnSync } from 'node:child_process'
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, isAbsolute, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const HERE = dirname(fileURLToPath(import.meta.url))
const SPEC_PACKAGE = join(HERE, 'node_modules', '@solana', 'actions-spec')
const TSC = join(HERE, 'node_modules', 'typescript', 'bin', 'tsc')
const BASE_TSCONFIG = join(HERE, 'tsconfig.json')
// Lines of a generated file before the fixture's JSON, whose first line is this + 1.
const HEADER_LINES = 3

class UsageError extends Error {}

// ---------------------------------------------------------------------------------------------
// The package's exported types, read from its index.d.ts with the TypeScript parser.

/** Map of exported type name -> { total, required } type parameters. */
async function specTypes () {
  const path = join(SPEC_PACKAGE, 'index.d.ts')
  let text
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read ${path} (run \`npm ci\` in ${HERE}): ${err.message}`)
  }
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true)
  const types = new Map()
  for (const statement of source.statements) {
    const exported = ts.canHaveModifiers(statement) &&
      (ts.getModifiers(statement) ?? []).some(m => m.kind === ts.SyntaxKind.ExportKeyword)
    if (exported && (ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement))) {
      const params = statement.typeParameters ?? []
      types.set(statement.name.text, {
        total: params.length,
        required: params.filter(p => p.default === undefined).length
      })
    }
  }
  if (types.size === 0) throw new UsageError(`${path} exports no types`)
  return types
}

async function packageVersion (dir) {
  return JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')).version
}

// ---------------------------------------------------------------------------------------------
// The manifest.

/** Splits `Name` or `Name<args>` and checks Name against the package's exports. */
function parseType (text, types, where) {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new UsageError(`${where}: "type" must be a non-empty string`)
  }
  const type = text.trim().replace(/\s+/g, ' ')
  const m = /^([A-Za-z_$][\w$]*)\s*(<.*>)?$/.exec(type)
  if (m === null) {
    throw new UsageError(`${where}: "type" ${JSON.stringify(text)} is not a type name (optionally with <type arguments>)`)
  }
  const [, name, args] = m
  const info = types.get(name)
  if (info === undefined) {
    throw new UsageError(`${where}: ${JSON.stringify(name)} is not a type exported by @solana/actions-spec; ` +
      `its types are: ${[...types.keys()].sort().join(', ')}`)
  }
  if (args === undefined && info.required > 0) {
    throw new UsageError(`${where}: ${name} needs ${info.required} type argument(s), e.g. "${name}<...>"`)
  }
  if (args !== undefined && info.total === 0) {
    throw new UsageError(`${where}: ${name} takes no type arguments`)
  }
  return { name, type }
}

async function loadManifest (dir, types) {
  const path = join(dir, 'manifest.json')
  let text
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${err.message}`)
  }
  let manifest
  try {
    manifest = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`${path} is not JSON: ${err.message}`)
  }
  if (!Array.isArray(manifest) || manifest.length === 0) {
    throw new UsageError(`${path} must be a non-empty list of {"file": ..., "type": ...}`)
  }
  const fixtures = []
  for (const [i, entry] of manifest.entries()) {
    const where = `manifest.json entry ${i}`
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new UsageError(`${where}: must be an object {"file": ..., "type": ...}`)
    }
    const unknown = Object.keys(entry).filter(k => k !== 'file' && k !== 'type')
    if (unknown.length > 0) {
      throw new UsageError(`${where}: unknown key(s) ${unknown.join(', ')}; only "file" and "type" are read`)
    }
    if (typeof entry.file !== 'string' || entry.file === '' || isAbsolute(entry.file)) {
      throw new UsageError(`${where}: "file" must be a path relative to ${dir}`)
    }
    const { name, type } = parseType(entry.type, types, `${where} (${entry.file})`)
    try {
      await access(join(dir, entry.file))
    } catch {
      throw new UsageError(`${where}: ${join(dir, entry.file)} is missing`)
    }
    fixtures.push({ file: entry.file, name, type })
  }
  return fixtures
}

// ---------------------------------------------------------------------------------------------
// The type check: one generated module per fixture, all in one tsc run.

/** Runs tsc over the fixtures; returns a list of diagnostics for each. */
async function typeCheck (tmp, fixtures, typeNames) {
  const imports = `import type { ${typeNames.join(', ')} } from "@solana/actions-spec";`
  const files = []
  for (const [i, f] of fixtures.entries()) {
    const name = `fixture${i}.ts`
    // HEADER_LINES lines, then the JSON as it is in the fixture file.
    const text = `// ${f.file.replace(/[\r\n]/g, ' ')}\n${imports}\nexport const fixture: ${f.type} =\n${f.text}\n;\n`
    await writeFile(join(tmp, name), text)
    files.push(name)
  }
  await writeFile(join(tmp, 'tsconfig.json'), JSON.stringify({ extends: BASE_TSCONFIG, files }, null, 2))
  const run = spawnSync(process.execPath,
    [TSC, '-p', join(tmp, 'tsconfig.json'), '--noEmit', '--strict', '--pretty', 'false'],
    { cwd: tmp, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (run.error) throw run.error
  const perFixture = fixtures.map(() => [])
  const other = []
  let current = null
  for (const line of `${run.stdout}${run.stderr}`.split('\n')) {
    if (line.trim() === '') continue
    const m = /^(.*)\((\d+),(\d+)\): (error|warning) (TS\d+): (.*)$/.exec(line)
    const index = m && /(?:^|[\\/])fixture(\d+)\.ts$/.exec(m[1])
    if (index) {
      const i = Number(index[1])
      const fileLine = Number(m[2]) - HEADER_LINES
      const at = fileLine >= 1
        ? `${fixtures[i].file}:${fileLine}:${m[3]}`
        : `${fixtures[i].file} (top level)`
      current = { at, code: m[5], message: [m[6]] }
      perFixture[i].push(current)
    } else if (/^\s/.test(line) && current !== null) {
      current.message.push(line.trim())
    } else {
      current = null
      other.push(line)
    }
  }
  const counted = perFixture.reduce((n, d) => n + d.length, 0)
  if (other.length > 0 || (run.status !== 0 && counted === 0)) {
    throw new Error(`tsc (exit ${run.status}) reported problems outside the fixtures:\n${other.join('\n')}`)
  }
  return perFixture.map(list => list.map(d => `${d.at}: ${d.code} ${d.message.join(' / ')}`))
}

// ---------------------------------------------------------------------------------------------
// Run-time checks: rules of the spec's text that its types cannot state. The spec cited is the
// text shipped in the package: node_modules/@solana/actions-spec/README.md (v2.4, the only text
// with "Message Signing"; its other sections read as SPEC-v2.3.md does), section names in quotes.
// "must" rules are failures; "should" rules are notes, which do not fail.

const isObject = v => v !== null && typeof v === 'object' && !Array.isArray(v)
const quote = s => JSON.stringify(s)

/** An absolute http: or https: URL, as a URL, or null. */
function httpUrl (s) {
  if (typeof s !== 'string' || /[\s\u0000-\u001f\u007f\\]/.test(s)) return null
  let url
  try {
    url = new URL(s)
  } catch {
    return null
  }
  return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '' ? url : null
}

/** A path relative to the action's origin: starts with one `/` (`//` would name another host). */
function isRootPath (s) {
  if (typeof s !== 'string' || !s.startsWith('/') || s.startsWith('//')) return false
  if (/[\s\u0000-\u001f\u007f\\]/.test(s)) return false
  try {
    return new URL(s, 'https://origin.invalid').origin === 'https://origin.invalid'
  } catch {
    return false
  }
}

function checkEndpoint (value, path, out, rule) {
  if (typeof value !== 'string') return
  if (!isRootPath(value) && httpUrl(value) === null) {
    out.errors.push(`${path}: ${quote(value)} is neither a path starting with a single "/" nor an absolute http(s) URL (${rule})`)
  }
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/** Bytes of a base58 (Bitcoin alphabet) string, or null. */
function base58Decode (s) {
  if (typeof s !== 'string' || s === '') return null
  const bytes = [] // little-endian
  for (const ch of s) {
    let carry = BASE58.indexOf(ch)
    if (carry < 0) return null
    for (let i = 0; i < bytes.length; i++) {
      carry += bytes[i] * 58
      bytes[i] = carry & 0xff
      carry >>= 8
    }
    while (carry > 0) {
      bytes.push(carry & 0xff)
      carry >>= 8
    }
  }
  for (const ch of s) {
    if (ch !== '1') break
    bytes.push(0)
  }
  return Uint8Array.from(bytes.reverse())
}

function base58Encode (bytes) {
  const digits = [] // little-endian base 58
  for (const byte of bytes) {
    let carry = byte
    for (let i = 0; i < digits.length; i++) {
      carry += digits[i] << 8
      digits[i] = carry % 58
      carry = (carry / 58) | 0
    }
    while (carry > 0) {
      digits.push(carry % 58)
      carry = (carry / 58) | 0
    }
  }
  let out = ''
  for (const byte of bytes) {
    if (byte !== 0) break
    out += '1'
  }
  return out + digits.reverse().map(d => BASE58[d]).join('')
}

function checkBase58 (value, path, out, length, what, rule) {
  if (typeof value !== 'string') return
  const bytes = base58Decode(value)
  if (bytes === null) {
    out.errors.push(`${path}: ${quote(value)} is not base58 (${rule})`)
  } else if (bytes.length !== length) {
    out.errors.push(`${path}: base58 decodes to ${bytes.length} bytes, a ${what} has ${length} (${rule})`)
  }
}

/** Bytes of a canonical standard-alphabet, padded base64 string, or null. */
function base64Decode (s) {
  if (typeof s !== 'string' || s === '' || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null
  const bytes = Buffer.from(s, 'base64')
  return bytes.toString('base64') === s ? bytes : null
}

/**
 * Why bytes are not a serialized Solana transaction (legacy or v0 message), or null when they
 * are one: compact-u16 signature count, the signatures, then the message, with nothing left over.
 */
function transactionProblem (bytes) {
  let at = 0
  const need = (n, what) => {
    if (at + n > bytes.length) throw new Error(`ends inside ${what} (byte ${at} of ${bytes.length})`)
  }
  const u8 = what => { need(1, what); return bytes[at++] }
  const shortVec = what => {
    let value = 0
    for (let i = 0; i < 3; i++) {
      const b = u8(what)
      value |= (b & 0x7f) << (7 * i)
      if ((b & 0x80) === 0) return value
    }
    throw new Error(`${what}: compact-u16 longer than 3 bytes`)
  }
  const skip = (n, what) => { need(n, what); at += n }
  try {
    const signatures = shortVec('the signature count')
    if (signatures === 0) return 'has no signatures (a transaction needs its fee payer\'s)'
    skip(64 * signatures, 'the signatures')
    let versioned = false
    if (bytes[at] !== undefined && (bytes[at] & 0x80) !== 0) {
      const version = u8('the message version') & 0x7f
      if (version !== 0) return `message version ${version} is unknown (0 is the only versioned message)`
      versioned = true
    }
    const required = u8('the message header')
    const readonlySigned = u8('the message header')
    const readonlyUnsigned = u8('the message header')
    const keys = shortVec('the account key count')
    skip(32 * keys, 'the account keys')
    skip(32, 'the recent blockhash')
    const instructions = []
    for (let n = shortVec('the instruction count'); n > 0; n--) {
      const program = u8('an instruction')
      const accounts = []
      for (let k = shortVec('instruction accounts'); k > 0; k--) accounts.push(u8('instruction accounts'))
      skip(shortVec('instruction data'), 'instruction data')
      instructions.push({ program, accounts })
    }
    let loaded = 0
    if (versioned) {
      for (let n = shortVec('the lookup table count'); n > 0; n--) {
        skip(32, 'a lookup table address')
        for (let k = 0; k < 2; k++) {
          const count = shortVec('lookup table indexes')
          skip(count, 'lookup table indexes')
          loaded += count
        }
      }
    }
    if (at !== bytes.length) return `has ${bytes.length - at} byte(s) after the message`
    if (required !== signatures) return `holds ${signatures} signature(s) but its message requires ${required}`
    if (required > keys || readonlySigned >= required || readonlyUnsigned > keys - required) {
      return `message header (${required}, ${readonlySigned}, ${readonlyUnsigned}) does not fit its ${keys} account key(s)`
    }
    for (const ix of instructions) {
      if (ix.program >= keys || ix.accounts.some(a => a >= keys + loaded)) {
        return 'an instruction names an account index past the message\'s account keys'
      }
    }
    return null
  } catch (err) {
    return err.message
  }
}

// "POST Response Body": "`transaction` - The value must be a base64-encoded serialized
// transaction. The client must base64-decode the transaction and deserialize it."
function checkTransaction (value, path, out) {
  if (typeof value !== 'string') return
  const rule = 'spec "POST Response Body": transaction must be a base64-encoded serialized transaction'
  const bytes = base64Decode(value)
  if (bytes === null) {
    out.errors.push(`${path}: not valid base64 (${rule})`)
    return
  }
  const problem = transactionProblem(bytes)
  if (problem !== null) out.errors.push(`${path}: base64 of ${bytes.length} bytes that are not a serialized transaction: ${problem} (${rule})`)
}

// "GET Response Body": "`icon` - The value must be an absolute HTTP or HTTPS URL of an icon image.
// The file must be an SVG, PNG, or WebP image, or the client/wallet must reject it as malformed."
// The file itself is not fetched: a URL whose last path segment has an extension must name one
// of those three kinds; one without an extension is accepted.
function checkIcon (value, path, out) {
  if (typeof value !== 'string') return
  const rule = 'spec "GET Response Body": icon must be an absolute HTTP or HTTPS URL of an SVG, PNG or WebP image'
  const url = httpUrl(value)
  if (url === null) {
    out.errors.push(`${path}: ${quote(value.length > 80 ? `${value.slice(0, 77)}...` : value)} is not an absolute http(s) URL (${rule})`)
    return
  }
  const ext = /\.([^./]+)$/.exec(url.pathname)?.[1]?.toLowerCase()
  if (ext !== undefined && !['svg', 'png', 'webp'].includes(ext)) {
    out.errors.push(`${path}: names a ".${ext}" file (${rule})`)
  }
}

// "GET Response Body": "`label` - ... All labels should not exceed 5 word phrases".
function noteLabel (value, path, out) {
  if (typeof value !== 'string') return
  const words = value.trim().split(/\s+/).filter(Boolean).length
  if (words > 5) out.notes.push(`${path}: ${words} words; spec "GET Response Body": labels should not exceed 5 words`)
}

// "GET Response Body" (Action, and so ActionGetResponse, NextAction and CompletedAction).
function checkAction (value, path, out) {
  if (!isObject(value)) return
  checkIcon(value.icon, `${path}.icon`, out)
  noteLabel(value.label, `${path}.label`, out)
  if (isObject(value.links) && Array.isArray(value.links.actions)) {
    value.links.actions.forEach((a, i) => checkLinkedAction(a, `${path}.links.actions[${i}]`, out))
  }
}

// "GET Response Body", LinkedAction: "`href` - URL endpoint for an action". A client resolves it
// against the action's URL, so it is a path from that origin or an absolute http(s) URL.
function checkLinkedAction (value, path, out) {
  if (!isObject(value)) return
  checkEndpoint(value.href, `${path}.href`, out, 'LinkedAction.href is the URL endpoint of an action')
  noteLabel(value.label, `${path}.label`, out)
  if (Array.isArray(value.parameters)) {
    value.parameters.forEach((p, i) => checkParameter(p, `${path}.parameters[${i}]`, out))
  }
}

// "GET Response Body", ActionParameter: "The `pattern` should be a string equivalent of a valid
// regular expression ... If `pattern` is provided, the `patternDescription` is required to be
// provided." An invalid pattern is counted as a failure too: clients would silently ignore it.
function checkParameter (value, path, out) {
  if (!isObject(value) || value.pattern === undefined) return
  if (typeof value.pattern === 'string') {
    try {
      RegExp(value.pattern)
    } catch (err) {
      out.errors.push(`${path}.pattern: not a valid regular expression: ${err.message} (spec "GET Response Body": pattern should be a valid regular expression)`)
    }
  }
  if (value.patternDescription === undefined) {
    out.errors.push(`${path}: has a pattern but no patternDescription (spec "GET Response Body": if pattern is provided, patternDescription is required)`)
  }
}

// "POST Response Body" and "Action Chaining" (every ActionPostResponse kind), "Message Signing".
function checkPostResponse (value, path, out) {
  if (!isObject(value)) return
  if ('transaction' in value) checkTransaction(value.transaction, `${path}.transaction`, out)
  if (value.type === 'message' && isObject(value.data)) checkSignMessageData(value.data, `${path}.data`, out)
  if (isObject(value.links) && 'next' in value.links) checkNextLink(value.links.next, `${path}.links.next`, out)
}

// "Action Chaining": PostNextActionLink.href is a "Relative or same origin URL to which the POST
// request should be made"; InlineNextActionLink.action is a NextAction.
function checkNextLink (value, path, out) {
  if (!isObject(value)) return
  if (value.type === 'post') {
    checkEndpoint(value.href, `${path}.href`, out, 'spec "Action Chaining": a relative or same origin URL')
  } else if (value.type === 'inline') {
    checkAction(value.action, `${path}.action`, out)
  }
}

// "Message Signing", SignMessageData: address is a "base58 string of the Solana address", nonce
// "a random alpha-numeric string at least 8 characters", issuedAt an "ISO-8601 datetime string",
// chainId "Chain ID compatible with CAIPs" (CAIP-2: namespace:reference).
function checkSignMessageData (value, path, out) {
  if (!isObject(value)) return
  const rule = 'spec "Message Signing", SignMessageData'
  checkBase58(value.address, `${path}.address`, out, 32, 'Solana address', `${rule}: base58 Solana address`)
  if (typeof value.nonce === 'string' && !/^[A-Za-z0-9]{8,}$/.test(value.nonce)) {
    out.errors.push(`${path}.nonce: ${quote(value.nonce)} is not an alpha-numeric string of at least 8 characters (${rule})`)
  }
  if (typeof value.issuedAt === 'string') {
    const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/
    if (!iso.test(value.issuedAt) || Number.isNaN(Date.parse(value.issuedAt))) {
      out.errors.push(`${path}.issuedAt: ${quote(value.issuedAt)} is not an ISO-8601 datetime (${rule})`)
    }
  }
  if (typeof value.chainId === 'string' && !/^[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}$/.test(value.chainId)) {
    out.errors.push(`${path}.chainId: ${quote(value.chainId)} is not a CAIP-2 chain id (${rule})`)
  }
}

// "POST Request": "`account` - The value must be the base58-encoded public key of an account".
// "Message Signing": `signature` is "the signature created by the account singing the data (as a
// base58 encoded string)"; for NextActionPostRequest (a transaction id or a message signature)
// it is a base58 signature too. MessageNextActionPostRequest.data is relayed SignMessageData.
function checkPostRequest (value, path, out, name) {
  if (!isObject(value)) return
  checkBase58(value.account, `${path}.account`, out, 32, 'public key', 'spec "POST Request": account must be a base58-encoded public key')
  if ('signature' in value) {
    checkBase58(value.signature, `${path}.signature`, out, 64, 'signature', 'spec "Message Signing"/"Action Chaining": a base58-encoded signature')
  }
  if (name === 'MessageNextActionPostRequest' && isObject(value.data)) checkSignMessageData(value.data, `${path}.data`, out)
}

// "Rules": pathPattern and apiPath are relative (a path) or absolute URLs; "Rules - Path Matching":
// `?` is an unsupported pattern, and "If other operators are included, the `**` operator must be
// the last operator." `?` is looked for in pathPattern only (apiPath is a destination, not a pattern).
function checkRule (value, path, out) {
  if (!isObject(value)) return
  for (const key of ['pathPattern', 'apiPath']) {
    const s = value[key]
    if (typeof s !== 'string') continue
    checkEndpoint(s, `${path}.${key}`, out, 'spec "Rules": a relative path or an absolute URL')
    const twin = s.indexOf('**')
    if (twin >= 0 && s.slice(twin + 2).includes('*')) {
      out.errors.push(`${path}.${key}: ${quote(s)} has an operator after "**" (spec "Rules - Path Matching": ** must be the last operator)`)
    }
    if (key === 'pathPattern' && s.includes('?')) {
      out.errors.push(`${path}.${key}: ${quote(s)} uses "?" (spec "Rules - Path Matching": ? is an unsupported pattern)`)
    }
  }
}

function checkActionsJson (value, path, out) {
  if (isObject(value) && Array.isArray(value.rules)) {
    value.rules.forEach((r, i) => checkRule(r, `${path}.rules[${i}]`, out))
  }
}

/** Run-time checks by declared type name; other types have none. */
const RUNTIME = {
  Action: checkAction,
  ActionGetResponse: checkAction,
  CompletedAction: checkAction,
  NextAction: checkAction,
  LinkedAction: checkLinkedAction,
  ActionParameter: checkParameter,
  ActionParameterSelectable: checkParameter,
  TypedActionParameter: checkParameter,
  ActionResponse: checkPostResponse,
  ActionPostResponse: checkPostResponse,
  TransactionResponse: checkPostResponse,
  PostResponse: checkPostResponse,
  ExternalLinkResponse: checkPostResponse,
  SignMessageResponse: checkPostResponse,
  NextActionLink: checkNextLink,
  PostNextActionLink: checkNextLink,
  InlineNextActionLink: checkNextLink,
  SignMessageData: checkSignMessageData,
  ActionPostRequest: checkPostRequest,
  NextActionPostRequest: checkPostRequest,
  MessageNextActionPostRequest: checkPostRequest,
  ActionsJson: checkActionsJson,
  ActionRuleObject: checkRule
}

// ---------------------------------------------------------------------------------------------

async function check (dir) {
  const types = await specTypes()
  const fixtures = await loadManifest(dir, types)
  console.log(`actions: @solana/actions-spec ${await packageVersion(SPEC_PACKAGE)}, ` +
    `typescript ${await packageVersion(join(HERE, 'node_modules', 'typescript'))}, ${fixtures.length} fixture(s)`)
  const results = fixtures.map(() => ({ errors: [], notes: [] }))
  const typed = []
  for (const [i, f] of fixtures.entries()) {
    f.text = (await readFile(join(dir, f.file), 'utf8')).replace(/^\uFEFF/, '')
    let value
    try {
      value = JSON.parse(f.text)
    } catch (err) {
      results[i].errors.push(`${f.file}: not JSON: ${err.message}`)
      continue
    }
    RUNTIME[f.name]?.(value, '$', results[i], f.name)
    typed.push(i)
  }
  if (typed.length > 0) {
    const tmp = await mkdtemp(join(tmpdir(), 'careledger-actions-'))
    try {
      const diagnostics = await typeCheck(tmp, typed.map(i => fixtures[i]), [...types.keys()])
      typed.forEach((i, k) => results[i].errors.unshift(...diagnostics[k]))
    } finally {
      await rm(tmp, { recursive: true, force: true })
    }
  }
  let passed = 0
  let failed = 0
  for (const [i, f] of fixtures.entries()) {
    const { errors, notes } = results[i]
    if (errors.length === 0) passed++
    else failed++
    console.log(`${errors.length === 0 ? 'ok' : 'FAIL'} ${f.file} : ${f.type}`)
    for (const e of errors) console.log(`    ${e}`)
    for (const n of notes) console.log(`    note: ${n}`)
  }
  console.log(`actions: ${passed} passed, ${failed} failed`)
  return failed === 0 ? 0 : 1
}

// ---------------------------------------------------------------------------------------------
// --self-test

/** A serialized transaction: one signer, `keys` account keys, one instruction; v0 if asked. */
function sampleTransaction ({ v0 = false, keys = 2 } = {}) {
  const bytes = [1, ...new Array(64).fill(7)]
  if (v0) bytes.push(0x80)
  bytes.push(1, 0, 1, keys)
  for (let k = 0; k < keys; k++) bytes.push(...new Array(32).fill(k + 1))
  bytes.push(...new Array(32).fill(9)) // recent blockhash
  bytes.push(1, keys - 1, 1, 0, 3, 1, 2, 3) // program, [account 0], data [1, 2, 3]
  if (v0) bytes.push(0) // no lookup tables
  return Buffer.from(bytes).toString('base64')
}

function selfTestCases () {
  const key = base58Encode(new Uint8Array(32).fill(3))
  const signature = base58Encode(new Uint8Array(64).fill(5))
  const icon = 'https://careledger.example/actions/icon.png'
  const get = {
    type: 'action',
    icon,
    title: 'careledger',
    description: 'Grant a clinic read access to your lab results.',
    label: 'Grant access',
    disabled: false,
    links: {
      actions: [
        { type: 'message', href: '/api/actions/grant/sign', label: 'Sign in first' },
        {
          type: 'transaction',
          href: 'https://careledger.example/api/actions/grant/{days}?note={note}',
          label: 'Grant access',
          parameters: [
            { name: 'days', label: 'Days', type: 'number', required: true, min: 1, max: 365 },
            { name: 'classes', label: 'Record classes', type: 'checkbox', options: [{ label: 'Labs', value: 'labs', selected: true }, { label: 'Imaging', value: 'imaging' }] },
            { name: 'until', type: 'date', min: '2025-01-01' },
            { name: 'note', type: 'text', pattern: '^[a-z ]{0,40}$', patternDescription: 'lower-case letters, at most 40' }
          ]
        }
      ]
    },
    error: { message: 'the clinic has not registered yet' }
  }
  const signData = {
    domain: 'careledger.example',
    address: key,
    statement: 'Sign in to careledger',
    nonce: 'a1b2c3d4e5',
    issuedAt: '2025-06-01T12:00:00.000Z',
    chainId: 'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp'
  }
  const signResponse = { type: 'message', data: signData, state: 'mac-of-data', links: { next: { type: 'post', href: '/api/actions/grant/signed' } } }
  const txResponse = {
    type: 'transaction',
    transaction: sampleTransaction(),
    message: 'Grant for 30 days',
    links: { next: { type: 'inline', action: { type: 'completed', icon, title: 'careledger', description: 'Access granted.', label: 'Granted', disabled: true } } }
  }
  const good = [
    ['grant-get.json', 'ActionGetResponse', get],
    ['minimal-get.json', 'ActionGetResponse', { icon: 'https://careledger.example/icon', title: 't', description: 'd', label: 'Grant' }],
    ['grant-post.json', 'SignMessageResponse', signResponse],
    ['grant-post-union.json', 'ActionPostResponse', { ...signResponse, data: 'plain text to sign' }],
    ['tx.json', 'TransactionResponse', txResponse],
    ['tx-v0.json', 'ActionPostResponse', { type: 'transaction', transaction: sampleTransaction({ v0: true, keys: 3 }) }],
    ['post.json', 'PostResponse', { type: 'post', message: 'noted', links: { next: { type: 'post', href: 'https://careledger.example/api/next' } } }],
    ['external.json', 'ExternalLinkResponse', { type: 'external-link', externalLink: 'https://careledger.example/records' }],
    ['actions.json', 'ActionsJson', { rules: [{ pathPattern: '/grant/*', apiPath: '/api/actions/grant/*' }, { pathPattern: '/api/actions/**', apiPath: '/api/actions/**' }] }],
    ['completed.json', 'NextAction', txResponse.links.next.action],
    ['error.json', 'ActionError', { message: 'grant not found' }],
    ['post-request.json', 'ActionPostRequest<{ days: string; classes: string[] }>', { account: key, data: { days: '30', classes: ['labs'] } }],
    ['signed-request.json', 'MessageNextActionPostRequest', { account: key, signature, data: signData, state: 'mac-of-data' }],
    ['parameter.json', 'ActionParameter<"text">', { name: 'note', type: 'text', label: 'Note' }],
    ['protocol.json', 'SOLANA_ACTIONS_PROTOCOL', 'solana-action:']
  ]
  const withLinked = patch => ({ ...get, links: { actions: [{ ...get.links.actions[0], ...patch }] } })
  const withParameter = parameter => withLinked({ parameters: [parameter] })
  const withData = patch => ({ ...signResponse, data: { ...signData, ...patch } })
  const { label, ...noLabel } = get
  const { links, ...noLinks } = signResponse
  // [file, type, body, text that one of its failure lines must contain]
  const bad = [
    ['bad-extra-field.json', 'ActionGetResponse', { ...get, colour: 'blue' }, `'"colour"' does not exist in type 'ActionGetResponse'`],
    ['bad-nested-extra.json', 'ActionGetResponse', withLinked({ method: 'POST' }), `'"method"' does not exist in type 'LinkedAction'`],
    ['bad-type-literal.json', 'TransactionResponse', { ...txResponse, type: 'transactoin' }, 'Type \'"transactoin"\' is not assignable to type \'"transaction"\''],
    ['bad-type-union.json', 'ActionPostResponse', { type: 'transactoin', transaction: sampleTransaction() }, '"transactoin"'],
    ['bad-missing-label.json', 'ActionGetResponse', noLabel, "Property 'label' is missing"],
    ['bad-field-type.json', 'ActionGetResponse', { ...get, disabled: 'yes' }, "Type 'string' is not assignable to type 'boolean | undefined'"],
    ['bad-null.json', 'ActionGetResponse', { ...get, error: null }, "Type 'null' is not assignable"],
    ['bad-select-options.json', 'ActionGetResponse', withParameter({ name: 'c', type: 'select' }), "'options' is missing"],
    ['bad-date-min.json', 'ActionGetResponse', withParameter({ name: 'd', type: 'date', min: 3 }), "Type 'number' is not assignable to type 'string'"],
    ['bad-sign-no-links.json', 'SignMessageResponse', noLinks, "Property 'links' is missing"],
    ['bad-sign-inline.json', 'SignMessageResponse', { ...signResponse, links: txResponse.links }, 'Type \'"inline"\' is not assignable to type \'"post"\''],
    ['bad-base64.json', 'TransactionResponse', { ...txResponse, transaction: 'not base64!' }, '$.transaction: not valid base64'],
    ['bad-base64-url.json', 'TransactionResponse', { ...txResponse, transaction: sampleTransaction().replace(/=*$/, '') }, '$.transaction: not valid base64'],
    ['bad-not-transaction.json', 'TransactionResponse', { ...txResponse, transaction: Buffer.from('hello, world').toString('base64') }, 'not a serialized transaction'],
    ['bad-icon-relative.json', 'ActionGetResponse', { ...get, icon: '/icon.png' }, '$.icon: "/icon.png" is not an absolute http(s) URL'],
    ['bad-icon-data.json', 'ActionGetResponse', { ...get, icon: 'data:image/png;base64,iVBORw0KGgo=' }, 'is not an absolute http(s) URL'],
    ['bad-icon-jpeg.json', 'ActionGetResponse', { ...get, icon: 'https://careledger.example/icon.jpg' }, '$.icon: names a ".jpg" file'],
    ['bad-inline-icon.json', 'TransactionResponse', { ...txResponse, links: { next: { type: 'inline', action: { ...txResponse.links.next.action, icon: 'ftp://careledger.example/i.png' } } } }, '$.links.next.action.icon'],
    ['bad-href-relative.json', 'ActionGetResponse', withLinked({ href: 'api/actions/grant' }), '$.links.actions[0].href: "api/actions/grant" is neither'],
    ['bad-href-other-host.json', 'ActionGetResponse', withLinked({ href: '//evil.example/api' }), '$.links.actions[0].href'],
    ['bad-href-scheme.json', 'ActionGetResponse', withLinked({ href: 'javascript:alert(1)' }), '$.links.actions[0].href'],
    ['bad-next-href.json', 'SignMessageResponse', { ...signResponse, links: { next: { type: 'post', href: 'ftp://careledger.example/signed' } } }, '$.links.next.href'],
    ['bad-pattern.json', 'ActionGetResponse', withParameter({ name: 'n', pattern: '^[a-z' }), 'patternDescription'],
    ['bad-nonce.json', 'SignMessageResponse', withData({ nonce: 'abc' }), '$.data.nonce'],
    ['bad-issued-at.json', 'SignMessageResponse', withData({ issuedAt: 'yesterday' }), '$.data.issuedAt'],
    ['bad-address.json', 'SignMessageResponse', withData({ address: '0xdeadbeef' }), '$.data.address: "0xdeadbeef" is not base58'],
    ['bad-account.json', 'MessageNextActionPostRequest', { account: base58Encode(new Uint8Array(31).fill(3)), signature, data: 'x' }, '$.account: base58 decodes to 31 bytes'],
    ['bad-signature.json', 'MessageNextActionPostRequest', { account: key, data: 'x' }, "Property 'signature' is missing"],
    ['bad-rule-wildcard.json', 'ActionsJson', { rules: [{ pathPattern: '/a/**/b/*', apiPath: '/api/a?x' }] }, 'must be the last operator'],
    ['bad-rule-question.json', 'ActionsJson', { rules: [{ pathPattern: '/a/?', apiPath: '/api/a' }] }, '? is an unsupported pattern'],
    ['bad-not-json.json', 'ActionGetResponse', new RawText('{"icon": "https://careledger.example/i.png",\n'), 'not JSON']
  ]
  return { good, bad }
}

/** A fixture body written as this text, not as JSON of a value. */
class RawText {
  constructor (text) { this.text = text }
}

async function writeFixtures (dir, cases) {
  await mkdir(dir, { recursive: true })
  for (const [file, , body] of cases) {
    await writeFile(join(dir, file), body instanceof RawText ? body.text : `${JSON.stringify(body, null, 2)}\n`)
  }
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(cases.map(([file, type]) => ({ file, type })), null, 2))
}

function runChecker (dir) {
  const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), dir], { encoding: 'utf8' })
  if (run.error) throw run.error
  return run
}

/** Output lines grouped by fixture: "ok"/"FAIL" line -> the indented lines after it. */
function resultBlocks (stdout) {
  const blocks = new Map()
  let current = null
  for (const line of stdout.split('\n')) {
    const m = /^(ok|FAIL) (\S+) : /.exec(line)
    if (m) {
      current = { status: m[1], lines: [] }
      blocks.set(m[2], current)
    } else if (line.startsWith('    ') && current) {
      current.lines.push(line.trim())
    } else {
      current = null
    }
  }
  return blocks
}

async function selfTest () {
  const root = await mkdtemp(join(tmpdir(), 'careledger-actions-selftest-'))
  let passed = 0
  let failed = 0
  const expect = (ok, what, detail = '') => {
    if (ok) passed++
    else failed++
    console.log(`${ok ? 'ok' : 'FAIL'} self-test: ${what}${ok || detail === '' ? '' : `\n${detail}`}`)
  }
  try {
    const { good, bad } = selfTestCases()

    await writeFixtures(join(root, 'good'), good)
    const g = runChecker(join(root, 'good'))
    const gBlocks = resultBlocks(g.stdout)
    console.log(g.stdout.trimEnd().replace(/^/gm, '  | '))
    expect(g.status === 0, `the good fixtures exit 0 (got ${g.status})`, g.stderr)
    for (const [file, type] of good) {
      const block = gBlocks.get(file)
      expect(block?.status === 'ok' && block.lines.every(l => l.startsWith('note:')),
        `good ${file} : ${type} is accepted`, block?.lines.join('\n') ?? 'no result line')
    }

    await writeFixtures(join(root, 'bad'), bad)
    const b = runChecker(join(root, 'bad'))
    const bBlocks = resultBlocks(b.stdout)
    console.log(b.stdout.trimEnd().replace(/^/gm, '  | '))
    expect(b.status === 1, `the bad fixtures exit 1 (got ${b.status})`, b.stderr)
    for (const [file, type, , message] of bad) {
      const block = bBlocks.get(file)
      expect(block?.status === 'FAIL' && block.lines.some(l => l.includes(message)),
        `bad ${file} : ${type} is rejected with ${JSON.stringify(message)}`, block?.lines.join('\n') ?? 'no result line')
    }
    // Diagnostics point into the fixture file: the line of "colour" in bad-extra-field.json.
    const extraLine = (await readFile(join(root, 'bad', 'bad-extra-field.json'), 'utf8'))
      .split('\n').findIndex(l => l.includes('"colour"')) + 1
    expect(bBlocks.get('bad-extra-field.json')?.lines.some(l => l.startsWith(`bad-extra-field.json:${extraLine}:3: TS2353`)),
      `a type error is located at bad-extra-field.json:${extraLine}:3`)

    // Manifests the checker must refuse (exit 2) before checking anything.
    const refusals = [
      ['no manifest', null, 'manifest.json'],
      ['an empty manifest', [], 'must be a non-empty list'],
      ['an unknown type', [{ file: 'f.json', type: 'ActionGetRespons' }], '"ActionGetRespons" is not a type exported by @solana/actions-spec'],
      ['a missing file', [{ file: 'absent.json', type: 'ActionGetResponse' }], 'absent.json is missing'],
      ['a generic type without arguments', [{ file: 'f.json', type: 'ActionParameter' }], 'ActionParameter needs 1 type argument'],
      ['type arguments on a plain type', [{ file: 'f.json', type: 'ActionError<string>' }], 'ActionError takes no type arguments'],
      ['an unknown manifest key', [{ file: 'f.json', typ: 'ActionError' }], 'unknown key(s) typ'],
      ['a type that is not a name', [{ file: 'f.json', type: 'ActionError; process.exit()' }], 'is not a type name']
    ]
    for (const [i, [what, manifest, message]] of refusals.entries()) {
      const dir = join(root, `refuse-${i}`)
      await mkdir(dir)
      await writeFile(join(dir, 'f.json'), '{"message": "x"}\n')
      if (manifest !== null) await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest))
      const r = runChecker(dir)
      expect(r.status === 2 && r.stderr.includes(message),
        `${what} is refused (exit ${r.status}): ${r.stderr.trim()}`, `expected exit 2 and ${JSON.stringify(message)}`)
    }
  } finally {
    await rm(root, { recursive: true, force: true })
  }
  console.log(`actions self-test: ${passed} passed, ${failed} failed`)
  return failed === 0 ? 0 : 1
}

async function main () {
  const args = process.argv.slice(2)
  if (args.length === 1 && args[0] === '--self-test') return selfTest()
  if (args.length !== 1 || args[0].startsWith('-')) {
    throw new UsageError('usage: node check.mjs FIXTURE_DIR | node check.mjs --self-test')
  }
  return check(args[0])
}

main().then(
  code => { process.exitCode = code },
  err => {
    console.error(err instanceof UsageError ? err.message : err)
    process.exitCode = err instanceof UsageError ? 2 : 1
  }
)
