// What the wallet tests stand on: a careledger localnet and `careledger serve` (its Actions), both
// started here on ports the operating system picks, and the careledger CLI for everything the
// other parties do (the clinic registers, the credential authority verifies, a lab asks for
// access, a sponsor opens a study). Everything started is stopped, and the work folder (keys,
// the gateway's store) lives under target/ and is removed at the end: nothing goes to TMPDIR.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '../..');
const bin = process.env.CARELEDGER_BIN ?? join(repo, 'target/debug/careledger');

/** Reads lines from a child's stdout until `pattern` matches one; bounded by `ms`. */
function waitForLine(child, pattern, ms, what) {
  return new Promise((resolveLine, reject) => {
    let buffered = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`${what}: no "${pattern}" within ${ms} ms; stderr: ${stderr}`)), ms);
    child.stderr.on('data', (d) => { stderr += d; });
    child.stdout.on('data', (d) => {
      buffered += d;
      for (const line of buffered.split('\n')) {
        const m = line.match(pattern);
        if (m) { clearTimeout(timer); resolveLine(m); return; }
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${what} exited with ${code}: ${stderr}`)); });
  });
}

export class Harness {
  constructor() {
    this.work = join(repo, 'target', `wallet-work-${process.pid}`);
    rmSync(this.work, { recursive: true, force: true });
    mkdirSync(this.work, { recursive: true });
    this.children = [];
    this.keys = new Map();
  }

  /** A keypair file named `name` (made on first use, with `careledger keygen`). */
  key(name) {
    if (!this.keys.has(name)) {
      const path = join(this.work, `${name}.json`);
      this.run(['keygen', '--outfile', path], { noUrl: true });
      this.keys.set(name, path);
    }
    return this.keys.get(name);
  }

  address(name) {
    return this.run(['-k', this.key(name), 'address'], { noUrl: true, json: false }).trim();
  }

  /** Runs the CLI (`--url` at the localnet, JSON output) and returns what it printed, parsed. */
  run(args, { noUrl = false, json = true } = {}) {
    const full = [...(noUrl ? [] : ['--url', this.rpcUrl]), ...(json ? ['--output', 'json-compact'] : []), ...args];
    const r = spawnSync(bin, full, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, RUST_LOG: 'error' } });
    if (r.status !== 0) {
      throw new Error(`careledger ${full.join(' ')} failed (${r.status}): ${r.stderr}`);
    }
    return json ? JSON.parse(r.stdout) : r.stdout;
  }

  /** `careledger -k <who> ...` */
  as(who, ...args) {
    return this.run(['-k', this.key(who), ...args]);
  }

  spawn(args, what) {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: 'error' } });
    this.children.push(child);
    return { child, what };
  }

  /** A localnet on free ports, with `admin` as careledger's upgrade authority and the config made. */
  async startLocalnet() {
    const { child } = this.spawn(['localnet', '--rpc-port', '0', '--pubsub-port', '0', '--authority', this.key('admin')], 'localnet');
    const m = await waitForLine(child, /JSON-RPC (http:\/\/\S+) PubSub (ws:\/\/\S+)/, 30_000, 'careledger localnet');
    this.rpcUrl = m[1];
    this.wsUrl = m[2];
    return this;
  }

  /** `careledger serve` over the localnet (the record gateway and its Solana Actions). */
  async startServe() {
    const custodian = this.key('custodian');
    const x25519 = join(this.work, 'custodian.x25519');
    this.run(['-k', custodian, 'keys', 'new', '--outfile', x25519], { noUrl: true });
    this.as('custodian', 'keys', 'publish', '--x25519-key', x25519);
    const { child } = this.spawn(['--url', this.rpcUrl, '-k', custodian, 'serve', '--listen', '127.0.0.1:0', '--store', join(this.work, 'store'), '--x25519-key', x25519], 'serve');
    const m = await waitForLine(child, /Solana Actions at (http:\/\/\S+)\/actions\.json/, 30_000, 'careledger serve');
    this.actions = m[1];
    return this;
  }

  file(name, contents) {
    const path = join(this.work, name);
    writeFileSync(path, contents);
    return path;
  }

  async stop() {
    for (const child of this.children.reverse()) {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    }
    rmSync(this.work, { recursive: true, force: true });
  }
}
