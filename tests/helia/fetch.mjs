// Helia, the IPFS project's JavaScript implementation, fetches a record's ciphertext by CID
// from careledger's trustless gateway (`careledger serve`, /ipfs/{cid}) with its own
// trustless-gateway block broker, which checks every block against its CID. Then the same
// fetch through a gateway that lies (one byte of every leaf flipped) must fail.
//
//   node tests/helia/fetch.mjs GATEWAY_URL CID SHA256_HEX
//
// Exits non-zero if the bytes' SHA-256 is not the anchored one, or if the lie is accepted.
// Everything stays in memory (Helia's default blockstore); the lying proxy is closed at the end.
import { createHash } from 'node:crypto'
import http from 'node:http'

// Helia 7 calls Promise.withResolvers (Node 22); this machine and CI run Node 20. The standard
// method, written out, before Helia is loaded:
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function () {
    let resolve, reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
const { createHeliaLight } = await import('helia')
const { trustlessGatewayBlockBroker } = await import('@helia/trustless-gateway-client')
const { fallbackRouter } = await import('@helia/fallback-router')
const { unixfs } = await import('@helia/unixfs')
const { CID } = await import('multiformats/cid')

const [gateway, cidText, sha256] = process.argv.slice(2)
if (!gateway || !cidText || !/^[0-9a-f]{64}$/.test(sha256 ?? '')) {
  console.error('usage: node fetch.mjs GATEWAY_URL CID SHA256_HEX')
  process.exit(2)
}
const cid = CID.parse(cidText)

const noNetwork = { name: 'no-network', async * findProviders () {} }

async function cat (from) {
  const helia = await createHeliaLight({
    blockBrokers: [trustlessGatewayBlockBroker({ allowInsecure: true, allowLocal: true })],
    // the gateway as the only provider; Helia 7 asks fallback routers only after its default
    // ones have finished, and an empty list of default routers never finishes: one that knows
    // no provider stands in for the network
    routers: [noNetwork, fallbackRouter({ gateways: [from], shuffle: false })]
  })
  await helia.start()
  try {
    const hash = createHash('sha256')
    let bytes = 0
    for await (const chunk of unixfs(helia).cat(cid, { signal: AbortSignal.timeout(60_000) })) {
      hash.update(chunk)
      bytes += chunk.length
    }
    return { bytes, sha256: hash.digest('hex') }
  } finally {
    await helia.stop()
  }
}

const got = await cat(gateway)
if (got.sha256 !== sha256) {
  console.error(`helia: ${cidText} gave ${got.bytes} bytes with SHA-256 ${got.sha256}, not the anchored ${sha256}`)
  process.exit(1)
}
console.log(`helia: ${cidText} fetched from ${gateway} and verified block by block: ${got.bytes} bytes, SHA-256 as anchored`)

// a gateway that lies: forwards each request and flips the last byte of every leaf (honest
// about a dag-pb root, so that the lie is found in the leaves; a one-block file's root is its
// only leaf)
let flipped = 0
let proxyErrors = 0
const liar = http.createServer(async (req, res) => {
  try {
    const upstream = await fetch(new URL(req.url, gateway), { headers: { accept: req.headers.accept ?? '' } })
    const body = Buffer.from(await upstream.arrayBuffer())
    const root = new URL(req.url, gateway).pathname.endsWith(`/ipfs/${cidText}`)
    const leaf = !root || cid.code !== 0x70
    if (leaf && upstream.ok && body.length > 0 && (upstream.headers.get('content-type') ?? '').startsWith('application/vnd.ipld.raw')) {
      body[body.length - 1] ^= 1
      flipped++
    }
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream' })
    res.end(body)
  } catch (e) {
    proxyErrors++
    res.writeHead(502)
    res.end(String(e))
  }
})
await new Promise(resolve => liar.listen(0, '127.0.0.1', resolve))
const liarUrl = `http://127.0.0.1:${liar.address().port}`
let lied
let refusal
try {
  lied = await cat(liarUrl)
} catch (e) {
  lied = null
  refusal = e
} finally {
  liar.close()
  liar.closeAllConnections?.()
}
if (lied !== null) {
  console.error(`helia accepted ${lied.bytes} bytes from a gateway that flips bytes`)
  process.exit(1)
}
// the refusal must come from the flipped bytes: the proxy sent some, failed on none, and Helia
// did not merely time out
if (flipped === 0 || proxyErrors > 0 || /timeout|abort/i.test(refusal?.name ?? '')) {
  console.error(`helia's refusal proves nothing: ${flipped} blocks flipped, ${proxyErrors} proxy errors, ${refusal?.name}: ${refusal?.message}`)
  process.exit(1)
}
console.log(`helia: the lying gateway was refused after ${flipped} flipped block(s) (${refusal.name}: ${String(refusal.message).split('\n')[0].slice(0, 120)})`)
