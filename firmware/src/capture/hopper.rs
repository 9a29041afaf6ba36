//! The channel hopper: which channels to visit, in which order, for how long; pure planning plus an async driver over a tuner.

use piwardrive_dot11::channel::Band;
use std::future::Future;

/// One channel a radio can be tuned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Channel {
    pub band: Band,
    /// The IEEE channel number within its band.
    pub number: u16,
    /// Centre frequency of the 20 MHz primary channel.
    pub freq_mhz: u16,
}

/// Why a channel could not be tuned (the driver's or the kernel's words).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TuneError(pub String);

/// Something that tunes one radio: nl80211 on the appliance, a fake in tests.
pub trait Tuner: Send {
    fn tune(&mut self, channel: Channel) -> impl Future<Output = Result<(), TuneError>> + Send;
}
