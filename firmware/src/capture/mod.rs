//! Capture sources: capture files (pcap, pcapng) now, live interfaces later.
