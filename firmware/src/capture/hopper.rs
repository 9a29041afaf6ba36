//! The channel hopper: which channels to visit, in which order, for how long; pure planning plus an async driver over a tuner.
