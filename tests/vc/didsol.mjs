// Compares careledger's did:sol documents with the generative document of the did:sol method's
// own client (@identity.com/sol-did-client 3.3.0, DidSolDocument.sparse: offline) and checks
// that they differ exactly as docs/GUIDE.md and sdk/src/did.rs say, and nowhere else:
//   - the one method `#default` holds the same key, as Multikey (publicKeyMultibase) in ours and
//     Ed25519VerificationKey2018 (publicKeyBase58) in the client's;
//   - ours lists it under authentication and assertionMethod as well as capabilityInvocation;
//   - the contexts are the W3C DID v1 and Multikey contexts in ours, w3id.org's DID and sol
//     contexts in the client's.
//
//   node didsol.mjs FIXTURE_DIR     (did-authority.json, written by the sdk's vc tests)
//
// Exit 0 when the documents differ exactly so, 1 otherwise, 2 on bad usage.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { DidSolDocument, DidSolIdentifier } = require('@identity.com/sol-did-client')
const { PublicKey } = require('@solana/web3.js')
const bs58 = require('bs58').default ?? require('bs58')

async function main () {
  const dir = process.argv[2]
  if (process.argv.length !== 3) {
    console.error('usage: node didsol.mjs FIXTURE_DIR')
    return 2
  }
  const ours = JSON.parse(await readFile(join(dir, 'did-authority.json'), 'utf8'))
  const address = ours.id.split(':').pop()
  const theirs = JSON.parse(JSON.stringify(DidSolDocument.sparse(
    DidSolIdentifier.create(new PublicKey(address), 'mainnet-beta'))))
  let failed = 0
  const check = (ok, line) => {
    if (!ok) failed++
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${line}`)
  }
  const method = `${ours.id}#default`
  check(theirs.id === ours.id, `the same DID: ${ours.id}`)
  const a = ours.verificationMethod.find(m => m.id === method)
  const b = theirs.verificationMethod.find(m => m.id === method)
  check(a !== undefined && b !== undefined, `both documents have ${method}`)
  // Multikey ed25519: z + base58btc(0xed 0x01 || key)
  const multikey = a ? bs58.decode(a.publicKeyMultibase.slice(1)) : new Uint8Array()
  const sameKey = a?.type === 'Multikey' && b?.type === 'Ed25519VerificationKey2018' &&
    multikey[0] === 0xed && multikey[1] === 0x01 &&
    bs58.encode(multikey.slice(2)) === b.publicKeyBase58 && b.publicKeyBase58 === address
  check(sameKey, `the same Ed25519 key: ours ${a?.type} ${a?.publicKeyMultibase}, theirs ${b?.type} ${b?.publicKeyBase58}`)
  check(a?.controller === ours.id && b?.controller === theirs.id, 'each method is controlled by the DID itself')
  const list = (doc, rel) => JSON.stringify(doc[rel] ?? [])
  check(list(theirs, 'capabilityInvocation') === JSON.stringify([method]) &&
    list(ours, 'capabilityInvocation') === JSON.stringify([method]), 'capabilityInvocation is [#default] in both')
  check(list(theirs, 'assertionMethod') === '[]' && list(ours, 'assertionMethod') === JSON.stringify([method]),
    'assertionMethod: [#default] in ours (a credential verifier needs it), empty in theirs')
  check(list(theirs, 'authentication') === '[]' && list(ours, 'authentication') === JSON.stringify([method]),
    'authentication: [#default] in ours, empty in theirs')
  check(JSON.stringify(theirs['@context']) === JSON.stringify(['https://w3id.org/did/v1.0', 'https://w3id.org/sol/v2.0']) &&
    JSON.stringify(ours['@context']) === JSON.stringify(['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1']),
    `contexts: ours ${JSON.stringify(ours['@context'])}, theirs ${JSON.stringify(theirs['@context'])}`)
  // nothing else: the client's other members are empty, and ours has no other member
  const theirsExtra = Object.entries(theirs)
    .filter(([k, v]) => !['@context', 'id', 'verificationMethod', 'capabilityInvocation', 'controller'].includes(k) &&
      !(Array.isArray(v) && v.length === 0))
  check(theirsExtra.length === 0, `the client's document holds nothing else (${JSON.stringify(theirsExtra)})`)
  const oursExtra = Object.keys(ours).filter(k => !['@context', 'id', 'verificationMethod', 'authentication',
    'assertionMethod', 'capabilityInvocation', 'keyAgreement', 'controller'].includes(k))
  check(oursExtra.length === 0, `ours holds nothing else (${JSON.stringify(oursExtra)})`)
  console.log(`did:sol: ${failed === 0 ? 'the documents differ exactly as documented' : `${failed} checks failed`}`)
  return failed === 0 ? 0 : 1
}

main().then(code => { process.exitCode = code }, err => { console.error(err); process.exitCode = 1 })
