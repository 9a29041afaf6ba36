//! The managed-mode fallback for adapters without monitor mode: nl80211 triggered scans turned into tracker input.
