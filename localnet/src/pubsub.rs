//! The PubSub (websocket) server: `signatureSubscribe`, `accountSubscribe`, `logsSubscribe`
//! and `slotSubscribe`, with their `*Unsubscribe`, in the JSON shapes of Agave's PubSub service.
//! Notifications are sent when the transaction executes (it is final at once), so every
//! commitment level is notified at the same moment.
//!
//! The registry lives inside the chain's lock: a subscription is registered, or answered from
//! the history, under the same lock a transaction commits under, so none is missed between the
//! two. Each connection has a bounded queue; one that does not read its notifications is
//! closed rather than allowed to grow without bound.
use crate::params::{arg, invalid, optional_arg};
use crate::rpc::Node;
use crate::subscriptions::{notification, signature_value, Connection, SubscriptionId};
use futures_util::{SinkExt, StreamExt};
use jsonrpc_core::{MetaIoHandler, Metadata, Params, Value};
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_pubkey::Pubkey;
use solana_rpc_client_types::config::{
    RpcAccountInfoConfig, RpcSignatureSubscribeConfig, RpcTransactionLogsFilter,
};
use solana_signature::Signature;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

/// Notifications waiting for one connection before it is closed as too slow.
const QUEUE: usize = 4096;

/// What a PubSub method sees of its caller.
#[derive(Clone)]
struct Session {
    node: Arc<Node>,
    connection: Connection,
}

impl Metadata for Session {}

fn methods() -> MetaIoHandler<Session> {
    let mut io = MetaIoHandler::default();
    io.add_method_with_meta(
        "signatureSubscribe",
        |params: Params, s: Session| async move {
            let args = crate::params::args(params)?;
            let signature: Signature = arg(&args, 0, "signature")?;
            let _config: Option<RpcSignatureSubscribeConfig> = optional_arg(&args, 1, "config")?;
            let mut chain = s.node.lock();
            let slot = chain.slot();
            let id = chain.subscriptions.admit(s.connection)?;
            if let Some(record) = chain.transaction(&signature) {
                // already final: answer at once (after the subscription id, which the connection
                // sends before it reads its queue)
                let message =
                    notification("signatureNotification", id, signature_value(&record, slot));
                chain.subscriptions.push(s.connection, message);
            } else {
                chain
                    .subscriptions
                    .signatures
                    .entry(signature)
                    .or_default()
                    .push((s.connection, id));
            }
            Ok(Value::from(id))
        },
    );
    io.add_method_with_meta(
        "accountSubscribe",
        |params: Params, s: Session| async move {
            let args = crate::params::args(params)?;
            let address: Pubkey = arg(&args, 0, "account address")?;
            let config: Option<RpcAccountInfoConfig> = optional_arg(&args, 1, "config")?;
            let encoding = config
                .and_then(|c| c.encoding)
                .unwrap_or(UiAccountEncoding::Binary);
            let mut chain = s.node.lock();
            let id = chain.subscriptions.admit(s.connection)?;
            chain
                .subscriptions
                .accounts
                .entry(address)
                .or_default()
                .push((s.connection, id, encoding));
            Ok(Value::from(id))
        },
    );
    io.add_method_with_meta("logsSubscribe", |params: Params, s: Session| async move {
        let args = crate::params::args(params)?;
        let filter: RpcTransactionLogsFilter = arg(&args, 0, "filter")?;
        let mentions = match filter {
            RpcTransactionLogsFilter::All | RpcTransactionLogsFilter::AllWithVotes => None,
            RpcTransactionLogsFilter::Mentions(list) => {
                let [one] = list.as_slice() else {
                    return Err(invalid(
                        "Invalid Request: Only 1 address supported in the mentions filter",
                    ));
                };
                Some(one.parse::<Pubkey>().map_err(|_| {
                    invalid(format!("Invalid param: `{one}` is not a base-58 address"))
                })?)
            }
        };
        let mut chain = s.node.lock();
        let id = chain.subscriptions.admit(s.connection)?;
        chain.subscriptions.logs.push((s.connection, id, mentions));
        Ok(Value::from(id))
    });
    io.add_method_with_meta("slotSubscribe", |_params: Params, s: Session| async move {
        let mut chain = s.node.lock();
        let id = chain.subscriptions.admit(s.connection)?;
        chain.subscriptions.slots.push((s.connection, id));
        Ok(Value::from(id))
    });
    for (name, kind) in [
        ("signatureUnsubscribe", Kind::Signature),
        ("accountUnsubscribe", Kind::Account),
        ("logsUnsubscribe", Kind::Logs),
        ("slotUnsubscribe", Kind::Slot),
    ] {
        io.add_method_with_meta(name, move |params: Params, s: Session| async move {
            let args = crate::params::args(params)?;
            let id: SubscriptionId = arg(&args, 0, "subscription id")?;
            let mut chain = s.node.lock();
            let subs = &mut chain.subscriptions;
            let mine = |c: &Connection, i: &SubscriptionId| *c == s.connection && *i == id;
            let found = match kind {
                Kind::Signature => subs.signatures.values_mut().any(|list| {
                    let before = list.len();
                    list.retain(|(c, i)| !mine(c, i));
                    list.len() != before
                }),
                Kind::Account => subs.accounts.values_mut().any(|list| {
                    let before = list.len();
                    list.retain(|(c, i, _)| !mine(c, i));
                    list.len() != before
                }),
                Kind::Logs => {
                    let before = subs.logs.len();
                    subs.logs.retain(|(c, i, _)| !mine(c, i));
                    subs.logs.len() != before
                }
                Kind::Slot => {
                    let before = subs.slots.len();
                    subs.slots.retain(|(c, i)| !mine(c, i));
                    subs.slots.len() != before
                }
            };
            subs.signatures.retain(|_, l| !l.is_empty());
            subs.accounts.retain(|_, l| !l.is_empty());
            if found {
                Ok(Value::Bool(true))
            } else {
                // Agave's answer for an id it does not know
                Err(invalid("Invalid subscription id."))
            }
        });
    }
    io
}

#[derive(Clone, Copy)]
enum Kind {
    Signature,
    Account,
    Logs,
    Slot,
}

/// Accepts websocket connections until `stop` turns true.
pub async fn serve(listener: TcpListener, node: Arc<Node>, mut stop: watch::Receiver<bool>) {
    let io = Arc::new(methods());
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let (node, io, stop) = (node.clone(), io.clone(), stop.clone());
                tokio::spawn(connection(stream, node, io, stop));
            }
        }
    }
}

async fn connection(
    stream: tokio::net::TcpStream,
    node: Arc<Node>,
    io: Arc<MetaIoHandler<Session>>,
    mut stop: watch::Receiver<bool>,
) {
    let Ok(socket) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (mut sink, mut source) = socket.split();
    let (queue, mut queued) = mpsc::channel::<String>(QUEUE);
    let id = node.lock().subscriptions.connect(queue);
    let session = Session {
        node: node.clone(),
        connection: id,
    };
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            incoming = source.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text.to_string(),
                    Some(Ok(Message::Binary(bytes))) => String::from_utf8_lossy(&bytes).into_owned(),
                    Some(Ok(Message::Ping(payload))) => {
                        if sink.send(Message::Pong(payload)).await.is_err() { break }
                        continue;
                    }
                    Some(Ok(Message::Pong(_) | Message::Frame(_))) => continue,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                };
                if let Some(reply) = io.handle_request(&text, session.clone()).await {
                    if sink.send(Message::Text(reply.into())).await.is_err() { break }
                }
            }
            outgoing = queued.recv() => {
                let Some(message) = outgoing else { break };
                if sink.send(Message::Text(message.into())).await.is_err() { break }
            }
        }
    }
    node.lock().subscriptions.disconnect(id);
    let _ = sink.close().await;
}
