// Decodes account bytes from the embedded runtime and encodes instruction arguments with
// Anchor's own TypeScript coder and the committed IDL, and compares with the Rust side's values
// and bytes (the fixture written by tests/tests/idl_fixture.rs). Exits non-zero on a mismatch.
"use strict";
const fs = require("fs");
const path = require("path");
const { BorshCoder, BN } = require("@anchor-lang/core");
const { PublicKey } = require("@solana/web3.js");

const idl = JSON.parse(fs.readFileSync(path.join(__dirname, "../../idl/careledger.json"), "utf8"));
const fixture = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const coder = new BorshCoder(idl);
let failures = 0;
let checks = 0;

const camel = (s) => s.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
const field = (obj, name) => (name in obj ? obj[name] : obj[camel(name)]);
function text(value) {
  if (value instanceof PublicKey) return value.toBase58();
  if (BN.isBN(value)) return value.toString();
  if (typeof value === "number") return String(value);
  if (value && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 1 && typeof value[keys[0]] === "object") return keys[0].toLowerCase();
  }
  return String(value);
}
function expectEqual(what, got, want) {
  checks += 1;
  if (got !== want) {
    failures += 1;
    console.error(`${what}: got ${got}, want ${want}`);
  }
}

for (const account of fixture.accounts) {
  const decoded = coder.accounts.decode(account.name, Buffer.from(account.data, "base64"));
  for (const [name, want] of Object.entries(account.expect)) {
    const wantText = /^[A-Z][a-z]+$/.test(want) ? want.toLowerCase() : want;
    expectEqual(`${account.name}.${name}`, text(field(decoded, name)), wantText);
  }
}

function variant(name) {
  return { [name]: {} };
}
for (const ix of fixture.instructions) {
  const a = ix.args;
  const args = {
    purpose: variant(a.purpose),
    classes: Number(a.classes),
    actions: Number(a.actions),
    recordScope: Number(a.record_scope),
    record_scope: Number(a.record_scope),
    notBefore: new BN(a.not_before),
    not_before: new BN(a.not_before),
    expiresAt: new BN(a.expires_at),
    expires_at: new BN(a.expires_at),
  };
  const encoded = coder.instruction.encode(ix.name, { args });
  expectEqual(`${ix.name} bytes`, encoded.toString("base64"), ix.data);
  const back = coder.instruction.decode(Buffer.from(ix.data, "base64"));
  expectEqual(`${ix.name} decoded name`, back && camel(back.name), camel(ix.name));
}

if (failures > 0) {
  console.error(`${failures} of ${checks} IDL checks failed`);
  process.exit(1);
}
console.log(`${checks} IDL checks passed with @anchor-lang/core`);
