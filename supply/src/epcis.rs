//! A batch's supply-chain history as a GS1 EPCIS 2.0 document (JSON-LD).
//!
//! [`export`] turns plain inputs — the batch ([`EpcisBatch`]) and what happened to it, in order
//! ([`EpcisEntry`]) — into an `EPCISDocument` that GS1's EPCIS 2.0 JSON Schema accepts. It reads
//! nothing from the chain: the caller gathers the entries (from the program's events, say).
//!
//! # Confidentiality
//!
//! Pack serials never reach the chain, and they never appear here either: the batch is named as
//! an LGTIN *class* (GTIN + lot) in its GS1 Digital Link form, `https://id.gs1.org/01/{gtin}/10/
//! {lot}`, with a quantity, in a `quantityList`. No event has an `epcList`, and no identifier
//! carries a serial (AI 21). An event about one pack says `quantity: 1` and gives the pack's
//! position in the batch's Merkle tree as `careledger:packIndex` — an index, not a serial.
//!
//! # Vocabulary (CBV 2.0)
//!
//! | entry | action | bizStep | disposition |
//! | --- | --- | --- | --- |
//! | commissioning | `ADD` | `commissioning` | `active` |
//! | shipping | `OBSERVE` | `shipping` | `in_transit` |
//! | receiving | `OBSERVE` | `receiving` | `in_progress` |
//! | decommissioning: supplied | `OBSERVE` | `dispensing` | `dispensed` |
//! | decommissioning: exported, checked out, sample, free sample | `OBSERVE` | `decommissioning` | `inactive` |
//! | decommissioning: locked | `OBSERVE` | `holding` | `non_sellable_other` |
//! | decommissioning: stolen | `DELETE` | `decommissioning` | `stolen` |
//! | decommissioning: destroyed | `DELETE` | `destroying` | `destroyed` |
//! | reactivation | `OBSERVE` | — | `active` |
//! | recall | `OBSERVE` | — | `recalled` |
//! | withdrawal | `OBSERVE` | — | `non_sellable_other` |
//! | suspect report | `OBSERVE` | `inspecting` | `non_sellable_other` |
//!
//! `DELETE` only for the two states a pack never leaves (stolen, destroyed: EU FMD art. 13(2)),
//! so no event ever brings back a pack an earlier event ended; every other decommissioning can
//! be undone within the undo window, which CBV's `inactive` ("decommissioned object that may be
//! reintroduced to the supply chain") says. The program's precise state always travels in
//! `careledger:packState`, and `careledger:recall` says `recall` or `withdrawal`. The other
//! choices are explained where they are made ([`decommission_vocabulary`] and the `Recall`,
//! `Reactivated` and `SuspectReported` arms of `event_of`).
//!
//! # Parties and extensions
//!
//! Wallets are written as did:sol URIs (`did:sol:<base58>`, as `careledger_identity::did` names them). A
//! shipment's sender and receiver are the `owning_party` source and destination; whoever else
//! acted is `careledger:by`. The extensions live in the `careledger` namespace
//! (`https://careledger.invalid/epcis#`, declared in the document's `@context`): `packIndex`,
//! `packState`, `by`, `transaction` (the base58 signature of the transaction that recorded the
//! entry), `epcisHash` (a shipment's anchored SHA-256, hex), `recall`, `reasonCode`, `alert`.
//! The document names the batch account as `careledger:batch`. A commissioning event carries the
//! expiry as ILMD `cbvmda:itemExpirationDate`.
//!
//! # Event IDs
//!
//! Each `eventID` is the EPCIS event hash ID of CBV 2.0 (`ni:///sha-256;<hex>?ver=CBV2.0`, the
//! algorithm of GS1's event-hash generator): the SHA-256 of the event's pre-hash string. This
//! module builds that string itself, for the fields it emits only (`ObjectEvent::prehash`): it
//! is not a general implementation of the algorithm, but for these events it is meant to be
//! exact, and `tests/epcis/check.mjs` recomputes every ID of the fixture with epcis2.js, an
//! independent implementation, and fails on any difference. (GS1's Python generator, 1.9.3,
//! agrees on the events without a `sourceList` or an `ilmd`; on JSON input it orders
//! `destinationList` before `sourceList` and leaves the `cbvmda:` ILMD prefix unexpanded, both
//! against the algorithm's own rules, which epcis2.js and this module follow.)
//!
//! # Determinism
//!
//! The same inputs give the same document, byte for byte: events in input order, IDs from
//! content, and `creationDate` the latest entry's time (the Unix epoch when there is none), never
//! the clock. Times are whole seconds in UTC, clamped to 1970-01-01T00:00:00Z ..
//! 9999-12-31T23:59:59Z so that every one is a valid RFC 3339 date-time. Surrounding whitespace
//! of the caller's strings is dropped.
//!
//! ```
//! use careledger_supply::epcis::{export, EpcisBatch, EpcisEntry, EpcisStep};
//!
//! let batch = EpcisBatch {
//!     gtin: "09506000134352".into(),
//!     lot: "A1/2".into(),
//!     expiry: "2027-12-31".into(),
//!     batch_account: "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T".into(),
//!     manufacturer: "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin".into(),
//!     pack_count: 100,
//! };
//! let entries = [EpcisEntry {
//!     at: 1_772_352_000,
//!     step: EpcisStep::Commissioning { quantity: 100 },
//!     transaction: None,
//! }];
//! let doc = export(&batch, &entries);
//! let event = &doc["epcisBody"]["eventList"][0];
//! assert_eq!(event["quantityList"][0]["epcClass"], "https://id.gs1.org/01/09506000134352/10/A1%2F2");
//! assert_eq!(event["eventTime"], "2026-03-01T08:00:00Z");
//! assert!(event["eventID"].as_str().unwrap().starts_with("ni:///sha-256;"));
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// The JSON-LD context of EPCIS 2.0, as GS1 publishes it for release 2.0.0 (the URL of the
/// standard's examples and of its reference tools).
pub const EPCIS_CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
/// The prefix of careledger's extension fields.
pub const CARELEDGER_PREFIX: &str = "careledger";
/// The namespace the prefix stands for.
pub const CARELEDGER_NAMESPACE: &str = "https://careledger.invalid/epcis#";
/// What the EPCIS 2.0 context binds the `cbvmda` prefix to (CBV master data attributes).
const CBVMDA_NAMESPACE: &str = "urn:epcglobal:cbv:mda:";
/// Where the bare CBV terms of a JSON event expand to in a pre-hash string.
const CBV_WEB: &str = "https://ref.gs1.org/cbv/";
/// The version of the event hash algorithm, as the `ver` of an event ID.
const HASH_VERSION: &str = "CBV2.0";
/// The latest time an RFC 3339 date-time can write with a four-digit year.
const MAX_SECONDS: i64 = 253_402_300_799;

/// The batch a history is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpcisBatch {
    /// The product's GTIN, 14 digits (a shorter GTIN-8, -12 or -13 is zero-padded to 14, as a
    /// canonical Digital Link writes it).
    pub gtin: String,
    /// The lot (AI 10), as printed; percent-encoded in the class URI.
    pub lot: String,
    /// The expiry, an ISO date (`2027-12-31`).
    pub expiry: String,
    /// The batch account, base58.
    pub batch_account: String,
    /// The manufacturer's wallet, base58: who commissions the batch.
    pub manufacturer: String,
    /// How many packs the batch committed.
    pub pack_count: u32,
}

/// What happened to the batch or to one of its packs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EpcisStep {
    /// The manufacturer committed `quantity` packs.
    Commissioning { quantity: u32 },
    /// `from` sent `quantity` packs to `to` (wallets), anchoring its EPCIS document's hash.
    Shipping {
        from: String,
        to: String,
        epcis_hash: [u8; 32],
        quantity: u32,
    },
    /// `to` received the shipment that `from` sent.
    Receiving {
        from: String,
        to: String,
        epcis_hash: [u8; 32],
        quantity: u32,
    },
    /// `by` took pack `pack_index` out of circulation in `state`.
    Decommissioning {
        pack_index: u32,
        state: PackDisposition,
        by: String,
    },
    /// `by` undid the decommissioning of pack `pack_index`: it is active again.
    Reactivated { pack_index: u32, by: String },
    /// `by` recalled the batch (`withdrawn`: withdrew it from the market), for `reason_code`.
    Recall {
        withdrawn: bool,
        reason_code: u16,
        by: String,
    },
    /// `by` met pack `pack_index` again after it had left `Active`: a clone of its serial is about.
    SuspectReported { pack_index: u32, by: String },
}

/// The inactive states of a pack (EU FMD, Delegated Regulation 2016/161).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PackDisposition {
    /// Dispensed to the public.
    Supplied,
    Exported,
    CheckedOut,
    Stolen,
    Sample,
    FreeSample,
    Locked,
    Destroyed,
}

impl PackDisposition {
    /// The name `careledger:packState` gives it (the program's `PackState` variant).
    pub fn name(self) -> &'static str {
        match self {
            PackDisposition::Supplied => "Supplied",
            PackDisposition::Exported => "Exported",
            PackDisposition::CheckedOut => "CheckedOut",
            PackDisposition::Stolen => "Stolen",
            PackDisposition::Sample => "Sample",
            PackDisposition::FreeSample => "FreeSample",
            PackDisposition::Locked => "Locked",
            PackDisposition::Destroyed => "Destroyed",
        }
    }
}

/// One entry of a history: when (Unix seconds), what, and the transaction that recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpcisEntry {
    pub at: i64,
    pub step: EpcisStep,
    /// The transaction's signature, base58.
    pub transaction: Option<String>,
}

/// The batch's history as an EPCIS 2.0 `EPCISDocument`: one `ObjectEvent` per entry, in order.
pub fn export(batch: &EpcisBatch, entries: &[EpcisEntry]) -> Value {
    let class = class_uri(batch);
    let events: Vec<Value> = entries
        .iter()
        .map(|entry| event_of(batch, &class, entry).to_json())
        .collect();
    let created = entries.iter().map(|e| e.at).max().unwrap_or(0);
    let mut context = Map::new();
    context.insert(CARELEDGER_PREFIX.into(), CARELEDGER_NAMESPACE.into());
    let mut doc = Map::new();
    doc.insert("@context".into(), json!([EPCIS_CONTEXT, context]));
    doc.insert("type".into(), "EPCISDocument".into());
    doc.insert("schemaVersion".into(), "2.0".into());
    doc.insert("creationDate".into(), rfc3339(created).into());
    doc.insert(ext("batch"), did(&batch.batch_account).into());
    doc.insert("epcisBody".into(), json!({ "eventList": events }));
    Value::Object(doc)
}

/// The batch's LGTIN class as a canonical GS1 Digital Link URI (no serial, ever).
pub fn class_uri(batch: &EpcisBatch) -> String {
    let gtin = batch.gtin.trim();
    let gtin = if !gtin.is_empty() && gtin.len() < 14 && gtin.bytes().all(|b| b.is_ascii_digit()) {
        format!("{gtin:0>14}")
    } else {
        gtin.to_string()
    };
    format!(
        "https://id.gs1.org/01/{gtin}/10/{}",
        percent_encode(batch.lot.trim())
    )
}

/// The CBV 2.0 event hash ID of a pre-hash string: `ni:///sha-256;<hex>?ver=CBV2.0`.
pub fn event_id(prehash: &str) -> String {
    let digest = Sha256::digest(prehash.as_bytes());
    format!("ni:///sha-256;{}?ver={HASH_VERSION}", hex(&digest))
}

/// An extension value: the two kinds this module writes.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Ext {
    Text(String),
    Int(u64),
}

impl Ext {
    fn to_json(&self) -> Value {
        match self {
            Ext::Text(s) => Value::String(s.clone()),
            Ext::Int(n) => Value::from(*n),
        }
    }

    fn prehash(&self) -> String {
        match self {
            Ext::Text(s) => s.clone(),
            Ext::Int(n) => n.to_string(),
        }
    }
}

/// One `ObjectEvent`, before it is written: the fields [`export`] emits and nothing else, so
/// that the JSON and the pre-hash string come from the same values.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ObjectEvent {
    /// Unix seconds, already clamped.
    at: i64,
    epc_class: String,
    quantity: u32,
    action: &'static str,
    biz_step: Option<&'static str>,
    disposition: &'static str,
    /// The `owning_party` source and destination (did:sol URIs).
    source: Option<String>,
    destination: Option<String>,
    /// ILMD `cbvmda:itemExpirationDate`.
    expiry: Option<String>,
    /// `careledger:` local names and values; no name is a prefix of another.
    extensions: Vec<(&'static str, Ext)>,
}

/// The CBV vocabulary of a decommissioning: (action, bizStep, disposition).
///
/// - Supplied: CBV's `dispensing` ("made available in full or part to a consumer") and
///   `dispensed` ("a full quantity of product is distributed to a consumer") say exactly it.
/// - Destroyed: `destroying` / `destroyed` ("fully rendered non-usable"), with `DELETE`.
/// - Stolen: `stolen` is a CBV disposition; no business step describes a theft, and the pack's
///   identifier is taken out of circulation, which is `decommissioning`; `DELETE`, since EU FMD
///   never lets a stolen pack back.
/// - Locked: EU FMD's lock quarantines a pack pending investigation — CBV's `holding` ("an
///   object is segregated for further review"); it may not be sold meanwhile: `non_sellable_other`.
/// - Exported, CheckedOut, Sample, FreeSample: CBV has no step for leaving the EU system by
///   export, being checked out, or being handed over as a (free) sample that may still be undone,
///   so `decommissioning` / `inactive`. `sampling` was considered for Sample and rejected: CBV
///   requires an end-of-life (`DELETE`) event after it, and a sample can be reactivated here.
pub fn decommission_vocabulary(
    state: PackDisposition,
) -> (&'static str, &'static str, &'static str) {
    match state {
        PackDisposition::Supplied => ("OBSERVE", "dispensing", "dispensed"),
        PackDisposition::Destroyed => ("DELETE", "destroying", "destroyed"),
        PackDisposition::Stolen => ("DELETE", "decommissioning", "stolen"),
        PackDisposition::Locked => ("OBSERVE", "holding", "non_sellable_other"),
        PackDisposition::Exported
        | PackDisposition::CheckedOut
        | PackDisposition::Sample
        | PackDisposition::FreeSample => ("OBSERVE", "decommissioning", "inactive"),
    }
}

fn event_of(batch: &EpcisBatch, class: &str, entry: &EpcisEntry) -> ObjectEvent {
    let mut e = ObjectEvent {
        at: entry.at.clamp(0, MAX_SECONDS),
        epc_class: class.to_string(),
        quantity: 1,
        action: "OBSERVE",
        biz_step: None,
        disposition: "active",
        source: None,
        destination: None,
        expiry: None,
        extensions: Vec::new(),
    };
    let text = |s: &str| Ext::Text(s.trim().to_string());
    let party = |s: &str| Ext::Text(did(s));
    match &entry.step {
        EpcisStep::Commissioning { quantity } => {
            e.quantity = *quantity;
            e.action = "ADD";
            e.biz_step = Some("commissioning");
            e.expiry = Some(batch.expiry.trim().to_string());
            e.extensions.push(("by", party(&batch.manufacturer)));
        }
        EpcisStep::Shipping {
            from,
            to,
            epcis_hash,
            quantity,
        }
        | EpcisStep::Receiving {
            from,
            to,
            epcis_hash,
            quantity,
        } => {
            let shipping = matches!(entry.step, EpcisStep::Shipping { .. });
            e.quantity = *quantity;
            e.biz_step = Some(if shipping { "shipping" } else { "receiving" });
            e.disposition = if shipping {
                "in_transit"
            } else {
                "in_progress"
            };
            e.source = Some(did(from));
            e.destination = Some(did(to));
            e.extensions.push(("epcisHash", Ext::Text(hex(epcis_hash))));
        }
        EpcisStep::Decommissioning {
            pack_index,
            state,
            by,
        } => {
            let (action, biz_step, disposition) = decommission_vocabulary(*state);
            e.action = action;
            e.biz_step = Some(biz_step);
            e.disposition = disposition;
            e.extensions
                .push(("packIndex", Ext::Int((*pack_index).into())));
            e.extensions.push(("packState", text(state.name())));
            e.extensions.push(("by", party(by)));
        }
        // CBV 2.0 has no business step for undoing a decommissioning (`void_shipping` undoes a
        // shipment, `commissioning` is a first use), and bizStep is optional: none is given.
        // The pack is back in the supply chain: `active`.
        EpcisStep::Reactivated { pack_index, by } => {
            e.extensions
                .push(("packIndex", Ext::Int((*pack_index).into())));
            e.extensions.push(("packState", text("Active")));
            e.extensions.push(("by", party(by)));
        }
        // A recall is a decision about the whole lot, not an operation at a place: no business
        // step fits (`holding` is segregating goods somewhere), so none is given. CBV's
        // `recalled` is "non-sellable because of public safety reasons", which a recall is; a
        // market withdrawal need not be about safety, so it gets the generic
        // `non_sellable_other` and both say which in `careledger:recall`. The quantity is the
        // whole batch.
        EpcisStep::Recall {
            withdrawn,
            reason_code,
            by,
        } => {
            e.quantity = batch.pack_count;
            e.disposition = if *withdrawn {
                "non_sellable_other"
            } else {
                "recalled"
            };
            // Not `recalled`: an extension value that is also a bare CBV term is expanded to the
            // term's URI by some event-hash implementations (GS1's Python reference) and not by
            // others (epcis2.js), so no extension value here is one.
            let kind = if *withdrawn { "withdrawal" } else { "recall" };
            e.extensions.push(("recall", text(kind)));
            e.extensions
                .push(("reasonCode", Ext::Int((*reason_code).into())));
            e.extensions.push(("by", party(by)));
        }
        // The program records a suspect when a pack is presented again after it left `Active`:
        // the pack in hand carries a serial already used, a likely falsification. That is found
        // by checking the pack, which is CBV's `inspecting` (non-destructive review for
        // defects); the pack must not be sold: `non_sellable_other` (`no_pedigree_match` is
        // about pedigree documents, not an authentication failure). The pack's recorded state
        // does not change, so there is no `packState`; `careledger:alert` says why.
        EpcisStep::SuspectReported { pack_index, by } => {
            e.biz_step = Some("inspecting");
            e.disposition = "non_sellable_other";
            e.extensions
                .push(("packIndex", Ext::Int((*pack_index).into())));
            e.extensions.push(("alert", text("suspect")));
            e.extensions.push(("by", party(by)));
        }
    }
    if let Some(signature) = &entry.transaction {
        e.extensions.push(("transaction", text(signature)));
    }
    e
}

impl ObjectEvent {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), "ObjectEvent".into());
        m.insert("eventTime".into(), rfc3339(self.at).into());
        m.insert("eventTimeZoneOffset".into(), "+00:00".into());
        m.insert("eventID".into(), event_id(&self.prehash()).into());
        m.insert(
            "quantityList".into(),
            json!([{ "epcClass": self.epc_class, "quantity": self.quantity }]),
        );
        m.insert("action".into(), self.action.into());
        if let Some(step) = self.biz_step {
            m.insert("bizStep".into(), step.into());
        }
        m.insert("disposition".into(), self.disposition.into());
        if let Some(source) = &self.source {
            m.insert(
                "sourceList".into(),
                json!([{ "type": "owning_party", "source": source }]),
            );
        }
        if let Some(destination) = &self.destination {
            m.insert(
                "destinationList".into(),
                json!([{ "type": "owning_party", "destination": destination }]),
            );
        }
        if let Some(expiry) = &self.expiry {
            m.insert(
                "ilmd".into(),
                json!({ "cbvmda:itemExpirationDate": expiry }),
            );
        }
        for (name, value) in &self.extensions {
            m.insert(ext(name), value.to_json());
        }
        Value::Object(m)
    }

    /// The event's pre-hash string, by the rules of the CBV 2.0 event hash for the fields this
    /// module emits: fields in the canonical property order (eventType, eventTime,
    /// eventTimeZoneOffset, quantityList, action, bizStep, disposition, sourceList,
    /// destinationList, ilmd), each `key=value` with no separator; times in UTC with
    /// milliseconds; bare CBV terms expanded to their `https://ref.gs1.org/cbv/` URIs; a source's
    /// or destination's `type` before its value; ILMD and user extensions as
    /// `{namespace}localName=value`, each group sorted by code point. eventID is not part of it.
    /// The Digital Link of the class is already canonical (id.gs1.org, 14-digit GTIN, no query).
    fn prehash(&self) -> String {
        let mut s = String::from("eventType=ObjectEvent");
        s += &format!("eventTime={}", rfc3339_millis(self.at));
        s += "eventTimeZoneOffset=+00:00";
        s += &format!(
            "quantityListquantityElementepcClass={}quantity={}",
            self.epc_class, self.quantity
        );
        s += &format!("action={}", self.action);
        if let Some(step) = self.biz_step {
            s += &format!("bizStep={CBV_WEB}BizStep-{step}");
        }
        s += &format!("disposition={CBV_WEB}Disp-{}", self.disposition);
        if let Some(source) = &self.source {
            s += &format!("sourceListtype={CBV_WEB}SDT-owning_partysource={source}");
        }
        if let Some(destination) = &self.destination {
            s += &format!("destinationListtype={CBV_WEB}SDT-owning_partydestination={destination}");
        }
        if let Some(expiry) = &self.expiry {
            s += &format!("ilmd{{{CBVMDA_NAMESPACE}}}itemExpirationDate={expiry}");
        }
        let mut extensions: Vec<String> = self
            .extensions
            .iter()
            .map(|(name, value)| format!("{{{CARELEDGER_NAMESPACE}}}{name}={}", value.prehash()))
            .collect();
        extensions.sort();
        s.extend(extensions);
        s
    }
}

/// `careledger:<name>`.
fn ext(name: &str) -> String {
    format!("{CARELEDGER_PREFIX}:{name}")
}

/// A wallet or account as a did:sol URI.
fn did(address: &str) -> String {
    format!("did:sol:{}", address.trim())
}

fn datetime(unix_seconds: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(unix_seconds.clamp(0, MAX_SECONDS), 0).unwrap_or_default()
}

/// `2026-03-01T08:00:00Z`.
fn rfc3339(unix_seconds: i64) -> String {
    datetime(unix_seconds)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// `2026-03-01T08:00:00.000Z`, as a pre-hash string writes a time.
fn rfc3339_millis(unix_seconds: i64) -> String {
    datetime(unix_seconds)
        .format("%Y-%m-%dT%H:%M:%S.000Z")
        .to_string()
}

/// Percent-encodes a Digital Link path value: everything but ASCII letters, digits, `-`, `.`,
/// `_` and `~` (RFC 3986's unreserved characters), byte by byte, upper-case hex.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out += &format!("%{b:02X}");
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANUFACTURER: &str = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin";
    const WHOLESALER: &str = "7EqQdEULxWcraVx3mXKFjc84LhCkMGZCkRuDpvcMwJeK";
    const PHARMACY: &str = "HN7cABqLq46Es1jh92dQQisAq662SmxELLLsHHe4YWrH";
    const BATCH: &str = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T";
    const T0: i64 = 1_772_352_000; // 2026-03-01T08:00:00Z

    fn batch() -> EpcisBatch {
        EpcisBatch {
            gtin: "09506000134352".into(),
            lot: "LOT 42/A".into(),
            expiry: "2027-12-31".into(),
            batch_account: BATCH.into(),
            manufacturer: MANUFACTURER.into(),
            pack_count: 100,
        }
    }

    fn signature(n: u8) -> String {
        careledger_sdk::Signature::from([n; 64]).to_string()
    }

    fn entry(at: i64, step: EpcisStep, tx: Option<u8>) -> EpcisEntry {
        EpcisEntry {
            at,
            step,
            transaction: tx.map(signature),
        }
    }

    /// Commission, ship, receive, dispense, a suspect report, a recall.
    fn history() -> Vec<EpcisEntry> {
        vec![
            entry(T0, EpcisStep::Commissioning { quantity: 100 }, Some(1)),
            entry(
                T0 + 86_400,
                EpcisStep::Shipping {
                    from: MANUFACTURER.into(),
                    to: WHOLESALER.into(),
                    epcis_hash: [0xab; 32],
                    quantity: 40,
                },
                Some(2),
            ),
            entry(
                T0 + 2 * 86_400,
                EpcisStep::Receiving {
                    from: MANUFACTURER.into(),
                    to: WHOLESALER.into(),
                    epcis_hash: [0xab; 32],
                    quantity: 40,
                },
                Some(3),
            ),
            entry(
                T0 + 3 * 86_400,
                EpcisStep::Decommissioning {
                    pack_index: 7,
                    state: PackDisposition::Supplied,
                    by: PHARMACY.into(),
                },
                Some(4),
            ),
            entry(
                T0 + 4 * 86_400,
                EpcisStep::SuspectReported {
                    pack_index: 7,
                    by: PHARMACY.into(),
                },
                Some(5),
            ),
            entry(
                T0 + 5 * 86_400,
                EpcisStep::Recall {
                    withdrawn: false,
                    reason_code: 3,
                    by: MANUFACTURER.into(),
                },
                None,
            ),
        ]
    }

    /// The history the CI fixture shows: the full one plus every other pack state, an undo and
    /// a withdrawal.
    fn realistic_history() -> Vec<EpcisEntry> {
        let mut entries = history();
        let recall = entries.pop().expect("a recall");
        let states = [
            PackDisposition::Exported,
            PackDisposition::CheckedOut,
            PackDisposition::Stolen,
            PackDisposition::Sample,
            PackDisposition::FreeSample,
            PackDisposition::Locked,
            PackDisposition::Destroyed,
        ];
        let day = T0 + 4 * 86_400;
        for (i, state) in (0u8..).zip(states) {
            entries.push(entry(
                day + i64::from(i) * 600 + 60,
                EpcisStep::Decommissioning {
                    pack_index: 10 + u32::from(i),
                    state,
                    by: WHOLESALER.into(),
                },
                Some(10 + i),
            ));
        }
        entries.push(entry(
            day + 7_200,
            EpcisStep::Reactivated {
                pack_index: 15,
                by: WHOLESALER.into(),
            },
            Some(20),
        ));
        entries.push(entry(
            day + 9_000,
            EpcisStep::Recall {
                withdrawn: true,
                reason_code: 1,
                by: MANUFACTURER.into(),
            },
            Some(21),
        ));
        entries.push(recall);
        entries
    }

    fn events(doc: &Value) -> &Vec<Value> {
        doc["epcisBody"]["eventList"]
            .as_array()
            .expect("an event list")
    }

    fn careledger(name: &str) -> String {
        ext(name)
    }

    #[test]
    fn document_header() {
        let doc = export(&batch(), &history());
        assert_eq!(
            doc["@context"],
            json!([EPCIS_CONTEXT, { "careledger": "https://careledger.invalid/epcis#" }])
        );
        assert_eq!(
            EPCIS_CONTEXT,
            "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
        );
        assert_eq!(doc["type"], "EPCISDocument");
        assert_eq!(doc["schemaVersion"], "2.0");
        // The last entry's time, not the clock.
        assert_eq!(doc["creationDate"], "2026-03-06T08:00:00Z");
        assert_eq!(doc[careledger("batch")], format!("did:sol:{BATCH}"));
        assert_eq!(events(&doc).len(), 6);
    }

    #[test]
    fn full_history_shape() {
        let doc = export(&batch(), &history());
        let ev = events(&doc);
        let class = "https://id.gs1.org/01/09506000134352/10/LOT%2042%2FA";
        for e in ev {
            assert_eq!(e["type"], "ObjectEvent");
            assert_eq!(e["eventTimeZoneOffset"], "+00:00");
            assert_eq!(e["quantityList"][0]["epcClass"], class);
            assert_eq!(e["quantityList"].as_array().map(Vec::len), Some(1));
            let id = e["eventID"].as_str().expect("an eventID");
            assert!(id.starts_with("ni:///sha-256;") && id.ends_with("?ver=CBV2.0"));
            assert_eq!(id.len(), "ni:///sha-256;".len() + 64 + "?ver=CBV2.0".len());
        }
        let triple = |e: &Value| {
            (
                e["action"].as_str().map(str::to_owned),
                e["bizStep"].as_str().map(str::to_owned),
                e["disposition"].as_str().map(str::to_owned),
            )
        };
        let want = |a: &str, b: Option<&str>, d: &str| {
            (Some(a.to_owned()), b.map(str::to_owned), Some(d.to_owned()))
        };

        let commission = &ev[0];
        assert_eq!(commission["eventTime"], "2026-03-01T08:00:00Z");
        assert_eq!(
            triple(commission),
            want("ADD", Some("commissioning"), "active")
        );
        assert_eq!(commission["quantityList"][0]["quantity"], 100);
        assert_eq!(
            commission["ilmd"],
            json!({ "cbvmda:itemExpirationDate": "2027-12-31" })
        );
        assert_eq!(
            commission[careledger("by")],
            format!("did:sol:{MANUFACTURER}")
        );
        assert_eq!(commission[careledger("transaction")], signature(1));

        let ship = &ev[1];
        assert_eq!(ship["eventTime"], "2026-03-02T08:00:00Z");
        assert_eq!(
            triple(ship),
            want("OBSERVE", Some("shipping"), "in_transit")
        );
        assert_eq!(ship["quantityList"][0]["quantity"], 40);
        assert_eq!(
            ship["sourceList"],
            json!([{ "type": "owning_party", "source": format!("did:sol:{MANUFACTURER}") }])
        );
        assert_eq!(
            ship["destinationList"],
            json!([{ "type": "owning_party", "destination": format!("did:sol:{WHOLESALER}") }])
        );
        assert_eq!(ship[careledger("epcisHash")], "ab".repeat(32));
        assert!(ship.get("ilmd").is_none());

        let receive = &ev[2];
        assert_eq!(
            triple(receive),
            want("OBSERVE", Some("receiving"), "in_progress")
        );
        assert_eq!(receive["sourceList"], ship["sourceList"]);
        assert_eq!(receive["destinationList"], ship["destinationList"]);
        assert_eq!(receive[careledger("epcisHash")], "ab".repeat(32));

        let dispense = &ev[3];
        assert_eq!(
            triple(dispense),
            want("OBSERVE", Some("dispensing"), "dispensed")
        );
        assert_eq!(dispense["quantityList"][0]["quantity"], 1);
        assert_eq!(dispense[careledger("packIndex")], 7);
        assert_eq!(dispense[careledger("packState")], "Supplied");
        assert_eq!(dispense[careledger("by")], format!("did:sol:{PHARMACY}"));

        let suspect = &ev[4];
        assert_eq!(
            triple(suspect),
            want("OBSERVE", Some("inspecting"), "non_sellable_other")
        );
        assert_eq!(suspect[careledger("packIndex")], 7);
        assert_eq!(suspect[careledger("alert")], "suspect");
        assert!(suspect.get(careledger("packState")).is_none());

        let recall = &ev[5];
        assert_eq!(triple(recall), want("OBSERVE", None, "recalled"));
        assert_eq!(recall["quantityList"][0]["quantity"], 100);
        assert_eq!(recall[careledger("recall")], "recall");
        assert_eq!(recall[careledger("reasonCode")], 3);
        assert!(recall.get(careledger("transaction")).is_none());

        // Every event has its own ID.
        let mut ids: Vec<&str> = ev.iter().filter_map(|e| e["eventID"].as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ev.len());
    }

    #[test]
    fn every_pack_state_maps_to_cbv() {
        let doc = export(&batch(), &realistic_history());
        let by_state: Vec<(String, String, String, String)> = events(&doc)
            .iter()
            .filter_map(|e| {
                Some((
                    e[careledger("packState")].as_str()?.to_owned(),
                    e["action"].as_str()?.to_owned(),
                    e["bizStep"].as_str().unwrap_or("-").to_owned(),
                    e["disposition"].as_str()?.to_owned(),
                ))
            })
            .collect();
        let row = |s: &str, a: &str, b: &str, d: &str| {
            (s.to_owned(), a.to_owned(), b.to_owned(), d.to_owned())
        };
        assert_eq!(
            by_state,
            vec![
                row("Supplied", "OBSERVE", "dispensing", "dispensed"),
                row("Exported", "OBSERVE", "decommissioning", "inactive"),
                row("CheckedOut", "OBSERVE", "decommissioning", "inactive"),
                row("Stolen", "DELETE", "decommissioning", "stolen"),
                row("Sample", "OBSERVE", "decommissioning", "inactive"),
                row("FreeSample", "OBSERVE", "decommissioning", "inactive"),
                row("Locked", "OBSERVE", "holding", "non_sellable_other"),
                row("Destroyed", "DELETE", "destroying", "destroyed"),
                row("Active", "OBSERVE", "-", "active"),
            ]
        );
        let withdrawn = &events(&doc)[events(&doc).len() - 2];
        assert_eq!(withdrawn[careledger("recall")], "withdrawal");
        assert_eq!(withdrawn["disposition"], "non_sellable_other");
        assert!(withdrawn.get("bizStep").is_none());
    }

    /// Walks every key and string of a JSON value.
    fn walk<'a>(v: &'a Value, keys: &mut Vec<&'a str>, strings: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    keys.push(k);
                    walk(v, keys, strings);
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, keys, strings)),
            Value::String(s) => strings.push(s),
            _ => {}
        }
    }

    #[test]
    fn no_serial_is_ever_emitted() {
        let doc = export(&batch(), &realistic_history());
        let (mut keys, mut strings) = (Vec::new(), Vec::new());
        walk(&doc, &mut keys, &mut strings);
        for key in &keys {
            let k = key.to_ascii_lowercase();
            assert!(
                !k.contains("serial") && !k.contains("epclist") && !k.contains("childepcs"),
                "serial-like field {key}"
            );
        }
        // Events are identified by class only: no instance-level EPC (SGTIN URN or a Digital
        // Link with AI 21), in any value.
        for s in &strings {
            assert!(!s.contains("/21/"), "a Digital Link with a serial: {s}");
            assert!(!s.starts_with("urn:epc:id:"), "an instance-level EPC: {s}");
        }
        for e in events(&doc) {
            assert!(e.get("epcList").is_none());
            assert!(e["quantityList"][0]["epcClass"]
                .as_str()
                .is_some_and(|c| c.starts_with("https://id.gs1.org/01/09506000134352/10/")));
        }
    }

    /// The module documentation's example, which `cargo test --lib` does not run.
    #[test]
    fn module_example() {
        let mut b = batch();
        b.lot = "A1/2".into();
        let doc = export(
            &b,
            &[entry(T0, EpcisStep::Commissioning { quantity: 100 }, None)],
        );
        let event = &doc["epcisBody"]["eventList"][0];
        assert_eq!(
            event["quantityList"][0]["epcClass"],
            "https://id.gs1.org/01/09506000134352/10/A1%2F2"
        );
        assert_eq!(event["eventTime"], "2026-03-01T08:00:00Z");
        assert!(event["eventID"]
            .as_str()
            .unwrap()
            .starts_with("ni:///sha-256;"));
    }

    /// Some event-hash implementations expand an extension value that is a bare CBV term to its
    /// URI and some do not; so that every one computes the same IDs, no extension value is one.
    #[test]
    fn extension_values_are_not_cbv_terms() {
        // CBV 2.0's business steps, dispositions and source/destination types (the enums of
        // GS1's EPCIS 2.0 JSON Schema).
        const CBV: &str = "accepting arriving assembling collecting commissioning consigning \
            creating_class_instance cycle_counting decommissioning departing destroying \
            disassembling dispensing encoding entering_exiting holding inspecting installing \
            killing loading other packing picking receiving removing repackaging repairing \
            replacing reserving retail_selling shipping staging_outbound stock_taking stocking \
            storing transporting unloading unpacking void_shipping sensor_reporting sampling \
            active container_closed damaged destroyed dispensed disposed encoded expired \
            in_progress in_transit inactive no_pedigree_match non_sellable_other \
            partially_dispensed recalled reserved retail_sold returned sellable_accessible \
            sellable_not_accessible stolen unknown available completeness_verified \
            completeness_inferred conformant container_open mismatch_instance mismatch_class \
            mismatch_quantity needs_replacement non_conformant unavailable owning_party \
            possessing_party location";
        let doc = export(&batch(), &realistic_history());
        for e in events(&doc) {
            for (key, value) in e.as_object().into_iter().flatten() {
                if let (true, Some(v)) = (key.starts_with("careledger:"), value.as_str()) {
                    assert!(!CBV.split_whitespace().any(|t| t == v), "{key}: {v}");
                }
            }
        }
    }

    #[test]
    fn deterministic() {
        let a = serde_json::to_string(&export(&batch(), &realistic_history())).unwrap();
        let b = serde_json::to_string(&export(&batch().clone(), &realistic_history())).unwrap();
        assert_eq!(a, b);
        // Input order is event order.
        let mut reversed = realistic_history();
        reversed.reverse();
        let doc = export(&batch(), &reversed);
        let forward = export(&batch(), &realistic_history());
        let ids = |d: &Value| -> Vec<String> {
            events(d)
                .iter()
                .map(|e| e["eventID"].as_str().unwrap_or_default().to_owned())
                .collect()
        };
        let mut back = ids(&doc);
        back.reverse();
        assert_eq!(back, ids(&forward));
        // Same content, same ID; any change to the content, another ID.
        let one = |tx: Option<u8>| {
            export(
                &batch(),
                &[entry(T0, EpcisStep::Commissioning { quantity: 100 }, tx)],
            )
        };
        assert_eq!(ids(&one(Some(1))), ids(&one(Some(1))));
        assert_ne!(ids(&one(Some(1))), ids(&one(Some(2))));
        assert_ne!(ids(&one(Some(1))), ids(&one(None)));
    }

    #[test]
    fn empty_history_and_edge_inputs() {
        let doc = export(&batch(), &[]);
        assert_eq!(doc["creationDate"], "1970-01-01T00:00:00Z");
        assert_eq!(events(&doc).len(), 0);
        // A GTIN-13 is zero-padded, the lot percent-encoded byte by byte.
        let mut b = batch();
        b.gtin = "9506000134352".into();
        b.lot = " A~b.c_d-é+%".into();
        assert_eq!(
            class_uri(&b),
            "https://id.gs1.org/01/09506000134352/10/A~b.c_d-%C3%A9%2B%25"
        );
        // Times out of range are clamped into what RFC 3339 can write.
        let doc = export(
            &batch(),
            &[
                entry(-5, EpcisStep::Commissioning { quantity: 1 }, None),
                entry(i64::MAX, EpcisStep::Commissioning { quantity: 1 }, None),
            ],
        );
        assert_eq!(events(&doc)[0]["eventTime"], "1970-01-01T00:00:00Z");
        assert_eq!(events(&doc)[1]["eventTime"], "9999-12-31T23:59:59Z");
        assert_eq!(doc["creationDate"], "9999-12-31T23:59:59Z");
    }

    /// The pre-hash string of a shipping event, as epcis2.js 2.7.3 (`eventToPreHashedString`)
    /// computes it for the same JSON event; tests/epcis/check.mjs recomputes every ID of the
    /// fixture with that library.
    #[test]
    fn prehash_matches_the_cbv_rules() {
        let doc = export(&batch(), &history());
        let ship = event_of(&batch(), &class_uri(&batch()), &history()[1]);
        let expected = format!(
            "eventType=ObjectEvent\
             eventTime=2026-03-02T08:00:00.000Z\
             eventTimeZoneOffset=+00:00\
             quantityListquantityElementepcClass=https://id.gs1.org/01/09506000134352/10/LOT%2042%2FAquantity=40\
             action=OBSERVE\
             bizStep=https://ref.gs1.org/cbv/BizStep-shipping\
             disposition=https://ref.gs1.org/cbv/Disp-in_transit\
             sourceListtype=https://ref.gs1.org/cbv/SDT-owning_partysource=did:sol:{MANUFACTURER}\
             destinationListtype=https://ref.gs1.org/cbv/SDT-owning_partydestination=did:sol:{WHOLESALER}\
             {{https://careledger.invalid/epcis#}}epcisHash={}\
             {{https://careledger.invalid/epcis#}}transaction={}",
            "ab".repeat(32),
            signature(2),
        );
        assert_eq!(ship.prehash(), expected);
        assert_eq!(events(&doc)[1]["eventID"], event_id(&expected));
        let commission = event_of(&batch(), &class_uri(&batch()), &history()[0]);
        assert!(commission.prehash().contains(
            "disposition=https://ref.gs1.org/cbv/Disp-active\
             ilmd{urn:epcglobal:cbv:mda:}itemExpirationDate=2027-12-31\
             {https://careledger.invalid/epcis#}by="
        ));
        // The SHA-256 of a known string, written as an ni URI.
        assert_eq!(
            event_id("abc"),
            "ni:///sha-256;ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\
             ?ver=CBV2.0"
        );
    }

    /// Writes the fixtures that tests/epcis/check.mjs validates in CI: a realistic history, and
    /// a document that must be rejected (an action EPCIS does not have, an event without its
    /// eventTime).
    #[test]
    fn writes_ci_fixtures() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/epcis-fixture");
        std::fs::create_dir_all(&dir).expect("create target/epcis-fixture");
        let doc = export(&batch(), &realistic_history());
        let pretty = serde_json::to_string_pretty(&doc).expect("serialize") + "\n";
        std::fs::write(dir.join("history.json"), pretty).expect("write history.json");

        let mut invalid = doc;
        let first = invalid["epcisBody"]["eventList"][0]
            .as_object_mut()
            .expect("an event");
        first.insert("action".into(), "MAYBE".into());
        first.remove("eventTime");
        let pretty = serde_json::to_string_pretty(&invalid).expect("serialize") + "\n";
        std::fs::write(dir.join("invalid.json"), pretty).expect("write invalid.json");
    }
}
