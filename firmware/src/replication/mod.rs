//! Sync with the home server, the firmware's side of `piwardrive-sync`: what a device sends, how the hub applies it, and the device's sync rounds.
//!
//! The protocol and its merge rules are in the `sync/` crate (sync/README.md); the store keeps
//! what they need (`store/replica.rs`). This module connects them: [`hub`] answers a device's
//! requests, [`device`] runs a device's rounds over a [`device::Transport`] (HTTPS with the
//! pinned certificate in the appliance, a direct call in tests).
//!
//! Two requests, both `POST` with a body of messages (`Message::encode_many`):
//! - [`HELLO_PATH`]: the device's `Hello`; the answer is the hub's `Hello` (what it holds of
//!   this device) and the edits the device lacks;
//! - [`PUSH_PATH`]: observation and network batches and edits; the answer is one `Ack` per
//!   batch. Applying is idempotent and atomic per request, so a request whose answer was lost
//!   is simply sent again.

pub mod convert;
pub mod device;
pub mod hub;

/// The device's `Hello`, answered by the hub's.
pub const HELLO_PATH: &str = "/sync/v1/hello";
/// Batches and edits, answered by acknowledgements.
pub const PUSH_PATH: &str = "/sync/v1/push";
/// The content type of both requests and their answers.
pub const CONTENT_TYPE: &str = "application/vnd.piwardrive.sync";

#[cfg(test)]
mod tests;
