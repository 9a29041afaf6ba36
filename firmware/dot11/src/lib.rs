//! Pure decoder for captured Wi-Fi frames: link headers (radiotap, Prism, PPI), 802.11 frames and their information elements.
//!
//! Shaped like smoltcp's `wire`: views over byte slices whose constructors check lengths once,
//! parsed `Repr`-style values with fixed capacity, and a small `Copy` error type. Nothing here
//! touches I/O, an async runtime, storage or a clock, and nothing here may panic or loop on any
//! input (see the fuzz targets under `firmware/fuzz`).

#![forbid(unsafe_code)]

pub mod capfile;
pub mod channel;
mod error;
pub mod fcs;
pub mod frame;
pub mod ie;
pub mod link;
mod mac;
pub mod ppi;
pub mod prism;
pub mod radiotap;
pub mod security;

pub use error::{Error, Result};
pub use mac::MacAddr;
