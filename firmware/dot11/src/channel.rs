//! Channels, bands and frequencies (2.4, 5 and 6 GHz).
