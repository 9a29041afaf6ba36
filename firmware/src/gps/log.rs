//! GPS log files (gpspipe -w JSON, raw NMEA, GPX) read into fixes.
