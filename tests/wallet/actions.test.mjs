// Every decision of docs/ACTIONS.md, taken by a @solana/kit wallet from `careledger serve` over a
// careledger localnet (`node --test tests/wallet/actions.test.mjs`; CARELEDGER_BIN names the CLI,
// target/debug/careledger by default). The other parties act through the CLI.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  getBase58Decoder,
  getCompiledTransactionMessageDecoder,
  getCompiledTransactionMessageEncoder,
  getBase58Encoder,
  getUtf8Encoder,
  signBytes,
} from '@solana/kit';
import anchor from '@anchor-lang/core';
import { Harness } from './harness.mjs';
import { errorCode, idl, pda, purposeId, Wallet } from './wallet.mjs';

const h = new Harness();
const events = new anchor.BorshEventCoder(idl);
let clinic;

before(async () => {
  await h.startLocalnet();
  for (const who of ['admin', 'custodian', 'clinic', 'er', 'lab', 'lab2', 'sponsor', 'p1', 'p2', 'p3', 'p4']) {
    h.run(['airdrop', h.address(who), '--sol', '100']);
  }
  h.as('admin', 'config', 'init');
  const licence = h.file('licence.pdf', 'licence');
  for (const [who, roles] of [['clinic', 'clinician,emergency'], ['er', 'clinician,emergency'], ['lab', 'lab'], ['lab2', 'lab'], ['sponsor', 'researcher']]) {
    h.as(who, 'provider', 'register', '--roles', roles, '--credential-file', licence);
    h.as('admin', 'authority', 'verify', h.address(who), '--roles', roles);
  }
  const record = h.file('lab.enc', 'ciphertext');
  for (const p of ['p1', 'p2', 'p3', 'p4']) {
    h.as(p, 'patient', 'register');
    h.as(p, 'patient', 'anchor', record, '--class', 'lab-result');
  }
  clinic = h.address('clinic');
  await h.startServe();
});

after(() => h.stop());

const wallet = (who) => Wallet.fromFile(h.key(who), h.rpcUrl, h.wsUrl);
const url = (href) => (href.startsWith('http') ? href : `${h.actions}${href}`);
const grantLink = (grantee) => `/api/actions/grant?grantee=${grantee}&classes=lab-result,imaging&purpose=treatment&days=30`;
const sha256 = (text) => [...createHash('sha256').update(text).digest()];

/** The careledger events of a confirmed transaction, from its inner instructions (emit_cpi!). */
async function eventsOf(w, signature) {
  const tx = await w.rpc.getTransaction(signature, { encoding: 'json', commitment: 'confirmed', maxSupportedTransactionVersion: 0 }).send();
  const keys = tx.transaction.message.accountKeys;
  const out = [];
  for (const group of tx.meta.innerInstructions ?? []) {
    for (const ix of group.instructions) {
      if (keys[ix.programIdIndex] !== idl.address) continue;
      const bytes = getBase58Encoder().encode(ix.data);
      const decoded = events.decode(Buffer.from(bytes.slice(8)).toString('base64'));
      if (decoded) out.push(decoded);
    }
  }
  return out;
}

/** Follows a grant link as a wallet: statement, signature (off-chain message `version`), transaction. */
async function grantByLink(w, link, version) {
  const meta = await w.get(url(link));
  const step = meta.links.actions[0];
  assert.equal(step.type, 'message');
  const message = await w.postOk(url(step.href), { account: w.address });
  assert.equal(message.type, 'message');
  const statement = message.data;
  const { signature } = await w.signStatement(statement, version);
  const next = await w.postOk(url(message.links.next.href), { account: w.address, signature, data: statement });
  assert.equal(next.type, 'action');
  const record = next.links.actions[0];
  assert.equal(record.type, 'transaction');
  const tx = await w.postOk(url(record.href), { account: w.address });
  assert.equal(tx.links.next.action.type, 'completed');
  return { statement, tx };
}

async function signedGrant(w, link, version) {
  const { statement, tx } = await grantByLink(w, link, version);
  const signature = await w.signAndSend(w.decodeTransaction(tx.transaction));
  return { statement, signature };
}

for (const [version, who] of [[1, 'p1'], [0, 'p2']]) {
  test(`grant: the link's two steps, the statement signed as an off-chain message v${version}`, async () => {
    const w = await wallet(who);
    const { statement, signature } = await signedGrant(w, grantLink(clinic), version);
    const grant = await w.account('ConsentGrant', await pda.grant(w.address, clinic, purposeId('Treatment')));
    assert.equal(grant.grantee.toBase58(), clinic);
    assert.equal(grant.classes, 0b11, 'lab-result and imaging');
    assert.ok('Treatment' in grant.purpose);
    assert.ok('Active' in grant.status);
    assert.deepEqual([...grant.statement_hash], sha256(statement), 'the grant keeps the hash of the words signed');
    const signed = (await eventsOf(w, signature)).find((e) => e.name === 'ConsentStatementSigned');
    assert.ok(signed, 'the statement event, read from the inner instructions');
    assert.ok(`OffchainV${version}` in signed.data.form, JSON.stringify(signed.data.form));
  });
}

test('approve and deny an access request from its link', async () => {
  const w = await wallet('p1');
  for (const [lab, decision] of [['lab', 'approve'], ['lab2', 'deny']]) {
    h.as(lab, 'provider', 'request-access', w.address, '--purpose', 'operations', '--classes', 'lab-result', '--reason', '4', '--days', '7');
    const request = await pda.request(w.address, h.address(lab));
    const meta = await w.get(url(`/api/actions/request/${request}`));
    assert.deepEqual(meta.links.actions.map((a) => a.label), ['Approve', 'Deny']);
    const action = meta.links.actions[decision === 'approve' ? 0 : 1];
    const tx = await w.postOk(url(action.href), { account: w.address });
    await w.signAndSend(w.decodeTransaction(tx.transaction));
    assert.equal(await w.account('AccessRequest', request), null, 'the request is closed');
    const grant = await w.account('ConsentGrant', await pda.grant(w.address, h.address(lab), purposeId('Operations')));
    if (decision === 'approve') {
      assert.equal(grant.grantee.toBase58(), h.address(lab));
      assert.equal(grant.classes, 1);
    } else {
      assert.equal(grant, null, 'a denial grants nothing');
    }
  }
});

test('revoke one grant from its link', async () => {
  const w = await wallet('p1');
  const grant = await pda.grant(w.address, clinic, purposeId('Treatment'));
  const meta = await w.get(url(`/api/actions/revoke/${grant}`));
  const tx = await w.postOk(url(meta.links.actions[0].href), { account: w.address });
  await w.signAndSend(w.decodeTransaction(tx.transaction));
  assert.ok('Revoked' in (await w.account('ConsentGrant', grant)).status);
  const again = await w.post(url(`/api/actions/revoke/${grant}`), { account: w.address });
  assert.equal(again.status, 409);
  assert.match(again.body.type, /already-revoked$/);
});

test('review a break-glass access: accept one, dispute another', async () => {
  const w = await wallet('p1');
  for (const [clinician, label, state] of [['clinic', 'Accept', 'Accepted'], ['er', 'Dispute', 'Disputed']]) {
    const opened = h.as(clinician, 'provider', 'emergency-access', w.address, '--reason', '7', '--hours', '1');
    const grant = opened.grant;
    assert.ok(grant, JSON.stringify(opened));
    const meta = await w.get(url(`/api/actions/emergency/${grant}`));
    const action = meta.links.actions.find((a) => a.label === label);
    const tx = await w.postOk(url(action.href), { account: w.address });
    await w.signAndSend(w.decodeTransaction(tx.transaction));
    const reviewed = await w.account('ConsentGrant', grant);
    assert.ok(state in reviewed.review, JSON.stringify(reviewed.review));
    if (state === 'Disputed') assert.ok('Revoked' in reviewed.status);
  }
});

test('revoke all, then consent again from the same link: one statement, one transaction', async () => {
  const w = await wallet('p2');
  const patient = await pda.patient(w.address);
  const grant = await pda.grant(w.address, clinic, purposeId('Treatment'));
  const before = await w.account('Patient', patient);
  const voided = await w.account('ConsentGrant', grant);
  const tx = await w.postOk(url('/api/actions/revoke-all'), { account: w.address });
  await w.signAndSend(w.decodeTransaction(tx.transaction));
  const after = await w.account('Patient', patient);
  assert.equal(after.consent_epoch, before.consent_epoch + 1);
  // the grant of the old epoch is void; the same link makes it anew
  await signedGrant(w, grantLink(clinic), 1);
  const renewed = await w.account('ConsentGrant', grant);
  assert.equal(renewed.consent_epoch, after.consent_epoch, 'a grant of the current epoch');
  assert.ok(renewed.serial > voided.serial, 'another consent, with another serial');
  assert.ok('Active' in renewed.status);
});

test('require statements, for good', async () => {
  const w = await wallet('p2');
  const meta = await w.get(url('/api/actions/require-statements'));
  const tx = await w.postOk(url(meta.links.actions[0].href), { account: w.address });
  await w.signAndSend(w.decodeTransaction(tx.transaction));
  const patient = await w.account('Patient', await pda.patient(w.address));
  assert.notEqual(patient.consent_flags, 0);
  const again = await w.post(url('/api/actions/require-statements'), { account: w.address });
  assert.equal(again.status, 409);
  assert.match(again.body.type, /already-required$/);
});

test('an invited patient consents to the study and enrols from its link', async () => {
  const w = await wallet('p3');
  const mint = h.as('sponsor', 'token', 'create-mint', '--decimals', '0').mint;
  const tokens = h.as('sponsor', 'token', 'create-account', mint, '--owner', h.address('sponsor')).account;
  h.as('sponsor', 'token', 'mint-to', mint, tokens, '1000000');
  const study = h.as('sponsor', 'study', 'create', '--study-id', '1', '--mint', mint, '--enrolment-reward', '25', '--period-reward', '5', '--period-days', '1', '--periods', '3', '--classes', 'lab-result').study;
  h.as('sponsor', 'study', 'fund', study, '--source', tokens, '--amount', '1000');
  // nobody enrols before the sponsor registers the study's protocol
  const file = (name, text) => {
    const path = join(h.work, name);
    writeFileSync(path, text);
    return path;
  };
  h.as('sponsor', 'study', 'register-protocol', study, '--registry', 'NCT01234567',
    '--document', file('protocol.txt', 'protocol version one'),
    '--primary-outcomes', file('primary.txt', 'HbA1c at 12 weeks\n'),
    '--secondary-outcomes', file('secondary.txt', 'weight at 12 weeks\n'),
    '--planned-enrolment', '5', '--outcomes-out', join(h.work, 'outcomes.json'));
  h.as('sponsor', 'study', 'invite', study, '--patient', w.address);
  const meta = await w.get(url(`/api/actions/study/${study}`));
  const [consent, enrol] = meta.links.actions;
  assert.deepEqual([consent.type, enrol.type], ['message', 'transaction']);
  const { statement } = await signedGrant(w, consent.href.replace('/grant/statement?', '/grant?'), 1);
  assert.match(statement, /Purpose: research\n/);
  const tx = await w.postOk(url(enrol.href), { account: w.address });
  await w.signAndSend(w.decodeTransaction(tx.transaction));
  const participation = await w.account('Participation', await pda.participation(study, w.address));
  assert.equal(participation.patient.toBase58(), w.address);
  assert.equal(Number(participation.paid), 25, 'the enrolment reward the link described');
});

test('an envelope of an unknown version, or of another application, is refused by the server and by the program', async () => {
  const w = await wallet('p4');
  const { statement, tx } = await grantByLink(w, grantLink(clinic), 1);
  // the statement signed in two wrong envelopes: a v0 message for another application (non-zero
  // application domain), signed by kit; and a version-2 envelope (no such version), v1's layout
  // with another version byte
  const wrongEnvelopes = async (statement) => {
    const text = getUtf8Encoder().encode(statement);
    const foreign = await w.signStatement(statement, 0, h.address('lab'));
    const domain = new Uint8Array([0xff, ...getUtf8Encoder().encode('solana offchain')]);
    const unknown = new Uint8Array([...domain, 2, 1, ...getBase58Encoder().encode(w.address), ...text]);
    const unknownSignature = new Uint8Array(await signBytes(w.signer.keyPair.privateKey, unknown));
    return [
      ['OffchainApplicationDomain', foreign.bytes, getBase58Encoder().encode(foreign.signature)],
      ['OffchainVersionUnknown', unknown, unknownSignature],
    ];
  };
  const cases = await wrongEnvelopes(statement);
  // the server finds no form of the statement these signatures are over (signed over the
  // statement this message step shows: its validity window is fixed when the step is asked for,
  // so an earlier step's statement may differ by a second and be refused as changed instead)
  const meta = await w.get(url(grantLink(clinic)));
  const message = await w.postOk(url(meta.links.actions[0].href), { account: w.address });
  for (const [, , signature] of await wrongEnvelopes(message.data)) {
    const r = await w.post(url(message.links.next.href), { account: w.address, signature: getBase58Decoder().decode(signature), data: message.data });
    assert.equal(r.status, 401);
    assert.match(r.body.type, /statement-not-signed$/);
  }
  // and a wallet (or server) that puts them in the transaction anyway meets the program's error
  const good = w.decodeTransaction(tx.transaction);
  const compiled = getCompiledTransactionMessageDecoder().decode(good.messageBytes);
  for (const [name, signed, signature] of cases) {
    const check = ed25519Check(getBase58Encoder().encode(w.address), signature, signed);
    const instructions = compiled.instructions.map((ix, i) => (i === 0 ? { ...ix, data: check } : ix));
    const messageBytes = getCompiledTransactionMessageEncoder().encode({ ...compiled, instructions });
    const forged = { messageBytes, signatures: { [w.address]: null } };
    // kit reports the preflight's InstructionError(1, Custom(code)): grant_create_signed refused it
    await assert.rejects(w.signAndSend(forged), (e) => {
      const context = e.cause?.context ?? {};
      assert.deepEqual([context.index, context.code], [1, errorCode(name)], `${name}: ${e}`);
      return true;
    });
  }
  assert.equal(await w.account('ConsentGrant', await pda.grant(w.address, clinic, purposeId('Treatment'))), null, 'nothing was granted');
});

/** The Ed25519 precompile's instruction data for one signature over `message` (its own layout). */
function ed25519Check(publicKey, signature, message) {
  const header = 16;
  const data = new Uint8Array(header + 32 + 64 + message.length);
  const view = new DataView(data.buffer);
  data[0] = 1;
  const offsets = [header + 32, 0xffff, header, 0xffff, header + 96, message.length, 0xffff];
  offsets.forEach((v, i) => view.setUint16(2 + 2 * i, v, true));
  data.set(publicKey, header);
  data.set(signature, header + 32);
  data.set(message, header + 96);
  return data;
}
