#!/usr/bin/env bash
# The CLI walkthrough, then a record through the gateway (docs/GUIDE.md), over JSON-RPC against a
# careledger localnet this script starts (on ports the OS picks) and stops. Every command is the
# guide's, with `--url` at the localnet and an airdrop where a cluster needs one. Run from the
# repository root: `bash tests/wire/cli.sh [path/to/careledger]`. Leaves nothing running, and
# nothing outside target/wire-cli.
set -euo pipefail
bin="$(realpath "${1:-target/debug/careledger}")"
repo="$(pwd)"
work="$(pwd)/target/wire-cli"
rm -rf "$work"
mkdir -p "$work"
cd "$work"
pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop EXIT

# wait (bounded) for a line matching $2 in file $1; print the match
wait_for() {
  for _ in $(seq 300); do
    if grep -qE "$2" "$1" 2>/dev/null; then grep -oE "$2" "$1" | head -n 1; return 0; fi
    sleep 0.1
  done
  echo "no \"$2\" in $1:" >&2; cat "$1" >&2; return 1
}

"$bin" keygen --outfile admin.json >/dev/null
"$bin" localnet --rpc-port 0 --pubsub-port 0 --authority admin.json >localnet.out 2>&1 &
pids+=($!)
url=$(wait_for localnet.out 'http://127\.0\.0\.1:[0-9]+')
echo "localnet at $url"
careledger() { "$bin" --url "$url" "$@"; }

# --- the walkthrough (docs/GUIDE.md) --------------------------------------------------------
careledger keygen --outfile me.json >/dev/null; careledger keygen --outfile clinic.json >/dev/null
for k in admin me clinic; do careledger -k $k.json airdrop --sol 10 >/dev/null; done
echo "licence" >licence.pdf
head -c 5000 /dev/urandom >lab.enc
careledger -k admin.json config init
careledger -k me.json patient register
careledger -k clinic.json provider register --roles clinician --credential-file licence.pdf
careledger -k admin.json authority verify "$(careledger -k clinic.json address)" --roles clinician
careledger -k admin.json authority issue-credential "$(careledger -k clinic.json address)" --roles clinician --out clinic.vc.json
careledger credential verify clinic.vc.json
careledger did "$(careledger -k clinic.json address)" >/dev/null
record=$(careledger -k me.json --output json patient anchor lab.enc --class lab-result | grep -oE '"record": *"[1-9A-HJ-NP-Za-km-z]+"' | grep -oE '[1-9A-HJ-NP-Za-km-z]{32,44}')
careledger -k me.json patient grant "$(careledger -k clinic.json address)" --purpose treatment --classes lab-result --days 30
careledger -k clinic.json provider log-access "$(careledger -k me.json address)" --record 0
careledger -k me.json patient revoke "$(careledger -k clinic.json address)" --purpose treatment
careledger -k me.json verify lab.enc --record "$record"
careledger -k me.json --output json patient audit --format fhir >bundle.json
grep -q '"resourceType": "Bundle"' bundle.json
grep -q '"resourceType": "AuditEvent"' bundle.json
echo "walkthrough: ok (record $record)"

# --- a record through the gateway, over the same cluster --------------------------------------
careledger keygen --outfile hospital.json >/dev/null
careledger -k hospital.json airdrop --sol 10 >/dev/null
careledger -k hospital.json keys new --outfile hospital.x25519
careledger -k hospital.json keys publish --x25519-key hospital.x25519
# the binary itself in the background (not the shell function), so that its pid is the one stopped
"$bin" --url "$url" -k hospital.json serve --listen 127.0.0.1:0 --store ./records --x25519-key hospital.x25519 >serve.out 2>&1 &
pids+=($!)
gateway=$(wait_for serve.out 'listening on http://127\.0\.0\.1:[0-9]+' | grep -oE 'http://.*')
head -c 300000 /dev/urandom >lab.pdf
put=$(careledger -k me.json --output json patient put lab.pdf --class lab-result --gateway "$gateway" --custodian "$(careledger -k hospital.json address)")
put_record=$(echo "$put" | grep -oE '"record": *"[1-9A-HJ-NP-Za-km-z]+"' | grep -oE '[1-9A-HJ-NP-Za-km-z]{32,44}')
careledger -k me.json patient grant "$(careledger -k clinic.json address)" --purpose treatment --classes lab-result --days 30
careledger -k clinic.json keys new --outfile clinic.x25519
careledger -k clinic.json keys publish --x25519-key clinic.x25519
careledger -k clinic.json provider get "$put_record" --out lab.out.pdf --x25519-key clinic.x25519 --gateway "$gateway"
cmp lab.pdf lab.out.pdf
echo "gateway: ok ($(stat -c %s lab.out.pdf) bytes released over JSON-RPC, byte-identical)"
# the same record's ciphertext from the gateway's /ipfs (a trustless gateway), the key alone
# from its release route
careledger -k clinic.json provider get "$put_record" --out lab.ipfs.pdf --x25519-key clinic.x25519 --gateway "$gateway" --ipfs "$gateway"
cmp lab.pdf lab.ipfs.pdf
# Helia (the IPFS JavaScript implementation) fetches the ciphertext by CID and verifies every
# block, and refuses a gateway that lies (tests/helia/fetch.mjs)
put_cid=$(echo "$put" | grep -oE '"cid": *"[a-zA-Z0-9]+"' | grep -oE '[a-zA-Z0-9]{40,}')
put_sha=$(echo "$put" | grep -oE '"sha256": *"[0-9a-f]{64}"' | grep -oE '[0-9a-f]{64}')
timeout 300 node "$repo/tests/helia/fetch.mjs" "$gateway" "$put_cid" "$put_sha"
# An EHR's view: fhir-kit-client (npm) reads the same server's FHIR API over this cluster
# (getSignaturesForAddress and getTransaction behind it), pages every search to the end, reads
# each Consent by id, and every answer validates against the FHIR R4 JSON schema
timeout 300 node "$repo/tests/fhir/rest.mjs" "$gateway/fhir" "$(careledger -k me.json address)"

# --- a localnet that starts from a ledger folder's accounts (--ledger) ------------------------
"$bin" --url embedded:./folder -k me.json config init >/dev/null
"$bin" --url embedded:./folder -k me.json patient register >/dev/null
"$bin" --url embedded:./folder -k me.json patient anchor lab.enc --class lab-result >/dev/null
"$bin" localnet --rpc-port 0 --ledger ./folder >localnet-folder.out 2>&1 &
pids+=($!)
folder_url=$(wait_for localnet-folder.out 'http://127\.0\.0\.1:[0-9]+')
shown=$("$bin" --url "$folder_url" -k me.json --output json patient show)
echo "$shown" | grep -q "\"wallet\": \"$("$bin" -k me.json address)\"" && echo "$shown" | grep -q '"status": "Current"' ||
  { echo "the folder's patient and record are not on the localnet: $shown" >&2; exit 1; }
# and the program there names the folder's upgrade authority: its config is the folder's
"$bin" --url "$folder_url" --output json config show | grep -q "$("$bin" -k me.json address)"
echo "--ledger: ok (the folder's patient, record and config served over JSON-RPC)"
