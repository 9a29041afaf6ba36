//! Per-Packet Information (PPI, DLT 192) headers.
