#!/bin/bash
# Times `careledger cid`, `patient put` and `provider get` of one file through the CLI as the
# README runs it, on a fresh ledger folder and a gateway on loopback (docs/PERFORMANCE.md,
# "Records in the everyday debug build"). Leaves nothing behind.
#
#   bash tests/bench/records_cli.sh                                   # the README's cargo run alias, 100 MiB
#   bash tests/bench/records_cli.sh "$PWD/target/debug/careledger" 10 # a binary, 10 MiB
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CL=${1:-"cargo run -q --manifest-path $ROOT/Cargo.toml -p careledger-cli --"}
MIB=${2:-100}
W=$(mktemp -d "${CARGO_TARGET_DIR:-$ROOT/target}/records-cli-bench.XXXXXX")
SP=
cleanup() { [ -n "$SP" ] && kill "$SP" 2>/dev/null && wait "$SP" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
cd "$W"
export CARELEDGER_NO_PROGRESS=1
c() { $CL --url "embedded:$W/ledger" "$@"; }
for k in admin me clinic hospital; do c keygen --outfile $k.json >/dev/null; done
echo licence > licence.pdf
c -k admin.json config init >/dev/null
c -k me.json patient register >/dev/null
c -k clinic.json provider register --roles clinician --credential-file licence.pdf >/dev/null
c -k admin.json authority verify "$(c -k clinic.json address)" --roles clinician >/dev/null
c -k hospital.json keys new --outfile hospital.x25519 >/dev/null
c -k hospital.json keys publish --x25519-key hospital.x25519 >/dev/null
c -k clinic.json keys new --outfile clinic.x25519 >/dev/null
c -k clinic.json keys publish --x25519-key clinic.x25519 >/dev/null
c -k me.json patient grant "$(c -k clinic.json address)" --purpose treatment --classes lab-result --days 30 >/dev/null
head -c $((MIB * 1048576)) /dev/urandom > big.bin
$CL --url "embedded:$W/ledger" -k hospital.json serve --listen 127.0.0.1:0 --store ./records --x25519-key hospital.x25519 > serve.out 2>&1 &
SP=$!
for _ in $(seq 1 300); do grep -q listening serve.out 2>/dev/null && break; sleep 0.2; done
URL=$(grep -o 'http://[0-9.:]*' serve.out | head -1)
/usr/bin/time -f "cid of $MIB MiB: %e s" $CL cid big.bin > /dev/null
/usr/bin/time -f "patient put of $MIB MiB: %e s" $CL --url "embedded:$W/ledger" -k me.json --output json-compact \
  patient put big.bin --class lab-result --gateway "$URL" --custodian "$(c -k hospital.json address)" > put.json
RECORD=$(sed 's/.*"record":"\([^"]*\)".*/\1/' put.json)
/usr/bin/time -f "provider get of $MIB MiB: %e s" $CL --url "embedded:$W/ledger" -k clinic.json \
  provider get "$RECORD" --out got.bin --x25519-key clinic.x25519 --gateway "$URL" > /dev/null
cmp big.bin got.bin && echo "the file got back is the file put"
