//! The decoder's one small error type.

use core::fmt;

/// Why a buffer could not be decoded. Small and `Copy`, so decoding never allocates to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The buffer ends before a structure that must be there.
    Truncated,
    /// A length, version or offset field contradicts the buffer or the standard.
    Malformed,
    /// A well-formed structure this decoder does not handle (for example an unknown link type).
    Unsupported,
}

pub type Result<T> = core::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "truncated",
            Error::Malformed => "malformed",
            Error::Unsupported => "unsupported",
        })
    }
}

impl std::error::Error for Error {}
