//! did:sol identifiers and their DID documents.
//!
//! Every Solana address is a DID of the did:sol method (Identity.com): `did:sol:<base58
//! address>` for mainnet, `did:sol:<network>:<base58 address>` for another cluster. Its
//! *generative* DID document is derived from the address alone (the address is the DID's Ed25519
//! key) and needs nothing on chain; this module renders that document and never reads a did:sol
//! account, so a DID whose owner initialised a did:sol account on chain (added keys or
//! services) is still rendered in its generative form here.
//!
//! careledger's rendering differs from the did:sol reference resolver in two deliberate ways,
//! both about the one `#default` method that both documents have:
//!
//! - its type is `Multikey` with `publicKeyMultibase` (`z6Mk...`: base58btc of the multicodec
//!   `ed25519-pub` prefix and the key), the form the W3C Data Integrity EdDSA cryptosuites
//!   resolve, where the reference resolver writes `Ed25519VerificationKey2018` with
//!   `publicKeyBase58`. The key bytes are the same;
//! - it is listed under `authentication` and `assertionMethod` as well as
//!   `capabilityInvocation` (the reference resolver lists it under `capabilityInvocation`
//!   only), because a credential verifier accepts a proof only from a method in the issuer's
//!   `assertionMethod`, and the wallet key is the only key a generative DID has.
//!
//! A wallet that publishes an X25519 key to receive records under (the `x25519` of its
//! [`careledger::state::EncryptionKey`] account) gets a `#key-agreement` method (`Multikey`, `z6LS...`:
//! multicodec `x25519-pub`) listed under `keyAgreement`.
//!
//! ```
//! use careledger_identity::did::{did_of, document, parse_did};
//! use solana_pubkey::Pubkey;
//!
//! let wallet = Pubkey::new_unique();
//! let did = did_of(&wallet);
//! assert_eq!(parse_did(&did).unwrap(), wallet);
//! let doc = document(&wallet, None);
//! assert_eq!(doc["id"], did.as_str());
//! assert_eq!(doc["assertionMethod"][0], format!("{did}#default").as_str());
//! ```
use std::fmt;

use serde_json::{json, Value};
use solana_pubkey::Pubkey;

/// What every did:sol DID starts with.
pub const DID_SOL_PREFIX: &str = "did:sol:";
/// The fragment of the wallet key's verification method.
pub const DEFAULT_FRAGMENT: &str = "default";
/// The fragment of the X25519 key-agreement method, when a key is published.
pub const KEY_AGREEMENT_FRAGMENT: &str = "key-agreement";
/// The DID Core v1 JSON-LD context.
pub const DID_CONTEXT_V1: &str = "https://www.w3.org/ns/did/v1";
/// The Multikey JSON-LD context.
pub const MULTIKEY_CONTEXT_V1: &str = "https://w3id.org/security/multikey/v1";
/// Multicodec `ed25519-pub` (0xed) as an unsigned varint.
pub const ED25519_PUB_MULTICODEC: [u8; 2] = [0xed, 0x01];
/// Multicodec `x25519-pub` (0xec) as an unsigned varint.
pub const X25519_PUB_MULTICODEC: [u8; 2] = [0xec, 0x01];
/// Most base58 characters a 32-byte address takes.
pub const MAX_ADDRESS_CHARS: usize = 44;

/// The cluster a did:sol DID names; a DID without a network segment is on mainnet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Network {
    Mainnet,
    Testnet,
    Devnet,
    Localnet,
}

impl Network {
    /// The networks a DID may name in its network segment, with their names.
    pub const NAMED: [(&'static str, Network); 3] = [
        ("testnet", Network::Testnet),
        ("devnet", Network::Devnet),
        ("localnet", Network::Localnet),
    ];

    /// The network segment of a DID on this cluster (`None` for mainnet, which has none).
    pub fn segment(self) -> Option<&'static str> {
        Self::NAMED
            .iter()
            .find(|(_, n)| *n == self)
            .map(|(name, _)| *name)
    }
}

/// A parsed did:sol DID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SolDid {
    pub network: Network,
    pub address: Pubkey,
}

impl fmt::Display for SolDid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.network.segment() {
            Some(network) => write!(f, "{DID_SOL_PREFIX}{network}:{}", self.address),
            None => write!(f, "{DID_SOL_PREFIX}{}", self.address),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DidError {
    #[error("empty DID")]
    Empty,
    #[error("`{0}` is not a DID: a DID starts with `did:`")]
    NotADid(String),
    #[error("`{did}` is a did:{method} DID, not did:sol")]
    WrongMethod { did: String, method: String },
    #[error("`{did}` is a DID URL, not a DID: `{found}` starts a path, query or fragment")]
    DidUrl { did: String, found: char },
    #[error("`{did}` has no address after `did:sol:`")]
    MissingAddress { did: String },
    #[error("`{did}` names the unknown network `{network}`: use testnet, devnet or localnet, or no network segment for mainnet")]
    UnknownNetwork { did: String, network: String },
    #[error("`{did}` has too many `:` segments: did:sol:<address> or did:sol:<network>:<address>")]
    TooManySegments { did: String },
    #[error("`{did}`: the address has {len} characters; a 32-byte address has at most {MAX_ADDRESS_CHARS}")]
    AddressTooLong { did: String, len: usize },
    #[error("`{did}`: the address is not base58 ({reason})")]
    NotBase58 { did: String, reason: String },
    #[error("`{did}`: the address decodes to {len} bytes, not 32")]
    WrongAddressLength { did: String, len: usize },
    #[error("`{value}` is not a base58btc multibase value: it must start with `z`")]
    NotBase58Multibase { value: String },
    #[error("`{value}`: {reason}")]
    BadMultikey { value: String, reason: String },
}

/// The DID of `wallet`, in the mainnet form `did:sol:<address>`.
pub fn did_of(wallet: &Pubkey) -> String {
    format!("{DID_SOL_PREFIX}{wallet}")
}

/// The id of the verification method of `wallet`'s own key: `did:sol:<address>#default`.
pub fn default_method(wallet: &Pubkey) -> String {
    format!("{}#{DEFAULT_FRAGMENT}", did_of(wallet))
}

/// The id of the key-agreement method of `wallet`'s DID: `did:sol:<address>#key-agreement`.
pub fn key_agreement_method(wallet: &Pubkey) -> String {
    format!("{}#{KEY_AGREEMENT_FRAGMENT}", did_of(wallet))
}

/// Parses a did:sol DID, with or without a network segment. Strict: lowercase `did:sol:`, a
/// known network if any, a base58 address of exactly 32 bytes, and no path, query or fragment
/// (split a DID URL at `#` first).
pub fn parse(did: &str) -> Result<SolDid, DidError> {
    if did.is_empty() {
        return Err(DidError::Empty);
    }
    let Some(rest) = did.strip_prefix("did:") else {
        return Err(DidError::NotADid(did.to_string()));
    };
    let method = rest.split(':').next().unwrap_or_default();
    if method.is_empty() {
        return Err(DidError::NotADid(did.to_string()));
    }
    if method != "sol" {
        return Err(DidError::WrongMethod {
            did: did.to_string(),
            method: method.to_string(),
        });
    }
    if let Some(found) = did.chars().find(|c| matches!(c, '/' | '?' | '#')) {
        return Err(DidError::DidUrl {
            did: did.to_string(),
            found,
        });
    }
    let rest = &rest[method.len()..];
    let Some(rest) = rest.strip_prefix(':') else {
        return Err(DidError::MissingAddress {
            did: did.to_string(),
        });
    };
    let segments: Vec<&str> = rest.split(':').collect();
    let (network, address) = match segments.as_slice() {
        [address] => (Network::Mainnet, *address),
        [network, address] => {
            let network = Network::NAMED
                .iter()
                .find(|(name, _)| name == network)
                .map(|(_, n)| *n)
                .ok_or_else(|| DidError::UnknownNetwork {
                    did: did.to_string(),
                    network: network.to_string(),
                })?;
            (network, *address)
        }
        _ => {
            return Err(DidError::TooManySegments {
                did: did.to_string(),
            })
        }
    };
    if address.is_empty() {
        return Err(DidError::MissingAddress {
            did: did.to_string(),
        });
    }
    if address.len() > MAX_ADDRESS_CHARS {
        return Err(DidError::AddressTooLong {
            did: did.to_string(),
            len: address.len(),
        });
    }
    let bytes = bs58::decode(address)
        .into_vec()
        .map_err(|e| DidError::NotBase58 {
            did: did.to_string(),
            reason: e.to_string(),
        })?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|b: Vec<u8>| DidError::WrongAddressLength {
            did: did.to_string(),
            len: b.len(),
        })?;
    Ok(SolDid {
        network,
        address: Pubkey::new_from_array(bytes),
    })
}

/// The address a did:sol DID names, on whichever cluster (see [`parse`]).
pub fn parse_did(did: &str) -> Result<Pubkey, DidError> {
    parse(did).map(|d| d.address)
}

fn multibase_key(codec: [u8; 2], key: &[u8; 32]) -> String {
    let mut bytes = Vec::with_capacity(34);
    bytes.extend_from_slice(&codec);
    bytes.extend_from_slice(key);
    format!("z{}", bs58::encode(bytes).into_string())
}

/// `publicKeyMultibase` of an Ed25519 key: `z` + base58btc(0xed 0x01 ‖ key), `z6Mk...`.
pub fn ed25519_multikey(key: &[u8; 32]) -> String {
    multibase_key(ED25519_PUB_MULTICODEC, key)
}

/// `publicKeyMultibase` of an X25519 key: `z` + base58btc(0xec 0x01 ‖ key), `z6LS...`.
pub fn x25519_multikey(key: &[u8; 32]) -> String {
    multibase_key(X25519_PUB_MULTICODEC, key)
}

fn decode_multibase_key(codec: [u8; 2], name: &str, value: &str) -> Result<[u8; 32], DidError> {
    let Some(encoded) = value.strip_prefix('z') else {
        return Err(DidError::NotBase58Multibase {
            value: value.to_string(),
        });
    };
    let bad = |reason: String| DidError::BadMultikey {
        value: value.to_string(),
        reason,
    };
    // 34 bytes take at most 47 base58 characters.
    if encoded.len() > 47 {
        return Err(bad(format!(
            "{} characters is too long for a {name} key",
            encoded.len()
        )));
    }
    let bytes = bs58::decode(encoded)
        .into_vec()
        .map_err(|e| bad(format!("not base58: {e}")))?;
    match bytes.split_first_chunk::<2>() {
        Some((prefix, key)) if *prefix == codec => key
            .try_into()
            .map_err(|_| bad(format!("the {name} key has {} bytes, not 32", key.len()))),
        _ => Err(bad(format!(
            "not a {name} key: it does not start with the multicodec prefix {:02x} {:02x}",
            codec[0], codec[1]
        ))),
    }
}

/// The Ed25519 key of a `publicKeyMultibase` value (the inverse of [`ed25519_multikey`]).
pub fn decode_ed25519_multikey(value: &str) -> Result<[u8; 32], DidError> {
    decode_multibase_key(ED25519_PUB_MULTICODEC, "ed25519-pub", value)
}

/// The X25519 key of a `publicKeyMultibase` value (the inverse of [`x25519_multikey`]).
pub fn decode_x25519_multikey(value: &str) -> Result<[u8; 32], DidError> {
    decode_multibase_key(X25519_PUB_MULTICODEC, "x25519-pub", value)
}

/// The generative DID document of `wallet`'s DID (see the module documentation), with a
/// `#key-agreement` method when the wallet publishes an X25519 key.
pub fn document(wallet: &Pubkey, key_agreement: Option<[u8; 32]>) -> Value {
    let did = did_of(wallet);
    let default = default_method(wallet);
    let mut methods = vec![json!({
        "id": default,
        "type": "Multikey",
        "controller": did,
        "publicKeyMultibase": ed25519_multikey(&wallet.to_bytes()),
    })];
    let mut doc = json!({
        "@context": [DID_CONTEXT_V1, MULTIKEY_CONTEXT_V1],
        "id": did,
        "authentication": [default],
        "assertionMethod": [default],
        "capabilityInvocation": [default],
    });
    if let Some(key) = key_agreement {
        let id = key_agreement_method(wallet);
        methods.push(json!({
            "id": id,
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": x25519_multikey(&key),
        }));
        doc["keyAgreement"] = json!([id]);
    }
    doc["verificationMethod"] = Value::Array(methods);
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    // The address of the fixture authority (see `vc`'s fixture writer).
    fn fixed() -> Pubkey {
        use solana_signer::Signer;
        solana_keypair::Keypair::new_from_array([7; 32]).pubkey()
    }

    #[test]
    fn did_round_trips_on_every_network() {
        for wallet in [Pubkey::new_unique(), Pubkey::default(), fixed()] {
            let did = did_of(&wallet);
            assert!(did.starts_with("did:sol:"));
            assert_eq!(parse_did(&did).unwrap(), wallet);
            let parsed = parse(&did).unwrap();
            assert_eq!(parsed.network, Network::Mainnet);
            assert_eq!(parsed.to_string(), did);
            for (name, network) in Network::NAMED {
                let other = format!("did:sol:{name}:{wallet}");
                let parsed = parse(&other).unwrap();
                assert_eq!(
                    parsed,
                    SolDid {
                        network,
                        address: wallet
                    }
                );
                assert_eq!(parsed.to_string(), other);
            }
        }
        // The all-zero key is 32 `1`s, shorter than the 40 the method's ABNF claims.
        assert_eq!(
            parse_did("did:sol:11111111111111111111111111111111").unwrap(),
            Pubkey::default()
        );
    }

    #[test]
    fn bad_dids_are_refused_with_the_reason() {
        let wallet = Pubkey::new_unique();
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "empty DID"),
            ("sol:abc".into(), "is not a DID: a DID starts with `did:`"),
            ("DID:sol:abc".into(), "is not a DID"),
            ("did:".into(), "is not a DID"),
            ("did::abc".into(), "is not a DID"),
            (format!("did:key:{wallet}"), "is a did:key DID, not did:sol"),
            (format!("did:SOL:{wallet}"), "is a did:SOL DID, not did:sol"),
            (
                format!("did:sol:{wallet}#default"),
                "is a DID URL, not a DID: `#`",
            ),
            (format!("did:sol:{wallet}/path"), "`/` starts a path"),
            (format!("did:sol:{wallet}?q=1"), "`?`"),
            ("did:sol".into(), "has no address after `did:sol:`"),
            ("did:sol:".into(), "has no address"),
            ("did:sol:devnet:".into(), "has no address"),
            (
                format!("did:sol:mainnet:{wallet}"),
                "unknown network `mainnet`",
            ),
            (
                format!("did:sol:devnet:x:{wallet}"),
                "too many `:` segments",
            ),
            (
                "did:sol:0OIl0OIl0OIl0OIl0OIl0OIl0OIl0OIl".into(),
                "is not base58",
            ),
            ("did:sol:abc".into(), "decodes to 3 bytes, not 32"),
            (
                format!("did:sol:{}1", Pubkey::new_from_array([0xff; 32])),
                "has 45 characters",
            ),
            // 44 base58 characters can hold more than 32 bytes.
            (
                format!("did:sol:{}", "z".repeat(44)),
                "decodes to 33 bytes, not 32",
            ),
        ];
        for (did, want) in cases {
            let e = parse(&did).unwrap_err().to_string();
            assert!(e.contains(want), "`{did}`: {e}");
        }
    }

    #[test]
    fn multikeys_have_the_multicodec_prefixes() {
        let key = fixed().to_bytes();
        let ed = ed25519_multikey(&key);
        // Known answers, computed once (and checked against Python's `cryptography`): the
        // fixture authority's address and Multikey, and an X25519 Multikey.
        assert_eq!(
            did_of(&fixed()),
            "did:sol:GmaDrppBC7P5ARKV8g3djiwP89vz1jLK23V2GBjuAEGB"
        );
        assert_eq!(ed, "z6MkvDqGT54cXesYGvABpF1UapVNwjCqRcafi4Px6Thv5T3Z");
        assert!(ed.starts_with("z6Mk"), "{ed}");
        assert_eq!(decode_ed25519_multikey(&ed).unwrap(), key);
        let x = x25519_multikey(&[9; 32]);
        assert_eq!(x, "z6LScHSpp1zxR9PnMCdLTLTDwUAM3aRvmBMXueib1t3vSNg8");
        assert!(x.starts_with("z6LS"), "{x}");
        assert_eq!(decode_x25519_multikey(&x).unwrap(), [9; 32]);
        // The W3C EdDSA cryptosuite test vectors' key, written the same way.
        let w3c =
            decode_ed25519_multikey("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2").unwrap();
        assert_eq!(
            ed25519_multikey(&w3c),
            "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
        );
        for (value, want) in [
            (
                ed.trim_start_matches('z').to_string(),
                "must start with `z`",
            ),
            (x.clone(), "not a ed25519-pub key"),
            ("z0".to_string(), "not base58"),
            (
                format!("z{}", bs58::encode([0xed, 0x01, 1, 2]).into_string()),
                "has 2 bytes",
            ),
            (format!("z{}", "2".repeat(48)), "too long"),
        ] {
            let e = decode_ed25519_multikey(&value).unwrap_err().to_string();
            assert!(e.contains(want), "`{value}`: {e}");
        }
        assert!(decode_x25519_multikey(&ed).is_err());
    }

    #[test]
    fn generative_document() {
        let wallet = fixed();
        let did = did_of(&wallet);
        let default = format!("{did}#default");
        let doc = document(&wallet, None);
        assert_eq!(
            doc,
            json!({
                "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
                "id": did,
                "verificationMethod": [{
                    "id": default,
                    "type": "Multikey",
                    "controller": did,
                    "publicKeyMultibase": "z6MkvDqGT54cXesYGvABpF1UapVNwjCqRcafi4Px6Thv5T3Z",
                }],
                "authentication": [default],
                "assertionMethod": [default],
                "capabilityInvocation": [default],
            })
        );
        assert!(doc.get("keyAgreement").is_none());

        let with_key = document(&wallet, Some([9; 32]));
        let agreement = format!("{did}#key-agreement");
        assert_eq!(with_key["keyAgreement"], json!([agreement]));
        let methods = with_key["verificationMethod"].as_array().unwrap();
        assert_eq!(methods.len(), 2);
        assert_eq!(methods[0], doc["verificationMethod"][0]);
        assert_eq!(methods[1]["id"], agreement.as_str());
        assert_eq!(methods[1]["type"], "Multikey");
        assert_eq!(methods[1]["controller"], did.as_str());
        assert_eq!(
            methods[1]["publicKeyMultibase"],
            x25519_multikey(&[9; 32]).as_str()
        );
        // Every reference names a method of the document.
        for relation in [
            "authentication",
            "assertionMethod",
            "capabilityInvocation",
            "keyAgreement",
        ] {
            for id in with_key[relation].as_array().unwrap() {
                assert!(methods.iter().any(|m| m["id"] == *id), "{relation}: {id}");
            }
        }
    }
}
