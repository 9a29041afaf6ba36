//! A gpsd client: TCP, `?WATCH` JSON, TPV and SKY, with reconnects and a first-class GPS state.
//!
//! [`run`] (or [`GpsdClient::run`]) is a long-lived task. It connects to gpsd, asks for JSON
//! reports, and turns them into a [`GpsStatus`] published on a `watch` channel (the UI reads
//! it; the capture path calls [`GpsStatus::usable_fix`]) and into [`Fix`]es sent to the
//! tracker. It never fails because of what gpsd sends: a line it cannot use is counted and
//! skipped. When gpsd is not there or goes away the state is [`GpsState::NoGpsd`] and the
//! client retries with exponential backoff until it is cancelled.
//!
//! The protocol parsing ([`proto`]) and the state machine ([`session`]) are pure; this file
//! holds only the I/O: the socket, a bounded line reader, the staleness timer and the backoff.
//!
//! [`GpsState::NoGpsd`]: crate::gps::GpsState::NoGpsd

pub mod proto;
pub mod session;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use self::session::Session;
use crate::gps::{Clock, DEFAULT_STALE_AFTER, GpsStatus, SystemClock};
use crate::model::Fix;

/// The request that turns on JSON reports (gpsd_json(5), WATCH).
pub const WATCH_REQUEST: &[u8] = b"?WATCH={\"enable\":true,\"json\":true};\n";

/// gpsd's well-known port on the loopback interface.
pub const DEFAULT_ADDR: &str = "127.0.0.1:2947";

/// How the client connects and what it tolerates.
#[derive(Debug, Clone, PartialEq)]
pub struct GpsdConfig {
    /// `host:port` of gpsd.
    pub addr: String,
    /// No TPV for longer than this makes the state [`GpsState::Stale`] and drops the fix.
    ///
    /// [`GpsState::Stale`]: crate::gps::GpsState::Stale
    pub stale_after: Duration,
    /// Lines longer than this are discarded as they stream past (never buffered) and counted.
    /// gpsd's longest reports (SKY with many satellites) are a few kilobytes.
    pub max_line_len: usize,
    /// First wait before reconnecting; doubles after each failure up to `backoff_max`, and
    /// starts again from here after a session in which gpsd answered.
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// How long a TCP connect may take before it counts as a failure.
    pub connect_timeout: Duration,
    /// A fix that implies a faster movement than this from the previous accepted fix is
    /// rejected. 300 m/s is above any ground vehicle and a light aircraft.
    pub max_speed_mps: f64,
}

impl Default for GpsdConfig {
    fn default() -> Self {
        GpsdConfig {
            addr: DEFAULT_ADDR.to_string(),
            stale_after: DEFAULT_STALE_AFTER,
            max_line_len: 64 * 1024,
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            max_speed_mps: 300.0,
        }
    }
}

/// Errors from the gpsd client. Problems with gpsd itself are never errors (they are states);
/// only a configuration that cannot work is.
#[derive(Debug, thiserror::Error)]
pub enum GpsdError {
    #[error("invalid gpsd configuration: {0}")]
    Config(&'static str),
}

impl GpsdConfig {
    /// Checks the values once, before the client starts.
    pub fn validate(&self) -> Result<(), GpsdError> {
        if self.addr.is_empty() {
            return Err(GpsdError::Config(
                "addr is empty; use host:port, e.g. 127.0.0.1:2947",
            ));
        }
        if self.stale_after.is_zero() {
            return Err(GpsdError::Config(
                "stale_after must be positive (3 s suits a 1 Hz receiver)",
            ));
        }
        if self.max_line_len < 1024 {
            return Err(GpsdError::Config(
                "max_line_len below 1024 bytes would drop ordinary TPV and SKY reports",
            ));
        }
        if self.backoff_initial.is_zero() || self.backoff_max < self.backoff_initial {
            return Err(GpsdError::Config(
                "backoff_initial must be positive and at most backoff_max",
            ));
        }
        if self.connect_timeout.is_zero() {
            return Err(GpsdError::Config("connect_timeout must be positive"));
        }
        if !(self.max_speed_mps.is_finite() && self.max_speed_mps > 0.0) {
            return Err(GpsdError::Config("max_speed_mps must be a positive number"));
        }
        Ok(())
    }
}

/// Runs a gpsd client until `shutdown` is cancelled.
///
/// `status` receives the GPS state after every change; `fixes` (if given) receives every
/// accepted fix. The fix channel is never waited on: when it is full the fix is counted in
/// `fixes_dropped` and the reader goes on, so a slow tracker cannot make gpsd drop this client.
pub async fn run(
    config: GpsdConfig,
    status: watch::Sender<GpsStatus>,
    fixes: Option<mpsc::Sender<Fix>>,
    shutdown: CancellationToken,
) -> Result<(), GpsdError> {
    GpsdClient::new(config, status, fixes)?.run(shutdown).await;
    Ok(())
}

/// The gpsd client task. Fields name who holds the other ends: the UI holds the `watch`
/// receiver, the tracker the `mpsc` receiver.
pub struct GpsdClient {
    config: GpsdConfig,
    clock: Arc<dyn Clock>,
    status_tx: watch::Sender<GpsStatus>,
    fixes_tx: Option<mpsc::Sender<Fix>>,
    session: Session,
}

/// How a connection ended.
#[derive(Debug, thiserror::Error)]
enum SessionEnd {
    #[error("gpsd closed the connection")]
    Closed,
    #[error("reading from gpsd: {0}")]
    Read(io::Error),
    #[error("sending ?WATCH to gpsd: {0}")]
    Write(io::Error),
    #[error("shutting down")]
    Shutdown,
}

impl GpsdClient {
    /// A client reading the system clock. Fails only on an invalid configuration.
    pub fn new(
        config: GpsdConfig,
        status: watch::Sender<GpsStatus>,
        fixes: Option<mpsc::Sender<Fix>>,
    ) -> Result<Self, GpsdError> {
        config.validate()?;
        let session = Session::new(config.stale_after, config.max_speed_mps);
        status.send_replace(session.status().clone());
        Ok(GpsdClient {
            config,
            clock: Arc::new(SystemClock),
            status_tx: status,
            fixes_tx: fixes,
            session,
        })
    }

    /// Replaces the clock that stamps receptions (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn publish(&self) {
        self.status_tx.send_replace(self.session.status().clone());
    }

    /// Connects, reads, and reconnects with backoff until `shutdown` is cancelled. On return
    /// the published state is `NoGpsd` with no fix.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut backoff = self.config.backoff_initial;
        let mut connected_before = false;
        loop {
            let attempt = tokio::select! {
                _ = shutdown.cancelled() => break,
                r = tokio::time::timeout(
                    self.config.connect_timeout,
                    TcpStream::connect(self.config.addr.as_str()),
                ) => r,
            };
            match attempt {
                Ok(Ok(stream)) => {
                    // Reports are small and latency matters more than packet count.
                    let _ = stream.set_nodelay(true);
                    self.session.connected(connected_before);
                    connected_before = true;
                    self.publish();
                    tracing::info!(addr = %self.config.addr, "connected to gpsd");
                    let (end, healthy) = self.serve(stream, &shutdown).await;
                    if matches!(end, SessionEnd::Shutdown) {
                        break;
                    }
                    if healthy {
                        backoff = self.config.backoff_initial;
                    }
                    tracing::warn!(addr = %self.config.addr, "gpsd connection ended: {end}");
                    self.session.disconnected(end.to_string());
                    self.publish();
                }
                Ok(Err(e)) => {
                    tracing::debug!(addr = %self.config.addr, "cannot connect to gpsd: {e}");
                    self.session
                        .disconnected(format!("connect to {}: {e}", self.config.addr));
                    self.publish();
                }
                Err(_) => {
                    self.session.disconnected(format!(
                        "connect to {}: no answer within {:?}",
                        self.config.addr, self.config.connect_timeout
                    ));
                    self.publish();
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(self.config.backoff_max);
        }
        self.session.stopped();
        self.publish();
    }

    /// Serves one connection (any byte stream speaking gpsd's protocol) until it ends.
    /// Returns how it ended and whether gpsd sent at least one well-formed report.
    async fn serve<S>(&mut self, stream: S, shutdown: &CancellationToken) -> (SessionEnd, bool)
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let (read_half, mut write_half) = tokio::io::split(stream);
        if let Err(e) = write_half.write_all(WATCH_REQUEST).await {
            return (SessionEnd::Write(e), false);
        }
        let mut lines = LineReader::new(BufReader::new(read_half), self.config.max_line_len);
        let mut healthy = false;
        let mut stale_at: Option<Instant> = None;
        loop {
            let deadline = stale_at;
            let stale = async move {
                match deadline {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending().await,
                }
            };
            let event = tokio::select! {
                _ = shutdown.cancelled() => return (SessionEnd::Shutdown, healthy),
                _ = stale => {
                    stale_at = None;
                    self.session.mark_stale();
                    self.publish();
                    continue;
                }
                ev = lines.next_line() => ev,
            };
            match event {
                Ok(Some(LineEvent::Line)) => {
                    let now = self.clock.now_us();
                    let effect = self.session.line(lines.line(), now);
                    healthy |= effect.understood;
                    if effect.fresh_tpv {
                        stale_at = Some(Instant::now() + self.config.stale_after);
                    }
                    if !self.session.receiving() {
                        stale_at = None;
                    }
                    if let Some(fix) = effect.fix {
                        self.deliver(fix);
                    }
                }
                Ok(Some(LineEvent::TooLong)) => {
                    tracing::debug!("skipping a line from gpsd over the length limit");
                    self.session.line_too_long();
                }
                Ok(Some(LineEvent::Truncated)) => self.session.line_truncated(),
                Ok(None) => return (SessionEnd::Closed, healthy),
                Err(e) => return (SessionEnd::Read(e), healthy),
            }
            self.publish();
        }
    }

    fn deliver(&mut self, fix: Fix) {
        let Some(tx) = &self.fixes_tx else { return };
        match tx.try_send(fix) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => self.session.fix_dropped(),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                // The tracker is gone (shutting down); the status is still worth keeping.
                self.fixes_tx = None;
            }
        }
    }
}

/// What [`LineReader::next_line`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineEvent {
    /// A complete line, available from [`LineReader::line`] (without the newline).
    Line,
    /// A line over the limit, discarded.
    TooLong,
    /// The stream ended in the middle of a line, which is discarded.
    Truncated,
}

/// Splits a byte stream into lines without ever holding more than `max` bytes of one line:
/// the bytes of an over-long line are dropped as they arrive, up to its newline.
///
/// `next_line` is cancellation-safe (it is raced against timers in `select!`): the only await
/// is `fill_buf`, and all state lives in the struct, so a cancelled call loses nothing.
struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    max: usize,
    /// Inside an over-long line, dropping bytes until its newline.
    discarding: bool,
    /// `buf` holds a line already returned; clear it before reading on.
    returned: bool,
}

impl<R: AsyncBufRead + Unpin> LineReader<R> {
    fn new(inner: R, max: usize) -> Self {
        LineReader {
            inner,
            buf: Vec::new(),
            max,
            discarding: false,
            returned: false,
        }
    }

    /// The line found by the last `next_line` that returned [`LineEvent::Line`].
    fn line(&self) -> &[u8] {
        &self.buf
    }

    async fn next_line(&mut self) -> io::Result<Option<LineEvent>> {
        if self.returned {
            self.buf.clear();
            self.returned = false;
        }
        loop {
            let available = self.inner.fill_buf().await?;
            if available.is_empty() {
                if self.discarding {
                    self.discarding = false;
                    return Ok(Some(LineEvent::TooLong));
                }
                if !self.buf.is_empty() {
                    self.buf.clear();
                    return Ok(Some(LineEvent::Truncated));
                }
                return Ok(None);
            }
            let newline = available.iter().position(|&b| b == b'\n');
            let take = newline.unwrap_or(available.len());
            if !self.discarding && self.buf.len() + take > self.max {
                self.discarding = true;
                self.buf.clear();
                // Give the memory back: one monster line must not pin 64 KiB for ever.
                self.buf.shrink_to(self.max.min(4096));
            }
            if !self.discarding {
                self.buf.extend_from_slice(&available[..take]);
            }
            match newline {
                Some(i) => {
                    self.inner.consume(i + 1);
                    if self.discarding {
                        self.discarding = false;
                        return Ok(Some(LineEvent::TooLong));
                    }
                    self.returned = true;
                    return Ok(Some(LineEvent::Line));
                }
                None => self.inner.consume(take),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gps::GpsState;
    use tokio::io::AsyncWriteExt;

    async fn collect(input: &[u8], max: usize, chunk: usize) -> Vec<Result<Vec<u8>, LineEvent>> {
        let (mut tx, rx) = tokio::io::duplex(chunk);
        let data = input.to_vec();
        let writer = tokio::spawn(async move {
            for part in data.chunks(chunk) {
                tx.write_all(part).await.unwrap();
            }
        });
        let mut r = LineReader::new(BufReader::with_capacity(chunk, rx), max);
        let mut out = Vec::new();
        while let Some(ev) = r.next_line().await.unwrap() {
            out.push(match ev {
                LineEvent::Line => Ok(r.line().to_vec()),
                other => Err(other),
            });
        }
        writer.await.unwrap();
        out
    }

    #[tokio::test]
    async fn lines_are_bounded_and_cut_lines_reported() {
        let mut input = b"one\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 5000));
        input.extend(b"\ntwo\r\n\nthree-cut-sh");
        for chunk in [1, 7, 64, 8192] {
            let out = collect(&input, 1024, chunk).await;
            assert_eq!(
                out,
                vec![
                    Ok(b"one".to_vec()),
                    Err(LineEvent::TooLong),
                    Ok(b"two\r".to_vec()),
                    Ok(Vec::new()),
                    Err(LineEvent::Truncated),
                ],
                "chunk {chunk}"
            );
        }
        // A line of exactly the limit is kept; one byte more is not.
        let mut exact = vec![b'a'; 1024];
        exact.push(b'\n');
        exact.extend(vec![b'b'; 1025]);
        exact.push(b'\n');
        let out = collect(&exact, 1024, 100).await;
        assert_eq!(out, vec![Ok(vec![b'a'; 1024]), Err(LineEvent::TooLong)]);
    }

    #[tokio::test]
    async fn an_endless_line_does_not_grow_memory() {
        let (mut tx, rx) = tokio::io::duplex(4096);
        let mut r = LineReader::new(BufReader::new(rx), 64 * 1024);
        let writer = tokio::spawn(async move {
            let block = vec![b'{'; 4096];
            for _ in 0..1024 {
                tx.write_all(&block).await.unwrap();
            }
            tx.write_all(b"\n{\"class\":\"WATCH\"}\n").await.unwrap();
        });
        assert_eq!(r.next_line().await.unwrap(), Some(LineEvent::TooLong));
        assert!(r.buf.capacity() <= 64 * 1024, "{}", r.buf.capacity());
        assert_eq!(r.next_line().await.unwrap(), Some(LineEvent::Line));
        assert_eq!(r.line(), b"{\"class\":\"WATCH\"}");
        writer.await.unwrap();
    }

    #[test]
    fn config_is_validated() {
        assert!(GpsdConfig::default().validate().is_ok());
        let bad = [
            GpsdConfig {
                addr: String::new(),
                ..GpsdConfig::default()
            },
            GpsdConfig {
                stale_after: Duration::ZERO,
                ..GpsdConfig::default()
            },
            GpsdConfig {
                max_line_len: 10,
                ..GpsdConfig::default()
            },
            GpsdConfig {
                backoff_max: Duration::from_millis(1),
                ..GpsdConfig::default()
            },
            GpsdConfig {
                max_speed_mps: f64::NAN,
                ..GpsdConfig::default()
            },
        ];
        for c in bad {
            assert!(c.validate().is_err(), "{c:?}");
        }
    }

    /// The whole I/O loop over an in-memory stream: reports in, status and fixes out, and the
    /// staleness timer. (With tokio's `test-util` feature this could run on the paused clock;
    /// the workspace does not enable it, so the limit here is short and real.)
    #[tokio::test]
    async fn serve_publishes_fixes_and_goes_stale() {
        let (status_tx, mut status_rx) = watch::channel(GpsStatus::default());
        let (fix_tx, mut fix_rx) = mpsc::channel(16);
        let config = GpsdConfig {
            stale_after: Duration::from_millis(150),
            ..GpsdConfig::default()
        };
        let mut client = GpsdClient::new(config, status_tx, Some(fix_tx)).unwrap();
        client.session.connected(false);
        let (ours, mut gpsd) = tokio::io::duplex(64 * 1024);
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        let task = tokio::spawn(async move {
            let end = client.serve(ours, &stop).await;
            (end.0.to_string(), end.1)
        });
        let mut request = vec![0u8; WATCH_REQUEST.len()];
        tokio::io::AsyncReadExt::read_exact(&mut gpsd, &mut request)
            .await
            .unwrap();
        assert_eq!(request, WATCH_REQUEST);
        // From gpsd-3.22-output/haicom-305N.gpspipe-w.jsonl, with an unknown class between.
        gpsd.write_all(
            concat!(
                r#"{"class":"DEVICES","devices":[{"class":"DEVICE","path":"/dev/pts/1","activated":"2026-11-27T15:30:10.984Z","native":0,"bps":4800,"parity":"N","stopbits":1,"cycle":1.00}]}"#,
                "\n",
                r#"{"class":"TOFF","device":"/dev/pts/1","real_sec":1795341254,"real_nsec":0}"#,
                "\n",
                r#"{"class":"TPV","device":"/dev/pts/1","mode":3,"time":"2026-11-22T09:54:14.787Z","ept":0.005,"lat":-27.210671667,"lon":153.051990000,"altHAE":45.4000,"altMSL":3.2000,"alt":3.2000,"epx":12.987,"epy":10.428,"epv":55.200,"eph":20.900,"sep":49.400}"#,
                "\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        let fix = fix_rx.recv().await.unwrap();
        assert_eq!(
            (fix.lat, fix.lon, fix.accuracy_m),
            (-27.210671667, 153.05199, 20.9)
        );
        let st = status_rx
            .wait_for(|s| s.state == GpsState::Fix3d)
            .await
            .unwrap()
            .clone();
        assert_eq!(st.counters.unknown_classes, 1);
        let t0 = std::time::Instant::now();
        let st = tokio::time::timeout(
            Duration::from_secs(5),
            status_rx.wait_for(|s| s.state == GpsState::Stale),
        )
        .await
        .expect("stale within the limit")
        .unwrap()
        .clone();
        assert!(
            t0.elapsed() >= Duration::from_millis(100),
            "{:?}",
            t0.elapsed()
        );
        assert_eq!(st.fix, None);
        assert_eq!(st.usable_fix(SystemClock.now_us()), None);
        // gpsd going away ends the session; the run loop would reconnect.
        drop(gpsd);
        let (end, healthy) = task.await.unwrap();
        assert_eq!(end, "gpsd closed the connection");
        assert!(healthy);
    }
}
