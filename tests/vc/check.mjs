// Checks careledger's provider credentials against Digital Bazaar's verifiable credential
// libraries (@digitalbazaar/vc, data-integrity, eddsa-jcs-2022-cryptosuite).
//
//   node check.mjs FIXTURE_DIR
//
// FIXTURE_DIR holds what `cargo test -p careledger-sdk --lib vc` writes (`write_vc_fixture`):
//   credential.json     a ProviderCredential (VC Data Model 2.0) with an eddsa-jcs-2022 proof
//   did-authority.json  its issuer's did:sol DID document
//   tampered.json       the same credential with its roles changed after signing
//   credential-ref.hex  careledger's credential_ref: SHA-256 of the credential's JCS form
// credential.json must verify, with the issuer's key resolved from did-authority.json alone;
// tampered.json must be refused for its signature; and SHA-256 of the JCS (RFC 8785) form of
// credential.json must be credential-ref.hex. The document loader serves only the fixture's
// DID document, the bundled JSON-LD contexts and careledger's own (docs/contexts/), so nothing
// is fetched from the network.
// Credentials are checked as of their proof's `created` time, so that the fixed fixture stays
// within its validity period. Exit 0 when all hold, 1 when one does not, 2 on bad usage or a
// missing fixture.
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { contexts as credentialsContexts } from '@digitalbazaar/credentials-context'
import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
import { createVerifyCryptosuite } from '@digitalbazaar/eddsa-jcs-2022-cryptosuite'
import multikeyContext from '@digitalbazaar/multikey-context'
import * as vc from '@digitalbazaar/vc'
import canonicalize from 'canonicalize'
import jsonld from 'jsonld'
import didContext from 'did-context'

class UsageError extends Error {}

const CARELEDGER_CONTEXT = 'urn:careledger:context:v1'
const careledgerContext = JSON.parse(await readFile(
  new URL('../../docs/contexts/careledger-v1.jsonld', import.meta.url), 'utf8'))

async function readJson (dir, name) {
  let text
  try {
    text = await readFile(join(dir, name), 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read ${join(dir, name)}: ${err.message}`)
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new UsageError(`${name} is not JSON: ${err.message}`)
  }
}

/**
 * A JSON-LD document loader that knows the VC, DID and Multikey contexts and one DID document,
 * and refuses every other URL. A DID URL with a fragment resolves to the verification method of
 * that id in the document, with the document's contexts.
 */
function offlineLoader (didDocument) {
  const documents = new Map([
    ...credentialsContexts,
    ...didContext.contexts,
    ...multikeyContext.contexts
  ])
  // careledger's own context, from the copy the repository publishes (docs/contexts/)
  documents.set(CARELEDGER_CONTEXT, careledgerContext)
  documents.set(didDocument.id, didDocument)
  for (const method of didDocument.verificationMethod ?? []) {
    documents.set(method.id, { '@context': didDocument['@context'], ...method })
  }
  return async (url) => {
    const document = documents.get(url)
    if (document === undefined) {
      throw new Error(`the offline document loader has no document for ${url}`)
    }
    return { contextUrl: null, documentUrl: url, document: structuredClone(document) }
  }
}

/** Every message in a verification result's errors, nested ones included. */
function messages (error) {
  if (error === undefined || error === null) return []
  const nested = Array.isArray(error.errors) ? error.errors.flatMap(messages) : []
  return [error.message, ...nested].filter(m => typeof m === 'string' && m !== '')
}

async function verify (credential, documentLoader) {
  const suite = new DataIntegrityProof({ cryptosuite: createVerifyCryptosuite() })
  const result = await vc.verifyCredential({
    credential,
    suite,
    documentLoader,
    now: new Date(credential?.proof?.created)
  })
  const errors = [
    ...messages(result.error),
    ...(result.results ?? []).flatMap(r => messages(r.error))
  ]
  return { verified: result.verified === true, errors: [...new Set(errors)], result }
}

async function main () {
  const dir = process.argv[2]
  if (process.argv.length !== 3 || dir === undefined) {
    throw new UsageError('usage: node check.mjs FIXTURE_DIR')
  }
  const credential = await readJson(dir, 'credential.json')
  const tampered = await readJson(dir, 'tampered.json')
  const didDocument = await readJson(dir, 'did-authority.json')
  let expectedRef
  try {
    expectedRef = (await readFile(join(dir, 'credential-ref.hex'), 'utf8')).trim()
  } catch (err) {
    throw new UsageError(`cannot read ${join(dir, 'credential-ref.hex')}: ${err.message}`)
  }
  if (typeof didDocument?.id !== 'string' || !Array.isArray(didDocument.verificationMethod)) {
    throw new UsageError('did-authority.json must be a DID document with an id and verificationMethod')
  }
  const documentLoader = offlineLoader(didDocument)

  let passed = 0
  let failed = 0
  const report = (ok, line) => {
    if (ok) passed++
    else failed++
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${line}`)
  }

  if (credential.issuer !== didDocument.id) {
    report(false, `credential.json: issuer ${credential.issuer} is not the DID document's ${didDocument.id}`)
  } else {
    const { verified, errors, result } = await verify(credential, documentLoader)
    if (verified) {
      const method = result.results?.[0]?.verificationMethod
      report(true, `credential.json verifies as of ${credential.proof.created}: ${credential.proof.cryptosuite} ` +
        `by ${method?.id} (${method?.type} ${method?.publicKeyMultibase}), ` +
        `subject ${credential.credentialSubject?.id}, roles ${credential.credentialSubject?.roles?.join(', ')}, ` +
        `valid ${credential.validFrom} to ${credential.validUntil}`)
    } else {
      report(false, `credential.json does not verify: ${errors.join('; ') || 'no reason given'}`)
    }
  }

  {
    const { verified, errors } = await verify(tampered, documentLoader)
    if (verified) {
      report(false, `tampered.json (roles ${tampered.credentialSubject?.roles?.join(', ')}) verifies, but its roles were changed after signing`)
    } else if (!errors.some(e => /signature/i.test(e))) {
      report(false, `tampered.json is refused, but not for its signature: ${errors.join('; ')}`)
    } else {
      report(true, `tampered.json (roles ${tampered.credentialSubject?.roles?.join(', ')}) is refused: ${errors.join('; ')}`)
    }
  }

  // JSON-LD processing keeps every claim: expanded in safe mode (which refuses a term that would
  // be dropped), the type and the roles come out under careledger's IRIs. A credential with the
  // VC 2.0 context alone (how careledger issued them before) is refused: its roles would vanish.
  {
    const vocab = 'urn:careledger:vocab:'
    try {
      const [expanded] = await jsonld.expand(structuredClone(credential), { documentLoader, safe: true })
      const types = expanded['@type'] ?? []
      const subject = expanded['https://www.w3.org/2018/credentials#credentialSubject']?.[0] ?? {}
      const roles = (subject[`${vocab}roles`] ?? []).map(r => r['@value'])
      const want = credential.credentialSubject.roles
      const ok = types.includes(`${vocab}ProviderCredential`) &&
        JSON.stringify([...roles].sort()) === JSON.stringify([...want].sort())
      report(ok, ok
        ? `JSON-LD expansion (safe mode) keeps the type ${vocab}ProviderCredential and the roles ${roles.join(', ')}`
        : `JSON-LD expansion lost a claim: types ${JSON.stringify(types)}, roles ${JSON.stringify(roles)} (want ${JSON.stringify(want)})`)
    } catch (err) {
      report(false, `credential.json does not expand as JSON-LD in safe mode: ${err.message}`)
    }
    const bare = structuredClone(credential)
    bare['@context'] = [bare['@context'][0]]
    try {
      await jsonld.expand(bare, { documentLoader, safe: true })
      report(false, 'a credential with the VC 2.0 context alone expands in safe mode: the check cannot tell a dropped claim')
    } catch (err) {
      report(true, `with the VC 2.0 context alone the roles claim would be dropped: refused in safe mode (${err.message})`)
    }
  }

  const ref = createHash('sha256').update(canonicalize(credential), 'utf8').digest('hex')
  report(ref === expectedRef, ref === expectedRef
    ? `credential_ref ${ref} is SHA-256 of the credential's JCS form`
    : `SHA-256 of the credential's JCS form is ${ref}, careledger gave ${expectedRef}`)

  console.log(`vc: ${passed} passed, ${failed} failed`)
  return failed === 0 ? 0 : 1
}

main().then(
  code => { process.exitCode = code },
  err => {
    console.error(err instanceof UsageError ? err.message : err)
    process.exitCode = err instanceof UsageError ? 2 : 1
  }
)
