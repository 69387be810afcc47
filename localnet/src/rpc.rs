//! The JSON-RPC methods, in the shapes Agave's RPC service gives them: the request and response
//! types are Agave's client types (`solana-rpc-client-types`, `solana-transaction-status-client-
//! types`, `solana-account-decoder`), and dispatch, batches and the protocol errors (-32700,
//! -32600, -32601, -32602) are `jsonrpc-core`'s, the library Agave's own RPC service uses.
use crate::chain::{Chain, Refusal, Simulation, TimeTravel, TxRecord};
use crate::params::{arg, args, encode_account, invalid, optional_arg, token_decimals, FromParam};
use base64::prelude::{Engine, BASE64_STANDARD};
use jsonrpc_core::{Error, IoHandler, Params, Value};
use serde::Serialize;
use solana_account::Account;
use solana_account_decoder::parse_account_data::SplTokenAdditionalDataV2;
use solana_account_decoder::parse_token::parse_token_v3;
use solana_account_decoder_client_types::token::TokenAccountType;
use solana_account_decoder_client_types::{UiAccount, UiAccountEncoding, UiDataSliceConfig};
use solana_hash::Hash;
use solana_message::VersionedMessage;
use solana_pubkey::Pubkey;
use solana_rpc_client_api::custom_error::RpcCustomError;
use solana_rpc_client_types::config::{
    RpcAccountInfoConfig, RpcContextConfig, RpcProgramAccountsConfig, RpcSendTransactionConfig,
    RpcSignatureStatusConfig, RpcSignaturesForAddressConfig, RpcSimulateTransactionConfig,
    RpcTransactionConfig,
};
use solana_rpc_client_types::filter::RpcFilterType;
use solana_rpc_client_types::response::{
    OptionalContext, Response, RpcBlockhash, RpcConfirmedTransactionStatusWithSignature,
    RpcKeyedAccount, RpcPrioritizationFee, RpcResponseContext, RpcSimulateTransactionResult,
};
use solana_signature::Signature;
use solana_transaction::versioned::{Legacy, TransactionVersion, VersionedTransaction};
use solana_transaction_status_client_types::option_serializer::OptionSerializer;
use solana_transaction_status_client_types::{
    EncodedConfirmedTransactionWithStatusMeta, EncodedTransaction,
    EncodedTransactionWithStatusMeta, InnerInstruction, InnerInstructions,
    TransactionBinaryEncoding, TransactionConfirmationStatus, TransactionStatus,
    TransactionStatusMeta, UiAddressTableLookup, UiCompiledInstruction, UiInnerInstructions,
    UiMessage, UiRawMessage, UiReturnDataEncoding, UiTransaction, UiTransactionEncoding,
    UiTransactionReturnData, UiTransactionStatusMeta,
};
use std::sync::{Mutex, MutexGuard};

/// The largest serialized transaction a node accepts (`PACKET_DATA_SIZE`).
const PACKET_DATA_SIZE: usize = 1232;
/// Agave's limits: keys per `getMultipleAccounts`, signatures per `getSignatureStatuses`,
/// entries per `getSignaturesForAddress`, filters per `getProgramAccounts`.
const MAX_MULTIPLE_ACCOUNTS: usize = 100;
const MAX_SIGNATURE_STATUSES: usize = 256;
const MAX_SIGNATURES_FOR_ADDRESS: usize = 1000;
const MAX_FILTERS: usize = 4;
/// base58 is only for small data, as on a node.
const MAX_BASE58_BYTES: usize = 128;

/// The node: the chain behind one lock (transactions execute one at a time, as LiteSVM needs).
pub struct Node {
    chain: Mutex<Chain>,
}

impl Node {
    pub fn new(chain: Chain) -> Node {
        Node {
            chain: Mutex::new(chain),
        }
    }

    /// The chain; a panic while it was held does not make it unusable (every change is applied
    /// whole or not at all by LiteSVM).
    pub fn lock(&self) -> MutexGuard<'_, Chain> {
        self.chain.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn json<T: Serialize>(value: T) -> Result<Value, Error> {
    serde_json::to_value(value).map_err(|_| Error::internal_error())
}

fn context<T>(chain: &Chain, value: T) -> Response<T> {
    Response {
        context: RpcResponseContext::new(chain.slot()),
        value,
    }
}

fn check_encoding(
    encoding: UiAccountEncoding,
    slice: Option<UiDataSliceConfig>,
    len: usize,
) -> Result<(), Error> {
    let sliced = slice.map_or(len, |s| s.length.min(len.saturating_sub(s.offset)));
    if matches!(
        encoding,
        UiAccountEncoding::Binary | UiAccountEncoding::Base58
    ) && sliced > MAX_BASE58_BYTES
    {
        return Err(invalid(
            "Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding.",
        ));
    }
    Ok(())
}

fn account_value(
    chain: &Chain,
    address: &Pubkey,
    config: &RpcAccountInfoConfig,
    default: UiAccountEncoding,
) -> Result<Option<UiAccount>, Error> {
    let encoding = config.encoding.unwrap_or(default);
    match chain.account(address) {
        None => Ok(None),
        Some(account) => {
            check_encoding(encoding, config.data_slice, account.data.len())?;
            Ok(Some(encode_account(
                chain.svm(),
                address,
                &account,
                encoding,
                config.data_slice,
            )))
        }
    }
}

/// Decodes a wire transaction as `sendTransaction` and `simulateTransaction` receive it.
fn decode_transaction(
    data: &str,
    encoding: Option<UiTransactionEncoding>,
) -> Result<VersionedTransaction, Error> {
    let encoding = encoding.unwrap_or(UiTransactionEncoding::Base58);
    let bytes = match encoding {
        UiTransactionEncoding::Base58 => bs58::decode(data)
            .into_vec()
            .map_err(|e| invalid(format!("invalid base58 encoding: {e}")))?,
        UiTransactionEncoding::Base64 => BASE64_STANDARD
            .decode(data)
            .map_err(|e| invalid(format!("invalid base64 encoding: {e}")))?,
        other => {
            return Err(invalid(format!(
                "unsupported encoding: {other}. Supported encodings: base58, base64"
            )))
        }
    };
    if bytes.len() > PACKET_DATA_SIZE {
        return Err(invalid(format!(
            "decoded solana_transaction::versioned::VersionedTransaction too large: {} bytes (max: {PACKET_DATA_SIZE} bytes)",
            bytes.len()
        )));
    }
    bincode::deserialize(&bytes).map_err(|e| {
        invalid(format!(
            "failed to deserialize solana_transaction::versioned::VersionedTransaction: {e}"
        ))
    })
}

fn ui_inner(
    inner: &[Vec<solana_message::inner_instruction::InnerInstruction>],
) -> Vec<InnerInstructions> {
    inner
        .iter()
        .enumerate()
        .filter(|(_, group)| !group.is_empty())
        .map(|(index, group)| InnerInstructions {
            index: u8::try_from(index).unwrap_or(u8::MAX),
            instructions: group
                .iter()
                .map(|ix| InnerInstruction {
                    instruction: ix.instruction.clone(),
                    stack_height: Some(u32::from(ix.stack_height)),
                })
                .collect(),
        })
        .collect()
}

fn ui_return_data(data: &Option<(Pubkey, Vec<u8>)>) -> Option<UiTransactionReturnData> {
    data.as_ref()
        .map(|(program, bytes)| UiTransactionReturnData {
            program_id: program.to_string(),
            data: (BASE64_STANDARD.encode(bytes), UiReturnDataEncoding::Base64),
        })
}

fn simulation_result(
    chain: &Chain,
    sim: Simulation,
    account_encoding: Option<UiAccountEncoding>,
    addresses: &[Pubkey],
    inner: bool,
) -> RpcSimulateTransactionResult {
    let accounts = account_encoding.map(|encoding| {
        sim.accounts
            .iter()
            .zip(addresses)
            .map(|(account, address)| {
                account
                    .as_ref()
                    .map(|a| encode_account(chain.svm(), address, a, encoding, None))
            })
            .collect()
    });
    RpcSimulateTransactionResult {
        err: sim.result.clone().err().map(Into::into),
        logs: Some(sim.logs.clone()),
        accounts,
        units_consumed: sim.compute_units,
        loaded_accounts_data_size: None,
        return_data: ui_return_data(&sim.return_data),
        inner_instructions: inner.then(|| {
            ui_inner(&sim.inner_instructions)
                .into_iter()
                .map(UiInnerInstructions::from)
                .collect()
        }),
        replacement_blockhash: sim
            .replacement_blockhash
            .map(|(hash, last_valid)| RpcBlockhash {
                blockhash: hash.to_string(),
                last_valid_block_height: last_valid,
            }),
        fee: Some(sim.fee),
        pre_balances: None,
        post_balances: None,
        pre_token_balances: None,
        post_token_balances: None,
        loaded_addresses: None,
    }
}

fn refusal(chain: &Chain, refused: Refusal) -> Error {
    match refused {
        Refusal::Malformed(message) => invalid(message),
        Refusal::SignatureFailure => RpcCustomError::TransactionSignatureVerificationFailure.into(),
        Refusal::Preflight(sim) => {
            let message = match &sim.result {
                Err(err) => format!("Transaction simulation failed: {err}"),
                Ok(()) => "Transaction simulation failed".to_string(),
            };
            RpcCustomError::SendTransactionPreflightFailure {
                message,
                result: simulation_result(chain, *sim, None, &[], false),
            }
            .into()
        }
    }
}

fn transaction_status(record: &TxRecord) -> TransactionStatus {
    TransactionStatus {
        slot: record.slot,
        // final at once: rooted
        confirmations: None,
        status: record.status.clone(),
        err: record.status.clone().err(),
        confirmation_status: Some(TransactionConfirmationStatus::Finalized),
    }
}

fn encode_transaction(
    record: &TxRecord,
    config: &RpcTransactionConfig,
) -> Result<EncodedConfirmedTransactionWithStatusMeta, Error> {
    let tx = &record.transaction;
    let version = match (&tx.message, config.max_supported_transaction_version) {
        (VersionedMessage::Legacy(_), None) => None,
        (VersionedMessage::Legacy(_), Some(_)) => Some(TransactionVersion::Legacy(Legacy::Legacy)),
        (VersionedMessage::V0(_), Some(_)) => Some(TransactionVersion::Number(0)),
        (VersionedMessage::V0(_), _) => {
            return Err(RpcCustomError::UnsupportedTransactionVersion(0).into())
        }
    };
    let encoding = config.encoding.unwrap_or(UiTransactionEncoding::Json);
    let transaction = match encoding {
        UiTransactionEncoding::Json => {
            let message = &tx.message;
            EncodedTransaction::Json(UiTransaction {
                signatures: tx.signatures.iter().map(|s| s.to_string()).collect(),
                message: UiMessage::Raw(UiRawMessage {
                    header: *message.header(),
                    account_keys: message
                        .static_account_keys()
                        .iter()
                        .map(|k| k.to_string())
                        .collect(),
                    recent_blockhash: message.recent_blockhash().to_string(),
                    instructions: message
                        .instructions()
                        .iter()
                        .map(|ix| UiCompiledInstruction::from(ix, None))
                        .collect(),
                    address_table_lookups: message
                        .address_table_lookups()
                        .map(|l| l.iter().map(UiAddressTableLookup::from).collect()),
                }),
            })
        }
        UiTransactionEncoding::Base64 => EncodedTransaction::Binary(
            BASE64_STANDARD.encode(bincode::serialize(tx).map_err(|_| Error::internal_error())?),
            TransactionBinaryEncoding::Base64,
        ),
        UiTransactionEncoding::Base58 | UiTransactionEncoding::Binary => {
            EncodedTransaction::Binary(
                bs58::encode(bincode::serialize(tx).map_err(|_| Error::internal_error())?)
                    .into_string(),
                TransactionBinaryEncoding::Base58,
            )
        }
        UiTransactionEncoding::JsonParsed => return Err(invalid(
            "careledger localnet encodes transactions as json, base64 or base58, not jsonParsed",
        )),
    };
    let meta = TransactionStatusMeta {
        status: record.status.clone(),
        fee: record.fee,
        pre_balances: record.pre_balances.clone(),
        post_balances: record.post_balances.clone(),
        inner_instructions: Some(ui_inner(&record.inner_instructions)),
        log_messages: Some(record.logs.clone()),
        pre_token_balances: None,
        post_token_balances: None,
        rewards: Some(Vec::new()),
        compute_units_consumed: record.compute_units,
        ..TransactionStatusMeta::default()
    };
    let mut meta = UiTransactionStatusMeta::from(meta);
    if let Some(data) = ui_return_data(&record.return_data) {
        meta.return_data = OptionSerializer::Some(data);
    }
    Ok(EncodedConfirmedTransactionWithStatusMeta {
        slot: record.slot,
        transaction: EncodedTransactionWithStatusMeta {
            transaction,
            meta: Some(meta),
            version,
        },
        block_time: Some(record.block_time),
    })
}

fn filter_matches(filter: &RpcFilterType, account: &Account) -> bool {
    match filter {
        RpcFilterType::DataSize(size) => account.data.len() as u64 == *size,
        RpcFilterType::Memcmp(memcmp) => memcmp.bytes_match(&account.data),
        RpcFilterType::TokenAccountState => {
            matches!(
                parse_token_v3(
                    &account.data,
                    Some(&SplTokenAdditionalDataV2::with_decimals(0))
                ),
                Ok(TokenAccountType::Account(_))
            )
        }
    }
}

/// The version this server reports: the Agave version of its runtime, and its own name.
fn version() -> Value {
    serde_json::json!({
        "solana-core": "3.1.12",
        "feature-set": 0u32,
        "careledger-localnet": env!("CARGO_PKG_VERSION"),
    })
}

/// The methods, over one node.
pub fn methods(node: std::sync::Arc<Node>) -> IoHandler {
    let mut io = IoHandler::default();
    macro_rules! method {
        ($name:expr, |$args:ident, $chain:ident| $body:expr) => {{
            let node = node.clone();
            io.add_method($name, move |params: Params| {
                let node = node.clone();
                async move {
                    let $args = args(params)?;
                    #[allow(unused_mut)]
                    let mut $chain = node.lock();
                    $body
                }
            });
        }};
    }

    method!("getHealth", |_a, _c| Ok(Value::from("ok")));
    method!("getVersion", |_a, _c| Ok(version()));
    method!("getGenesisHash", |_a, c| Ok(Value::from(
        c.genesis_hash().to_string()
    )));
    method!("getSlot", |_a, c| Ok(Value::from(c.slot())));
    method!("getBlockHeight", |_a, c| Ok(Value::from(c.block_height())));
    method!("getTransactionCount", |_a, c| Ok(Value::from(
        c.transaction_count()
    )));
    method!("getEpochSchedule", |_a, c| json(c.schedule()));
    method!("getEpochInfo", |_a, c| {
        let (epoch, slot_index) = c.schedule().get_epoch_and_slot_index(c.slot());
        json(solana_epoch_info::EpochInfo {
            epoch,
            slot_index,
            slots_in_epoch: c.schedule().get_slots_in_epoch(epoch),
            absolute_slot: c.slot(),
            block_height: c.block_height(),
            transaction_count: Some(c.transaction_count()),
        })
    });
    method!("getLatestBlockhash", |a, c| {
        let _config: Option<RpcContextConfig> = optional_arg(&a, 0, "config")?;
        let (hash, last_valid) = c.latest_blockhash();
        json(context(
            &c,
            RpcBlockhash {
                blockhash: hash.to_string(),
                last_valid_block_height: last_valid,
            },
        ))
    });
    method!("isBlockhashValid", |a, c| {
        let hash: Hash = arg(&a, 0, "blockhash")?;
        json(context(&c, c.is_blockhash_valid(&hash)))
    });
    method!("getFeeForMessage", |a, c| {
        let data: String = arg(&a, 0, "message")?;
        let bytes = BASE64_STANDARD
            .decode(&data)
            .map_err(|e| invalid(format!("invalid base64 encoding: {e}")))?;
        let message: VersionedMessage =
            bincode::deserialize(&bytes).map_err(|e| invalid(format!("invalid message: {e}")))?;
        message
            .sanitize()
            .map_err(|e| invalid(format!("invalid message: {e}")))?;
        json(context(&c, c.fee_for(message)))
    });
    method!("getMinimumBalanceForRentExemption", |a, c| {
        let len: usize = arg(&a, 0, "data length")?;
        Ok(Value::from(c.minimum_balance(len)))
    });
    method!("getRecentPrioritizationFees", |_a, c| json(vec![
        RpcPrioritizationFee {
            slot: c.slot(),
            prioritization_fee: 0,
        }
    ]));
    method!("getBalance", |a, c| {
        let address: Pubkey = arg(&a, 0, "account address")?;
        let lamports = c.account(&address).map_or(0, |acc| acc.lamports);
        json(context(&c, lamports))
    });
    method!("getAccountInfo", |a, c| {
        let address: Pubkey = arg(&a, 0, "account address")?;
        let config: RpcAccountInfoConfig = optional_arg(&a, 1, "config")?.unwrap_or_default();
        let value = account_value(&c, &address, &config, UiAccountEncoding::Binary)?;
        json(context(&c, value))
    });
    method!("getMultipleAccounts", |a, c| {
        let keys: Vec<String> = arg(&a, 0, "account addresses")?;
        if keys.len() > MAX_MULTIPLE_ACCOUNTS {
            return Err(invalid(format!(
                "Too many inputs provided; max {MAX_MULTIPLE_ACCOUNTS}"
            )));
        }
        let config: RpcAccountInfoConfig = optional_arg(&a, 1, "config")?.unwrap_or_default();
        let mut values = Vec::with_capacity(keys.len());
        for key in &keys {
            let address: Pubkey =
                FromParam::from_param(&Value::from(key.as_str()), "account address")?;
            values.push(account_value(
                &c,
                &address,
                &config,
                UiAccountEncoding::Base64,
            )?);
        }
        json(context(&c, values))
    });
    method!("getProgramAccounts", |a, c| {
        let program: Pubkey = arg(&a, 0, "program id")?;
        let config: RpcProgramAccountsConfig = optional_arg(&a, 1, "config")?.unwrap_or_default();
        let filters = config.filters.unwrap_or_default();
        if filters.len() > MAX_FILTERS {
            return Err(invalid(format!(
                "Too many filters provided; max {MAX_FILTERS}"
            )));
        }
        for filter in &filters {
            filter
                .verify()
                .map_err(|e| invalid(format!("Invalid param: {e:?}")))?;
        }
        let encoding = config
            .account_config
            .encoding
            .unwrap_or(UiAccountEncoding::Binary);
        let mut found = Vec::new();
        for (address, account) in c.owned_by(&program) {
            if filters.iter().all(|f| filter_matches(f, &account)) {
                check_encoding(
                    encoding,
                    config.account_config.data_slice,
                    account.data.len(),
                )?;
                found.push(RpcKeyedAccount {
                    pubkey: address.to_string(),
                    account: encode_account(
                        c.svm(),
                        &address,
                        &account,
                        encoding,
                        config.account_config.data_slice,
                    ),
                });
            }
        }
        if config.with_context.unwrap_or(false) {
            json(OptionalContext::Context(context(&c, found)))
        } else {
            json(OptionalContext::NoContext(found))
        }
    });
    method!("getTokenAccountBalance", |a, c| {
        let address: Pubkey = arg(&a, 0, "token account address")?;
        let not_token = || invalid("Invalid param: not a Token account");
        let account = c.account(&address).ok_or_else(not_token)?;
        if ![spl_token_program(), spl_token_2022_program()].contains(&account.owner) {
            return Err(not_token());
        }
        let decimals = token_decimals(c.svm(), &account)
            .ok_or_else(|| invalid("Invalid param: could not find mint"))?;
        match parse_token_v3(
            &account.data,
            Some(&SplTokenAdditionalDataV2::with_decimals(decimals)),
        ) {
            Ok(TokenAccountType::Account(token)) => json(context(&c, token.token_amount)),
            _ => Err(not_token()),
        }
    });
    method!("getSignatureStatuses", |a, c| {
        let signatures: Vec<String> = arg(&a, 0, "signatures")?;
        if signatures.len() > MAX_SIGNATURE_STATUSES {
            return Err(invalid(format!(
                "Too many inputs provided; max {MAX_SIGNATURE_STATUSES}"
            )));
        }
        let _config: Option<RpcSignatureStatusConfig> = optional_arg(&a, 1, "config")?;
        let mut statuses = Vec::with_capacity(signatures.len());
        for text in &signatures {
            let signature: Signature =
                FromParam::from_param(&Value::from(text.as_str()), "signature")?;
            statuses.push(c.transaction(&signature).map(|r| transaction_status(&r)));
        }
        json(context(&c, statuses))
    });
    method!("getSignaturesForAddress", |a, c| {
        let address: Pubkey = arg(&a, 0, "account address")?;
        let config: RpcSignaturesForAddressConfig =
            optional_arg(&a, 1, "config")?.unwrap_or_default();
        let limit = config.limit.unwrap_or(MAX_SIGNATURES_FOR_ADDRESS);
        if limit == 0 || limit > MAX_SIGNATURES_FOR_ADDRESS {
            return Err(invalid(format!(
                "Invalid limit; max {MAX_SIGNATURES_FOR_ADDRESS}"
            )));
        }
        let parse = |s: &Option<String>, what| -> Result<Option<Signature>, Error> {
            s.as_ref()
                .map(|t| FromParam::from_param(&Value::from(t.as_str()), what))
                .transpose()
        };
        let before = parse(&config.before, "before")?;
        let until = parse(&config.until, "until")?;
        let list: Vec<RpcConfirmedTransactionStatusWithSignature> = c
            .signatures_for(&address, before.as_ref(), until.as_ref(), limit)
            .iter()
            .map(|r| RpcConfirmedTransactionStatusWithSignature {
                signature: r.signature.to_string(),
                slot: r.slot,
                err: r.status.clone().err().map(Into::into),
                memo: None,
                block_time: Some(r.block_time),
                confirmation_status: Some(TransactionConfirmationStatus::Finalized),
            })
            .collect();
        json(list)
    });
    method!("getTransaction", |a, c| {
        let signature: Signature = arg(&a, 0, "signature")?;
        let config = match a.get(1) {
            // the deprecated form: the encoding alone
            Some(Value::String(_)) => RpcTransactionConfig {
                encoding: Some(
                    serde_json::from_value(a[1].clone())
                        .map_err(|e| invalid(format!("Invalid params: encoding: {e}")))?,
                ),
                ..RpcTransactionConfig::default()
            },
            _ => optional_arg(&a, 1, "config")?.unwrap_or_default(),
        };
        let record = c.transaction(&signature);
        // encoded outside the lock: other requests need not wait for it
        drop(c);
        match record {
            None => Ok(Value::Null),
            Some(record) => json(encode_transaction(&record, &config)?),
        }
    });
    method!("requestAirdrop", |a, c| {
        let address: Pubkey = arg(&a, 0, "account address")?;
        let lamports: u64 = arg(&a, 1, "lamports")?;
        let signature = c.airdrop(&address, lamports).map_err(|r| refusal(&c, r))?;
        Ok(Value::from(signature.to_string()))
    });
    method!("sendTransaction", |a, c| {
        let data: String = arg(&a, 0, "transaction")?;
        let config: RpcSendTransactionConfig = optional_arg(&a, 1, "config")?.unwrap_or_default();
        let tx = decode_transaction(&data, config.encoding)?;
        let signature = c
            .send(tx, !config.skip_preflight)
            .map_err(|r| refusal(&c, r))?;
        Ok(Value::from(signature.to_string()))
    });
    method!("simulateTransaction", |a, c| {
        let data: String = arg(&a, 0, "transaction")?;
        let config: RpcSimulateTransactionConfig =
            optional_arg(&a, 1, "config")?.unwrap_or_default();
        if config.sig_verify && config.replace_recent_blockhash {
            return Err(invalid(
                "sigVerify may not be used with replaceRecentBlockhash",
            ));
        }
        let tx = decode_transaction(&data, config.encoding)?;
        let (encoding, addresses) = match &config.accounts {
            None => (None, Vec::new()),
            Some(accounts) => {
                let mut addresses = Vec::new();
                for text in &accounts.addresses {
                    addresses.push(FromParam::from_param(
                        &Value::from(text.as_str()),
                        "accounts.addresses",
                    )?);
                }
                (
                    Some(accounts.encoding.unwrap_or(UiAccountEncoding::Base64)),
                    addresses,
                )
            }
        };
        let sim = match c.simulate(
            tx,
            config.sig_verify,
            config.replace_recent_blockhash,
            &addresses,
        ) {
            Ok(sim) => sim,
            Err(Refusal::Malformed(message)) => return Err(invalid(message)),
            Err(r) => return Err(refusal(&c, r)),
        };
        let result = simulation_result(&c, sim, encoding, &addresses, config.inner_instructions);
        json(context(&c, result))
    });
    method!("surfnet_setAccount", |a, c| {
        // Surfpool's parameters: the address, then the fields to set (data in hex)
        let address: Pubkey = arg(&a, 0, "account address")?;
        let update: serde_json::Map<String, Value> = arg(&a, 1, "account update")?;
        let mut account = c.account(&address).unwrap_or_default();
        for (key, value) in &update {
            let bad = || invalid(format!("Invalid params: {key}"));
            match key.as_str() {
                "lamports" => account.lamports = value.as_u64().ok_or_else(bad)?,
                "data" => {
                    account.data = from_hex(value.as_str().ok_or_else(bad)?).ok_or_else(bad)?
                }
                "owner" => account.owner = FromParam::from_param(value, "owner")?,
                "executable" => account.executable = value.as_bool().ok_or_else(bad)?,
                "rentEpoch" => account.rent_epoch = value.as_u64().ok_or_else(bad)?,
                other => return Err(invalid(format!("Invalid params: unknown field {other}"))),
            }
        }
        c.set_account(address, account).map_err(invalid)?;
        json(context(&c, Value::Null))
    });
    method!("surfnet_timeTravel", |a, c| {
        let config: serde_json::Map<String, Value> = arg(&a, 0, "time travel config")?;
        let number = |key: &str| {
            config.get(key).map(|v| {
                v.as_u64().ok_or_else(|| {
                    invalid(format!(
                        "Invalid params: {key} must be a non-negative integer"
                    ))
                })
            })
        };
        let to = match (
            number("absoluteTimestamp"),
            number("absoluteSlot"),
            number("absoluteEpoch"),
        ) {
            (Some(ms), None, None) => TimeTravel::Timestamp(i64::try_from(ms?).map_err(|_| invalid("Invalid params: absoluteTimestamp is too large"))?),
            (None, Some(slot), None) => TimeTravel::Slot(slot?),
            (None, None, Some(epoch)) => TimeTravel::Epoch(epoch?),
            _ => {
                return Err(invalid(
                    "Invalid params: give exactly one of absoluteTimestamp (unix ms), absoluteSlot or absoluteEpoch",
                ))
            }
        };
        c.time_travel(to).map_err(invalid)?;
        let (epoch, slot_index) = c.schedule().get_epoch_and_slot_index(c.slot());
        json(solana_epoch_info::EpochInfo {
            epoch,
            slot_index,
            slots_in_epoch: c.schedule().get_slots_in_epoch(epoch),
            absolute_slot: c.slot(),
            block_height: c.block_height(),
            transaction_count: Some(c.transaction_count()),
        })
    });
    io
}

/// Hex as Surfpool's `surfnet_setAccount` takes account data (an even number of digits).
fn from_hex(text: &str) -> Option<Vec<u8>> {
    let text = text.strip_prefix("0x").unwrap_or(text);
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn spl_token_program() -> Pubkey {
    solana_pubkey::pubkey!("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
}

fn spl_token_2022_program() -> Pubkey {
    solana_pubkey::pubkey!("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
}
