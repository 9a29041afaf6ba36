//! The hub's side of a sync request: decode the device's messages, apply them to the store, encode the answer.
//!
//! The caller has authenticated the device (its token); these functions check that what it
//! sends is its own and map every refusal to an HTTP status with a message that says why.

use piwardrive_sync::{DeviceId, Message, ProtocolError};

use crate::store::{HubApplyError, Store};

/// Why a sync request was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncRequestError {
    #[error("{0}")]
    Protocol(#[from] ProtocolError),
    #[error("expected exactly one Hello message, got {0}")]
    NotAHello(String),
    #[error("a Hello from node {claimed:?} sent with the token of device {device:?}")]
    NotYours { claimed: DeviceId, device: DeviceId },
    #[error("{0}")]
    Apply(#[from] HubApplyError),
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
}

impl SyncRequestError {
    /// The HTTP status that says what the device should do: fix itself (4xx) or retry (5xx).
    pub fn status(&self) -> u16 {
        match self {
            SyncRequestError::Protocol(_) | SyncRequestError::NotAHello(_) => 400,
            SyncRequestError::NotYours { .. } => 403,
            SyncRequestError::Apply(HubApplyError::NotYours { .. }) => 403,
            SyncRequestError::Apply(HubApplyError::Store(_)) | SyncRequestError::Store(_) => 503,
            SyncRequestError::Apply(_) => 400,
        }
    }
}

/// Answers a device's `Hello` (the body of a `HELLO_PATH` request).
pub fn hello(store: &Store, device: DeviceId, body: &[u8]) -> Result<Vec<u8>, SyncRequestError> {
    let mut msgs = Message::decode_many(body)?;
    let hello = match (msgs.pop(), msgs.is_empty()) {
        (Some(Message::Hello(h)), true) => h,
        (other, _) => {
            return Err(SyncRequestError::NotAHello(format!(
                "{} message(s), the last {}",
                msgs.len() + usize::from(other.is_some()),
                other.as_ref().map_or("none", kind)
            )));
        }
    };
    if hello.node != device {
        return Err(SyncRequestError::NotYours {
            claimed: hello.node,
            device,
        });
    }
    Ok(Message::encode_many(&store.hub_hello(&hello)?))
}

/// Applies a device's batches and edits (the body of a `PUSH_PATH` request) and answers with
/// the acknowledgements.
pub fn push(store: &Store, device: DeviceId, body: &[u8]) -> Result<Vec<u8>, SyncRequestError> {
    let msgs = Message::decode_many(body)?;
    Ok(Message::encode_many(&store.hub_apply(device, &msgs)?))
}

/// A message's kind, for errors.
pub fn kind(m: &Message) -> &'static str {
    match m {
        Message::Hello(_) => "Hello",
        Message::Batch(_) => "Batch",
        Message::Networks(_) => "Networks",
        Message::Ack(_) => "Ack",
        Message::Edits(_) => "Edits",
    }
}
