// A wallet written with @solana/kit, behaving as Phantom or Backpack do with a Solana Action:
// it fetches the link, posts its account, signs the message it is handed (with kit's off-chain
// message API, v1 as wallet-standard's `solana:signOffchainMessage` does, or v0 with the all-zero
// application domain as a Ledger does), signs the transaction with its own key only after checking
// it is the fee payer and the only signer, submits it with `sendTransaction`, and confirms it
// through `signatureSubscribe`. It reads results back by decoding accounts with the IDL.
import {
  address,
  compileOffchainMessageEnvelope,
  createKeyPairSignerFromBytes,
  createSolanaRpc,
  createSolanaRpcSubscriptions,
  getAddressEncoder,
  getBase58Decoder,
  getBase64EncodedWireTransaction,
  getBase64Encoder,
  getProgramDerivedAddress,
  getSignatureFromTransaction,
  getTransactionDecoder,
  getU64Encoder,
  OffchainMessageContentFormat,
  signOffchainMessageEnvelope,
  signTransaction,
} from '@solana/kit';
import anchor from '@anchor-lang/core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repo } from './harness.mjs';

export const idl = JSON.parse(readFileSync(join(repo, 'idl/careledger.json'), 'utf8'));
export const program = address(idl.address);
const coder = new anchor.BorshAccountsCoder(idl);
const seed = (name) => new Uint8Array(idl.constants.find((c) => c.name === name).value.match(/\d+/g).map(Number));
const addressBytes = (a) => getAddressEncoder().encode(address(a));

/** The program's PDAs, from the seed constants its IDL publishes. */
export const pda = {
  patient: async (wallet) => (await getProgramDerivedAddress({ programAddress: program, seeds: [seed('PATIENT_SEED'), addressBytes(wallet)] }))[0],
  grant: async (patient, grantee, purpose) => (await getProgramDerivedAddress({ programAddress: program, seeds: [seed('GRANT_SEED'), addressBytes(patient), addressBytes(grantee), new Uint8Array([purpose])] }))[0],
  request: async (patient, provider) => (await getProgramDerivedAddress({ programAddress: program, seeds: [seed('REQUEST_SEED'), addressBytes(patient), addressBytes(provider)] }))[0],
  participation: async (study, patient) => (await getProgramDerivedAddress({ programAddress: program, seeds: [seed('PARTICIPATION_SEED'), addressBytes(study), addressBytes(patient)] }))[0],
  study: async (sponsor, id) => (await getProgramDerivedAddress({ programAddress: program, seeds: [seed('STUDY_SEED'), addressBytes(sponsor), getU64Encoder().encode(BigInt(id))] }))[0],
};

/** A purpose's number, as the IDL's `Purpose` enum orders it. */
export function purposeId(name) {
  const variants = idl.types.find((t) => t.name === 'Purpose').type.variants.map((v) => v.name);
  const i = variants.indexOf(name);
  if (i < 0) throw new Error(`no purpose ${name} in the IDL: ${variants}`);
  return i;
}

/** A program error's code, by name, from the IDL. */
export function errorCode(name) {
  return idl.errors.find((e) => e.name === name).code;
}

export class Wallet {
  static async fromFile(path, rpcUrl, wsUrl) {
    const w = new Wallet();
    w.signer = await createKeyPairSignerFromBytes(new Uint8Array(JSON.parse(readFileSync(path, 'utf8'))));
    w.rpc = createSolanaRpc(rpcUrl);
    w.subscriptions = createSolanaRpcSubscriptions(wsUrl);
    return w;
  }

  get address() {
    return this.signer.address;
  }

  /** GET an Action, as a wallet unfurls a link: 200, JSON, and the CORS header the spec requires. */
  async get(url) {
    const r = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    if (r.headers.get('access-control-allow-origin') !== '*') throw new Error(`GET ${url}: no CORS header`);
    const body = await r.json();
    if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${JSON.stringify(body)}`);
    return body;
  }

  /** POST to an Action; returns status and body (refusals are problem+json). */
  async post(url, body) {
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    return { status: r.status, type: r.headers.get('content-type'), body: await r.json() };
  }

  async postOk(url, body) {
    const r = await this.post(url, body);
    if (r.status !== 200) throw new Error(`POST ${url}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /**
   * Signs `text` as an off-chain message: version 1 (SRFC 3; what wallet-standard's
   * `solana:signOffchainMessage` produces) or version 0 with the all-zero application domain and
   * the UTF-8 format of at most 1,232 bytes (what a Ledger signs). Returns the message bytes and
   * the base58 signature the wallet posts.
   */
  async signStatement(text, version, applicationDomain = '11111111111111111111111111111111') {
    const message = version === 1
      ? { version: 1, content: text, requiredSignatories: [{ address: this.address }] }
      : {
          version: 0,
          applicationDomain: address(applicationDomain),
          content: { format: OffchainMessageContentFormat.UTF8_1232_BYTES_MAX, text },
          requiredSignatories: [{ address: this.address }],
        };
    const envelope = await signOffchainMessageEnvelope([this.signer.keyPair], compileOffchainMessageEnvelope(message));
    return { bytes: envelope.content, signature: getBase58Decoder().decode(envelope.signatures[this.address]) };
  }

  /** Decodes an Action's transaction and checks the wallet only pays and signs for itself. */
  decodeTransaction(base64) {
    const tx = getTransactionDecoder().decode(getBase64Encoder().encode(base64));
    const signers = Object.keys(tx.signatures);
    if (signers.length !== 1 || signers[0] !== this.address) {
      throw new Error(`the transaction wants signatures from ${signers}, not only from ${this.address}`);
    }
    if (Object.values(tx.signatures).some((s) => s !== null)) throw new Error('the transaction came signed');
    return tx;
  }

  /**
   * Signs, sends, and waits for `signatureSubscribe`'s notification (bounded by 30 s). kit hands
   * an iterator only the notifications that arrive once it iterates, and a localnet confirms
   * before `sendTransaction` has even answered: the wallet listens before it sends.
   */
  async signAndSend(tx) {
    const signed = await signTransaction([this.signer.keyPair], tx);
    const signature = getSignatureFromTransaction(signed);
    const stop = new AbortController();
    const abortSignal = AbortSignal.any([stop.signal, AbortSignal.timeout(30_000)]);
    const notifications = await this.subscriptions
      .signatureNotifications(signature, { commitment: 'confirmed' })
      .subscribe({ abortSignal });
    const confirmed = (async () => {
      for await (const notification of notifications) return notification;
      throw new Error(`no notification for ${signature}`);
    })();
    try {
      await this.rpc
        .sendTransaction(getBase64EncodedWireTransaction(signed), { encoding: 'base64', preflightCommitment: 'confirmed' })
        .send({ abortSignal });
    } catch (refused) {
      // refused at preflight: nothing will be notified; stop listening
      stop.abort();
      confirmed.catch(() => {});
      throw refused;
    }
    const notification = await confirmed;
    if (notification.value.err) throw new Error(`${signature} failed: ${JSON.stringify(notification.value.err)}`);
    return signature;
  }

  /**
   * A careledger account, decoded with the IDL (`null` where none lives): fields and enum
   * variants keep the IDL's names (`statement_hash`, `{ Active: {} }`).
   */
  async account(type, at) {
    const { value } = await this.rpc.getAccountInfo(address(at), { encoding: 'base64', commitment: 'confirmed' }).send();
    if (!value) return null;
    return coder.decode(type, Buffer.from(value.data[0], 'base64'));
  }
}
