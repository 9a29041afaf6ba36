//! Prism (DLT 119) capture headers.
