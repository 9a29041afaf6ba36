//! Capture sources: capture files (pcap, pcapng, see `ingest`), live monitor-mode capture with channel hopping, and the managed-mode scan fallback.

pub mod hopper;
pub mod live;
pub mod nl80211;
pub mod scan;
