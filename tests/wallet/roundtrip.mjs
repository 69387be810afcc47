// A figure, not a test: the @solana/kit wallet's round trip for one Action over a careledger
// localnet, with `careledger serve` in front (GET the grant link, POST the account, sign the
// statement as an off-chain message v1, POST it, POST for the transaction, sign it, send it,
// confirmed through signatureSubscribe). `node tests/wallet/roundtrip.mjs [count]`
// (CARELEDGER_BIN: the CLI; build it in the profile you want to measure).
import { Harness } from './harness.mjs';
import { Wallet } from './wallet.mjs';

const count = Number(process.argv[2] ?? 50);
const h = new Harness();
try {
  await h.startLocalnet();
  h.run(['airdrop', h.address('admin'), '--sol', '1000']);
  h.as('admin', 'config', 'init');
  h.run(['airdrop', h.address('clinic'), '--sol', '10']);
  h.run(['airdrop', h.address('custodian'), '--sol', '10']);
  h.as('clinic', 'provider', 'register', '--roles', 'clinician', '--credential-file', h.file('licence.pdf', 'licence'));
  h.as('admin', 'authority', 'verify', h.address('clinic'), '--roles', 'clinician');
  const clinic = h.address('clinic');
  await h.startServe();
  const wallets = [];
  for (let i = 0; i < count; i++) {
    h.run(['airdrop', h.address(`p${i}`), '--sol', '1']);
    h.as(`p${i}`, 'patient', 'register');
    wallets.push(await Wallet.fromFile(h.key(`p${i}`), h.rpcUrl, h.wsUrl));
  }
  const url = (href) => (href.startsWith('http') ? href : `${h.actions}${href}`);
  const times = [];
  for (const w of wallets) {
    const started = performance.now();
    const meta = await w.get(url(`/api/actions/grant?grantee=${clinic}&classes=lab-result&purpose=treatment&days=30`));
    const message = await w.postOk(url(meta.links.actions[0].href), { account: w.address });
    const { signature } = await w.signStatement(message.data, 1);
    const next = await w.postOk(url(message.links.next.href), { account: w.address, signature, data: message.data });
    const tx = await w.postOk(url(next.links.actions[0].href), { account: w.address });
    await w.signAndSend(w.decodeTransaction(tx.transaction));
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const at = (p) => times[Math.min(times.length - 1, Math.round((times.length - 1) * p))].toFixed(1);
  console.log(`kit wallet, one Action round trip over a careledger localnet (${count} grants): p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`);
} finally {
  await h.stop();
}
process.exit(0);
