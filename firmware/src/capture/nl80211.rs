//! Interface control over nl80211: find adapters and what they support, monitor mode, up/down, tuning; put things back on exit.
