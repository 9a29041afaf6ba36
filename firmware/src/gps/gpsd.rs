//! A gpsd client: TCP, `?WATCH` JSON, TPV and SKY, with reconnects and a first-class GPS state.
