//! GPS: the receiver's state, fixes from a live gpsd or from log files, and the track they make.

pub mod gpsd;
pub mod log;
pub mod track;
