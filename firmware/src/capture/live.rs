//! Live capture: libpcap on a monitor interface, on its own thread, into a bounded channel, with drops counted.
