//! 802.11 MAC headers and frame bodies for every frame type.
