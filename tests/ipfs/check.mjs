// Checks careledger's UnixFS CIDs and CAR files against the IPFS JavaScript importer.
//
//   node check.mjs FIXTURE_DIR
//
// FIXTURE_DIR/fixtures.json is a list of
//   { "file": "name", "profile": "unixfs-v1-2025" | "unixfs-v0-2015", "cid": "<ours>", "car": "name.car" }
// ("car" optional; paths relative to FIXTURE_DIR). For each fixture the file is imported with
// ipfs-unixfs-importer under the profile and its root CID must equal ours; a CAR is read with
// @ipld/car and must have exactly our CID as root, blocks that hash to their CIDs, and the same
// set of blocks as the importer wrote. Exit 0 when all match, 1 on any mismatch, 2 on bad usage
// or a missing fixture.
import { createReadStream } from 'node:fs'
import { access, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CarReader } from '@ipld/car'
import { importer } from 'ipfs-unixfs-importer'
import { equals } from 'multiformats/bytes'
import { sha256 } from 'multiformats/hashes/sha2'

const PROFILES = ['unixfs-v1-2025', 'unixfs-v0-2015']

class UsageError extends Error {}

async function loadFixtures (dir) {
  let text
  try {
    text = await readFile(join(dir, 'fixtures.json'), 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read ${join(dir, 'fixtures.json')}: ${err.message}`)
  }
  let fixtures
  try {
    fixtures = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`fixtures.json is not JSON: ${err.message}`)
  }
  if (!Array.isArray(fixtures) || fixtures.length === 0) {
    throw new UsageError('fixtures.json must be a non-empty list')
  }
  for (const [i, f] of fixtures.entries()) {
    if (typeof f?.file !== 'string' || typeof f.cid !== 'string' || !PROFILES.includes(f.profile) ||
        (f.car !== undefined && typeof f.car !== 'string')) {
      throw new UsageError(`fixture ${i}: needs "file", "cid", "profile" (${PROFILES.join(' or ')}) and an optional "car"`)
    }
    for (const name of [f.file, f.car].filter(n => n !== undefined)) {
      try {
        await access(join(dir, name))
      } catch {
        throw new UsageError(`fixture ${i}: ${join(dir, name)} is missing`)
      }
    }
  }
  return fixtures
}

/**
 * Imports a file as `ipfs add` would under the profile; returns its root CID and the CIDs of
 * the blocks it wrote. The importer only calls `put`: recording the CIDs it is given keeps
 * them as made (a real blockstore keys by multihash and gives back raw-codec CIDs), and no
 * block is held in memory.
 */
async function importFile (path, profile) {
  const cids = new Set()
  const recorder = {
    put: async (cid) => {
      cids.add(cid.toString())
      return cid
    }
  }
  let root
  for await (const entry of importer([{ content: createReadStream(path) }], recorder, { profile })) {
    root = entry.cid
  }
  return { root, cids }
}

/** Problems with a CAR: its roots, block hashes, and blocks compared to the importer's. */
async function checkCar (path, expectedRoot, importedCids) {
  const problems = []
  const reader = await CarReader.fromIterable(createReadStream(path))
  const roots = (await reader.getRoots()).map(String)
  if (roots.length !== 1 || roots[0] !== expectedRoot) {
    problems.push(`CAR roots [${roots.join(', ')}], expected [${expectedRoot}]`)
  }
  const carCids = new Set()
  let blocks = 0
  for await (const { cid, bytes } of reader.blocks()) {
    blocks++
    carCids.add(cid.toString())
    const digest = await sha256.digest(bytes)
    if (cid.multihash.code !== sha256.code || !equals(cid.multihash.bytes, digest.bytes)) {
      problems.push(`block ${cid} does not hash to its CID`)
    }
  }
  const missing = [...importedCids].filter(c => !carCids.has(c))
  const extra = [...carCids].filter(c => !importedCids.has(c))
  if (missing.length > 0) problems.push(`CAR lacks ${missing.length} importer block(s), e.g. ${missing[0]}`)
  if (extra.length > 0) problems.push(`CAR has ${extra.length} block(s) the importer did not make, e.g. ${extra[0]}`)
  return { problems, blocks, unique: carCids.size }
}

async function checkFixture (dir, fixture) {
  const { root, cids } = await importFile(join(dir, fixture.file), fixture.profile)
  const problems = []
  let detail = `${cids.size} block(s)`
  if (String(root) !== fixture.cid) {
    problems.push(`importer gives ${root}, careledger gave ${fixture.cid}`)
  }
  if (fixture.car !== undefined) {
    const car = await checkCar(join(dir, fixture.car), fixture.cid, cids)
    problems.push(...car.problems)
    detail += `, CAR ${fixture.car}: ${car.blocks} block(s), ${car.unique} unique`
  }
  return { problems, detail }
}

async function main () {
  const dir = process.argv[2]
  if (process.argv.length !== 3 || dir === undefined) {
    throw new UsageError('usage: node check.mjs FIXTURE_DIR')
  }
  const fixtures = await loadFixtures(dir)
  let passed = 0
  let failed = 0
  for (const fixture of fixtures) {
    const label = `${fixture.file} (${fixture.profile})`
    let result
    try {
      result = await checkFixture(dir, fixture)
    } catch (err) {
      result = { problems: [`error: ${err.message}`], detail: '' }
    }
    if (result.problems.length === 0) {
      passed++
      console.log(`ok   ${label} ${fixture.cid}: ${result.detail}`)
    } else {
      failed++
      console.log(`FAIL ${label}: ${result.problems.join('; ')}`)
    }
  }
  console.log(`ipfs: ${passed} passed, ${failed} failed`)
  return failed === 0 ? 0 : 1
}

main().then(
  code => { process.exitCode = code },
  err => {
    console.error(err instanceof UsageError ? err.message : err)
    process.exitCode = err instanceof UsageError ? 2 : 1
  }
)
