//! PiWardrive's replicated state and sync protocol, as pure values: no I/O, no clock.
//!
//! A device and the hub each hold a [`Replica`]: observations as a grow-only set keyed by
//! `(device_id, seq)` and summarised by a [`Have`] (a version vector plus exceptions),
//! per-network summaries merged as a lattice ([`NetworkSummary`]), and user edits as CRDTs
//! ([`Edits`]). A sync round exchanges [`Message`]s: each side's [`Hello`], then the
//! [`Batch`]es and [`NetBatch`]es the other lacks, [`Ack`]s, and edit deltas both ways.
//! Every message is idempotent and independent of arrival order, so a round cut at any
//! point resumes with nothing lost and nothing doubled. `sync/README.md` has the merge
//! rules, the wire format and the measured sizes.

pub mod batch;
pub mod edits;
pub mod have;
pub mod ids;
pub mod network;
pub mod obs;
pub mod protocol;
pub mod ranges;
pub mod replica;

pub use batch::{Batch, BatchError, MAX_BATCH_OBS};
pub use edits::{EditError, Edits, EditsClock, EditsDelta, Stamp, Zone};
pub use have::Have;
pub use ids::{DeviceId, Mac};
pub use network::{BestSighting, Latest, NetworkSummary};
pub use obs::{Fix, Kind, Observation, TimeUs};
pub use protocol::{Ack, Hello, Message, NetBatch, ProtocolError};
pub use ranges::RangeSet;
pub use replica::{Limits, RecordError, Replica};
