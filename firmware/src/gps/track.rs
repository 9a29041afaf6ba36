//! A GPS track: fixes in time order, and the fix at any moment by interpolation when the track covers it closely enough.
