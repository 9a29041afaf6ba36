//! The 802.11 frame check sequence (CRC-32, IEEE 802.3 polynomial).
