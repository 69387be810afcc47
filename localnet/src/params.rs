//! JSON-RPC parameters read as Agave's RPC service reads them (positional, -32602 with a
//! message for a bad one), and accounts encoded as it encodes them: shared by the JSON-RPC and
//! the PubSub servers.
use jsonrpc_core::{Error, Params, Value};
use litesvm::LiteSVM;
use solana_account::Account;
use solana_account_decoder::parse_account_data::{
    AccountAdditionalDataV3, SplTokenAdditionalDataV2,
};
use solana_account_decoder::parse_token::{get_token_account_mint, parse_token_v3};
use solana_account_decoder_client_types::token::TokenAccountType;
use solana_account_decoder_client_types::{UiAccount, UiAccountEncoding, UiDataSliceConfig};
use solana_hash::Hash;
use solana_pubkey::Pubkey;
use solana_rpc_client_types::config::{
    RpcAccountInfoConfig, RpcContextConfig, RpcProgramAccountsConfig, RpcSendTransactionConfig,
    RpcSignatureStatusConfig, RpcSignaturesForAddressConfig, RpcSimulateTransactionConfig,
    RpcTransactionConfig,
};
use solana_signature::Signature;
use std::str::FromStr;

/// -32602 with a message.
pub fn invalid(message: impl Into<String>) -> Error {
    Error::invalid_params(message.into())
}

/// The positional parameters.
pub fn args(params: Params) -> Result<Vec<Value>, Error> {
    match params {
        Params::Array(values) => Ok(values),
        Params::None => Ok(Vec::new()),
        Params::Map(_) => Err(invalid(
            "Invalid params: this method takes its parameters as an array",
        )),
    }
}

/// Parameter `index`, required. Addresses and signatures parse from their base-58 strings.
pub fn arg<T: FromParam>(args: &[Value], index: usize, what: &str) -> Result<T, Error> {
    match args.get(index) {
        None | Some(Value::Null) => Err(invalid(format!(
            "Invalid params: missing parameter {} ({what})",
            index + 1
        ))),
        Some(value) => T::from_param(value, what),
    }
}

/// Parameter `index`, which may be absent or null.
pub fn optional_arg<T: FromParam>(
    args: &[Value],
    index: usize,
    what: &str,
) -> Result<Option<T>, Error> {
    match args.get(index) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => T::from_param(value, what).map(Some),
    }
}

/// How a parameter is read from JSON.
pub trait FromParam: Sized {
    fn from_param(value: &Value, what: &str) -> Result<Self, Error>;
}

macro_rules! serde_param {
    ($($t:ty),*) => {$(
        impl FromParam for $t {
            fn from_param(value: &Value, what: &str) -> Result<Self, Error> {
                serde_json::from_value(value.clone())
                    .map_err(|e| invalid(format!("Invalid params: {what}: {e}")))
            }
        }
    )*};
}

serde_param!(
    u64,
    usize,
    String,
    Vec<String>,
    RpcAccountInfoConfig,
    RpcContextConfig,
    RpcProgramAccountsConfig,
    RpcSendTransactionConfig,
    RpcSignatureStatusConfig,
    RpcSignaturesForAddressConfig,
    RpcSimulateTransactionConfig,
    RpcTransactionConfig,
    solana_rpc_client_types::config::RpcSignatureSubscribeConfig,
    solana_rpc_client_types::config::RpcTransactionLogsFilter,
    serde_json::Map<String, Value>
);

fn parse_text<T: FromStr>(value: &Value, what: &str, kind: &str) -> Result<T, Error> {
    let text = value
        .as_str()
        .ok_or_else(|| invalid(format!("Invalid param: {what} must be a {kind} string")))?;
    text.parse().map_err(|_| {
        invalid(format!(
            "Invalid param: `{text}` is not a valid {kind} ({what})"
        ))
    })
}

impl FromParam for Pubkey {
    fn from_param(value: &Value, what: &str) -> Result<Self, Error> {
        parse_text(value, what, "base-58 address")
    }
}

impl FromParam for Signature {
    fn from_param(value: &Value, what: &str) -> Result<Self, Error> {
        parse_text(value, what, "base-58 signature")
    }
}

impl FromParam for Hash {
    fn from_param(value: &Value, what: &str) -> Result<Self, Error> {
        parse_text(value, what, "base-58 blockhash")
    }
}

/// A token account's mint decimals, for jsonParsed data and `getTokenAccountBalance`.
pub fn token_decimals(svm: &LiteSVM, account: &Account) -> Option<u8> {
    let mint = get_token_account_mint(&account.data)?;
    let mint = svm.get_account(&mint)?;
    match parse_token_v3(&mint.data, None).ok()? {
        TokenAccountType::Mint(mint) => Some(mint.decimals),
        _ => None,
    }
}

/// An account in the encoding asked for (jsonParsed falls back to base64 where no parser
/// knows the owner, as on a node).
pub fn encode_account(
    svm: &LiteSVM,
    address: &Pubkey,
    account: &Account,
    encoding: UiAccountEncoding,
    slice: Option<UiDataSliceConfig>,
) -> UiAccount {
    let additional = if encoding == UiAccountEncoding::JsonParsed {
        token_decimals(svm, account).map(|decimals| AccountAdditionalDataV3 {
            spl_token_additional_data: Some(SplTokenAdditionalDataV2::with_decimals(decimals)),
        })
    } else {
        None
    };
    solana_account_decoder::encode_ui_account(address, account, encoding, additional, slice)
}
