//! A device's sync rounds with its hub, and the background task that runs them when the hub is reachable, backing off when it is not.
//!
//! A round: send `Hello`, take the hub's `Hello` and the edits this device lacks; then send
//! what the hub lacks, a bounded flight at a time (`Limits`), taking each acknowledgement into
//! the view of the hub so the next flight skips it; last, send the edits the hub lacks. Every
//! request is idempotent on the hub, so a round cut anywhere is resumed by the next one with
//! nothing lost or doubled. Memory is bounded by one flight (at most `Limits::batches`
//! batches), whatever the backlog.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use piwardrive_sync::{Hello, Limits, Message, ProtocolError};
use serde::Serialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{HELLO_PATH, PUSH_PATH};
use crate::store::{Store, StoreError};

/// How a request to the hub failed, as far as a round needs to know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// Not reachable now (no route, refused, reset, timed out): try again later.
    #[error("hub unreachable: {0}")]
    Unreachable(String),
    /// The hub refused this device (token wrong or revoked): retrying will not help.
    #[error("the hub refused this device: {0}")]
    Refused(String),
    /// The server is not the hub this device enrolled with (certificate not the pinned one).
    #[error("not the enrolled hub: {0}")]
    NotTheHub(String),
    /// Any other answer (an HTTP error status with the hub's message).
    #[error("{0}")]
    Other(String),
}

/// Sends one request to the hub and returns the answer's body.
pub trait Transport: Send + Sync {
    fn post(
        &self,
        path: &'static str,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<Vec<u8>, TransportError>> + Send;
}

/// Why a round stopped.
#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("the hub's answer: {0}")]
    Protocol(#[from] ProtocolError),
    #[error("the hub's answer: {0}")]
    Answer(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// What one complete round did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RoundReport {
    pub requests: u64,
    pub observations_sent: u64,
    pub networks_sent: u64,
    /// Edits came from the hub (labels set elsewhere, say).
    pub edits_received: bool,
    pub edits_sent: bool,
    /// Observations the hub still lacks after the round (0 unless rows are unreadable).
    pub pending: u64,
    /// Stored observations that do not decode and so cannot be sent.
    pub unreadable: Vec<u64>,
}

async fn blocking<T: Send + 'static>(
    store: &Store,
    f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .expect("a store read does not panic")
}

/// Runs one round against the hub behind `transport`.
pub async fn round<T: Transport>(
    store: &Store,
    transport: &T,
    limits: Limits,
) -> Result<RoundReport, RoundError> {
    let mut report = RoundReport::default();
    let hello = blocking(store, |s| s.device_hello()).await?;
    let answer = transport
        .post(HELLO_PATH, Message::encode_many(&[Message::Hello(hello)]))
        .await?;
    report.requests += 1;
    let mut hub: Option<Hello> = None;
    for m in Message::decode_many(&answer)? {
        match m {
            Message::Hello(h) => hub = Some(h),
            Message::Edits(delta) => {
                blocking(store, move |s| s.update_edits(|e| e.merge_delta(*delta))).await?;
                report.edits_received = true;
            }
            other => {
                return Err(RoundError::Answer(format!(
                    "a {} in the answer to Hello",
                    super::hub::kind(&other)
                )));
            }
        }
    }
    let mut hub = hub.ok_or_else(|| RoundError::Answer("no Hello in the answer".into()))?;

    loop {
        let view = hub.clone();
        let outbox = blocking(store, move |s| s.sync_outbox(&view, limits)).await?;
        report.unreadable = outbox.unreadable.clone();
        if outbox.messages.is_empty() {
            break;
        }
        let before = (hub.observations.clone(), hub.networks.clone());
        let answer = transport
            .post(PUSH_PATH, Message::encode_many(&outbox.messages))
            .await?;
        report.requests += 1;
        for m in Message::decode_many(&answer)? {
            match m {
                Message::Ack(a) => hub.absorb(&a),
                other => {
                    return Err(RoundError::Answer(format!(
                        "a {} among the acknowledgements",
                        super::hub::kind(&other)
                    )));
                }
            }
        }
        if (hub.observations.clone(), hub.networks.clone()) == before {
            // Sending the same again would loop for ever.
            return Err(RoundError::Answer(
                "the hub acknowledged none of the batches it was sent".into(),
            ));
        }
        report.observations_sent += outbox.observations;
        report.networks_sent += outbox.networks;
    }

    let hub_edits = hub.edits.clone();
    let delta = blocking(store, move |s| Ok(s.edits()?.delta_for(&hub_edits))).await?;
    if let Some(delta) = delta {
        transport
            .post(
                PUSH_PATH,
                Message::encode_many(&[Message::Edits(Box::new(delta))]),
            )
            .await?;
        report.requests += 1;
        report.edits_sent = true;
    }
    let have = hub.observations.clone();
    report.pending = blocking(store, move |s| s.sync_pending(&have)).await?;
    Ok(report)
}

/// What the dashboard shows about sync.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncStatus {
    /// A hub is enrolled.
    pub enrolled: bool,
    /// A round is running.
    pub syncing: bool,
    /// Unix microseconds of the end of the last complete round.
    pub last_sync_us: Option<i64>,
    /// Observations the hub lacked at the end of the last round, or, before any, all stored.
    pub pending: Option<u64>,
    /// The last round's error, until a round succeeds.
    pub last_error: Option<String>,
    /// Observations sent since the appliance started.
    pub sent_total: u64,
}

/// When the background task tries again.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// After a complete round.
    pub interval: Duration,
    /// After the first failure; doubled per failure up to `max_backoff`.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for Schedule {
    fn default() -> Schedule {
        Schedule {
            interval: Duration::from_secs(60),
            min_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(300),
        }
    }
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Runs rounds until `shutdown`: one `schedule.interval` after a complete round, with
/// doubling backoff after a failure. `connect` gives the transport for a round (`None`: no
/// hub enrolled; checked again every interval, so an enrollment takes effect without a
/// restart). A refusal (revoked token) or a wrong certificate is shown and retried at the
/// longest backoff. Each round runs on this task alone and reads snapshots: capture and the
/// UI never wait for it.
pub async fn run<T, C>(
    store: Store,
    connect: C,
    limits: Limits,
    schedule: Schedule,
    status: watch::Sender<SyncStatus>,
    shutdown: CancellationToken,
) where
    T: Transport,
    C: Fn() -> Option<T>,
{
    let store = Arc::new(store);
    let mut backoff = schedule.min_backoff;
    loop {
        let wait = match connect() {
            None => {
                status.send_modify(|s| s.enrolled = false);
                schedule.interval
            }
            Some(transport) => {
                status.send_modify(|s| {
                    s.enrolled = true;
                    s.syncing = true;
                });
                let result = round(&store, &transport, limits).await;
                match result {
                    Ok(report) => {
                        tracing::info!(
                            sent = report.observations_sent,
                            networks = report.networks_sent,
                            pending = report.pending,
                            "sync: round complete"
                        );
                        status.send_modify(|s| {
                            s.syncing = false;
                            s.last_sync_us = Some(now_us());
                            s.pending = Some(report.pending);
                            s.last_error = None;
                            s.sent_total += report.observations_sent;
                        });
                        backoff = schedule.min_backoff;
                        schedule.interval
                    }
                    Err(e) => {
                        let hard = matches!(
                            e,
                            RoundError::Transport(
                                TransportError::Refused(_) | TransportError::NotTheHub(_)
                            )
                        );
                        if hard {
                            tracing::error!("sync: {e}");
                        } else {
                            tracing::warn!("sync: {e}; next try in {} s", backoff.as_secs());
                        }
                        let pending = {
                            let s = store.clone();
                            tokio::task::spawn_blocking(move || s.next_observation_seq())
                                .await
                                .ok()
                                .and_then(Result::ok)
                        };
                        status.send_modify(|s| {
                            s.syncing = false;
                            s.last_error = Some(e.to_string());
                            if s.pending.is_none() {
                                s.pending = pending.map(|n| n - 1);
                            }
                        });
                        let wait = if hard { schedule.max_backoff } else { backoff };
                        backoff = (backoff * 2).min(schedule.max_backoff);
                        wait
                    }
                }
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
}
