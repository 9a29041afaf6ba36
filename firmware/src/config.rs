//! The appliance's configuration: the TOML file `piwardrive run --config FILE` reads, its defaults, and its validation into runtime settings.
//!
//! Two layers, as vector does it: [`Config`] mirrors the file (serde, every table with
//! `deny_unknown_fields` so a misspelt key is an error naming the key, the file and the line),
//! and [`Config::validate`] turns it, once, into [`Settings`], the values the appliance runs
//! with (durations, parsed channels, hop options with their floors applied). Every key has a
//! default chosen for the appliance, so an empty file, or no file, gives a working device
//! with one adapter. docs/configuration.md lists every key.

use crate::capture::hopper::{self, ChannelRef, HopOptions};
use crate::capture::live::CaptureFilter;
use crate::gps::gpsd::GpsdConfig;
use piwardrive_dot11::channel::Band;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The data partition on the appliance image.
pub const DEFAULT_DATA_DIR: &str = "/data";
/// The store's file name inside the data directory (the same for every command).
pub const STORE_FILE: &str = "piwardrive.redb";
/// The UI on every interface, port 80: the hotspot's captive portal sends the phone there.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:80";
pub const DEFAULT_COMMIT_INTERVAL_MS: u64 = 1000;
pub const DEFAULT_SCAN_INTERVAL_MS: u64 = 10_000;

/// The file as written. See docs/configuration.md.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Directory of the store (`piwardrive.redb`); created if missing.
    pub data_dir: PathBuf,
    /// How often the tracker hands what changed to the store (milliseconds).
    pub commit_interval_ms: u64,
    /// Share the band plan between monitor sources (Kismet's split_source_hopping).
    pub split_hopping: bool,
    pub web: WebConfig,
    pub gps: GpsConfig,
    /// Capture sources; absent means one source on the first suitable adapter.
    pub sources: Vec<SourceConfig>,
    /// The hotspot the image brings up (stored here; hostapd uses it from a later release).
    pub hotspot: HotspotConfig,
    /// Sync with an upstream hub (stored; sync itself is not built yet).
    pub sync: SyncConfig,
    /// The data partition: how much of it is left free.
    pub storage: StorageConfig,
    /// Uploads to wigle.net: the account's API name and token, donation, file size.
    pub wigle: WigleConfig,
    /// The file this came from, for messages (not a key).
    #[serde(skip)]
    pub origin: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            commit_interval_ms: DEFAULT_COMMIT_INTERVAL_MS,
            split_hopping: true,
            web: WebConfig::default(),
            gps: GpsConfig::default(),
            sources: vec![SourceConfig::default()],
            hotspot: HotspotConfig::default(),
            sync: SyncConfig::default(),
            storage: StorageConfig::default(),
            wigle: WigleConfig::default(),
            origin: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    pub listen: SocketAddr,
    /// The password of the `admin` account. Hashed (argon2id) when the appliance starts and
    /// kept only as that hash; when set, it wins over a password stored by `/setup` or
    /// `piwardrive user passwd`, and the first-visit setup page never opens.
    pub admin_password: Option<Secret>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            listen: DEFAULT_LISTEN.parse().expect("a valid default address"),
            admin_password: None,
        }
    }
}

/// A string that must not reach the log: its `Debug` prints `"<redacted>"`, so printing a
/// [`Config`] or [`Settings`] (as `{:?}` in a log line) never shows it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GpsConfig {
    /// Whether to read positions from gpsd at all.
    pub enabled: bool,
    /// gpsd's `host:port`.
    pub gpsd: String,
    /// A fix older than this is dropped (milliseconds).
    pub stale_after_ms: u64,
    /// Set the system clock from GPS time when they disagree (needs CAP_SYS_TIME).
    pub set_clock: bool,
}

impl Default for GpsConfig {
    fn default() -> Self {
        GpsConfig {
            enabled: true,
            gpsd: crate::gps::gpsd::DEFAULT_ADDR.to_string(),
            stale_after_ms: crate::gps::DEFAULT_STALE_AFTER.as_millis() as u64,
            set_clock: true,
        }
    }
}

/// `[hotspot]`: the access point the image brings up for the phone. Every key is optional;
/// unset keys keep the image's own values.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HotspotConfig {
    /// 1 to 32 bytes, no control characters.
    pub ssid: Option<String>,
    /// WPA2-PSK passphrase: 8 to 63 printable ASCII characters.
    pub passphrase: Option<Secret>,
    /// ISO 3166-1 alpha-2 country code (regulatory domain), e.g. "DE".
    pub country: Option<String>,
}

/// `[sync]`: the upstream hub.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncConfig {
    /// `https://` URL of the hub, offered by the settings page's enrollment form. What the
    /// device syncs with is the hub it enrolled with (`<data_dir>/upstream.toml`).
    pub hub_url: Option<String>,
    /// Seconds between sync rounds while the hub is reachable (default 60); after a failure
    /// the device retries sooner, backing off from 5 s to 5 minutes.
    pub interval_s: Option<u64>,
}

/// `[storage]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Keep at least this many MB free on the data partition: below it, the appliance stops
    /// writing new observations (and says so), rather than fill the card. 0 turns it off.
    pub reserve_free_mb: u64,
}

/// The free space kept on the data partition by default: room for the log, the settings
/// overlay and an export or two once recording has stopped.
pub const DEFAULT_RESERVE_FREE_MB: u64 = 100;
/// The largest reserve accepted (1 TB): beyond it the number is surely a mistake.
pub const MAX_RESERVE_FREE_MB: u64 = 1_000_000;

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            reserve_free_mb: DEFAULT_RESERVE_FREE_MB,
        }
    }
}

/// `[wigle]`: uploads to wigle.net (`piwardrive wigle upload`, the Exports page).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WigleConfig {
    /// The "API Name" of the WiGLE account (wigle.net, Account, "Show my token"): not the
    /// login name.
    pub api_name: Option<String>,
    /// The account's "API Token". Never logged, never shown back in full.
    pub api_token: Option<Secret>,
    /// Send `donate=on`: the rows may go into WiGLE's commercial data sets.
    pub donate: bool,
    /// At most this many rows per uploaded file; more are sent as several files. WiGLE takes
    /// files up to 180 MB (the WiGLE app's `WIGLE_MAX_UPLOAD_BYTES`), about 1,125,000 rows.
    pub max_rows_per_file: u64,
    /// Where the WiGLE API is. Only tests and a local proxy change it: `https://`, or
    /// `http://` to this machine only (127.0.0.1, ::1, localhost).
    pub base_url: String,
}

/// WiGLE's API.
pub const WIGLE_BASE_URL: &str = "https://api.wigle.net";
/// Rows per uploaded file by default: about 50 MB of CSV (10 MB gzipped), which a Pi Zero 2
/// holds in memory with room to spare.
pub const DEFAULT_WIGLE_MAX_ROWS: u64 = 250_000;
/// The most rows per file accepted: what fits WiGLE's 180 MB cap at 160 bytes a row.
pub const MAX_WIGLE_ROWS: u64 = 1_125_000;

impl Default for WigleConfig {
    fn default() -> Self {
        WigleConfig {
            api_name: None,
            api_token: None,
            donate: false,
            max_rows_per_file: DEFAULT_WIGLE_MAX_ROWS,
            base_url: WIGLE_BASE_URL.to_string(),
        }
    }
}

/// `wigle.api_name` and `wigle.api_token`: what WiGLE shows, printable ASCII without spaces
/// (they go into an HTTP Basic `Authorization` header, where the name cannot hold `:`).
pub fn check_wigle_credential(value: &str, is_name: bool) -> Result<(), String> {
    if value.is_empty() || value.len() > 256 {
        return Err(format!(
            "must be 1 to 256 characters; this one is {}",
            value.len()
        ));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(
            "may hold only printable ASCII without spaces: copy it exactly as wigle.net shows it"
                .into(),
        );
    }
    if is_name && value.contains(':') {
        return Err("must not contain ':' (HTTP Basic authentication cannot carry it)".into());
    }
    Ok(())
}

/// `wigle.base_url`: an `https://` URL, or `http://` to the loopback interface only (a test
/// server or a local proxy; credentials never cross a network in clear).
pub fn check_wigle_base_url(url: &str) -> Result<(), String> {
    if let Some(rest) = url.strip_prefix("http://") {
        let host = rest.split(['/', '?']).next().unwrap_or("");
        let host = match host.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(':') && p.parse::<u16>().is_ok() => h,
            _ => host,
        };
        return if matches!(host, "127.0.0.1" | "[::1]" | "localhost") {
            Ok(())
        } else {
            Err(
                "may use http:// only to this machine (127.0.0.1, [::1], localhost); use https://"
                    .into(),
            )
        };
    }
    check_hub_url(url)
}

/// How a source listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Monitor mode when the driver supports it, else the scan fallback (logged).
    #[default]
    Auto,
    Monitor,
    Scan,
}

/// Which frames a monitor source keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Filter {
    /// Management frames and EAPOL (a kernel BPF filter): networks, probes, handshakes.
    #[default]
    Wardrive,
    /// Every frame: clients are also seen through their data frames.
    Survey,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourceConfig {
    /// An interface name (`wlan1`), a phy name (`phy1`), or `auto`.
    pub interface: String,
    pub mode: Mode,
    pub filter: Filter,
    /// Time between the starts of two scans in scan mode (milliseconds).
    pub scan_interval_ms: u64,
    pub hop: HopConfig,
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig {
            interface: AUTO.to_string(),
            mode: Mode::Auto,
            filter: Filter::Wardrive,
            scan_interval_ms: DEFAULT_SCAN_INTERVAL_MS,
            hop: HopConfig::default(),
        }
    }
}

const AUTO: &str = "auto";

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HopConfig {
    /// Time on each channel (milliseconds); at least 50.
    pub dwell_ms: u64,
    pub stride: usize,
    /// Bands to hop: any of "2.4", "5", "6"; empty means all three.
    pub bands: Vec<BandName>,
    /// Channels to hop instead of whole bands.
    pub channels: Vec<ChannelName>,
    /// All 6 GHz channels rather than the preferred scanning channels.
    pub all_6ghz: bool,
    /// Stay on one channel.
    pub lock: Option<ChannelName>,
    pub max_failures: u32,
}

impl Default for HopConfig {
    fn default() -> Self {
        let d = HopOptions::default();
        HopConfig {
            dwell_ms: d.dwell.as_millis() as u64,
            stride: d.stride,
            bands: Vec::new(),
            channels: Vec::new(),
            all_6ghz: d.all_6ghz,
            lock: None,
            max_failures: d.max_failures,
        }
    }
}

/// A band as written: "2.4", "5", "6" (strings or numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BandName(pub Band);

impl<'de> Deserialize<'de> for BandName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<BandName, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = BandName;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a band: \"2.4\", \"5\" or \"6\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<BandName, E> {
                hopper::parse_band(s)
                    .map(BandName)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(s), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<BandName, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<BandName, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<BandName, E> {
                self.visit_str(&v.to_string())
            }
        }
        d.deserialize_any(V)
    }
}

/// A channel as written: 6, 5180 (MHz), "6/37" (6 GHz channel 37).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelName(pub ChannelRef);

impl<'de> Deserialize<'de> for ChannelName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ChannelName, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ChannelName;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a channel: a number (6, 36), \"6/37\" (band/number) or MHz (5180)")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ChannelName, E> {
                s.parse().map(ChannelName).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ChannelName, E> {
                match u16::try_from(v) {
                    Ok(n) if n > 0 => Ok(ChannelName(ChannelRef::from_number(n))),
                    _ => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ChannelName, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(-1))
            }
        }
        d.deserialize_any(V)
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading the configuration {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A syntax error, an unknown key or a value of the wrong kind; the message names the key
    /// and shows the line.
    #[error("{origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("{origin}: {key}: {message}")]
    Invalid {
        origin: String,
        key: String,
        message: String,
    },
}

/// Where the interface comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterfaceChoice {
    /// The first adapter no other source uses and that is not serving the hotspot.
    Auto,
    /// An interface or phy name.
    Named(String),
}

impl fmt::Display for InterfaceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InterfaceChoice::Auto => f.write_str(AUTO),
            InterfaceChoice::Named(n) => f.write_str(n),
        }
    }
}

/// One source, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSettings {
    pub interface: InterfaceChoice,
    pub mode: Mode,
    pub filter: CaptureFilter,
    pub scan_interval: Duration,
    /// Already [checked](HopOptions::checked).
    pub hop: HopOptions,
}

/// The configuration, validated: what the appliance runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub store_path: PathBuf,
    pub commit_interval: Duration,
    pub split_hopping: bool,
    pub listen: SocketAddr,
    /// `[web] admin_password`, checked for length, not yet hashed (the appliance hashes it).
    pub admin_password: Option<Secret>,
    /// `None` when GPS is disabled.
    pub gpsd: Option<GpsdConfig>,
    pub set_clock: bool,
    pub sources: Vec<SourceSettings>,
    /// `[hotspot]`, checked (the country upper-cased); used by the image, not by `run`.
    pub hotspot: HotspotConfig,
    /// `[sync] hub_url`, checked: the enrollment form's default.
    pub hub_url: Option<String>,
    /// `[sync] interval_s`.
    pub sync_interval: Duration,
    /// `[storage] reserve_free_mb` in bytes; 0 is off.
    pub reserve_free_bytes: u64,
    /// `[wigle]`, checked.
    pub wigle: WigleConfig,
    /// Values that were adjusted or look wrong, for the log.
    pub warnings: Vec<String>,
}

impl Config {
    /// Reads and parses a file (not yet validated).
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut c = Config::from_toml(&text, &path.display().to_string())?;
        c.origin = Some(path.display().to_string());
        Ok(c)
    }

    /// Parses TOML text; `origin` names it in errors (a file name).
    pub fn from_toml(text: &str, origin: &str) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e: toml::de::Error| ConfigError::Parse {
            origin: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        })
    }

    /// Checks every value once and builds the runtime settings.
    pub fn validate(&self) -> Result<Settings, ConfigError> {
        self.validate_in(self.origin.as_deref().unwrap_or("configuration"))
    }

    fn validate_in(&self, origin: &str) -> Result<Settings, ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            origin: origin.to_string(),
            key: key.to_string(),
            message,
        };
        let mut warnings = Vec::new();
        if self.data_dir.as_os_str().is_empty() {
            return Err(invalid("data_dir", "must not be empty".into()));
        }
        // Under 100 ms every commit's fsync would dominate; over 10 s a power cut loses too much.
        if !(100..=10_000).contains(&self.commit_interval_ms) {
            return Err(invalid(
                "commit_interval_ms",
                format!(
                    "{} is outside 100..=10000 (a power cut loses at most this window; 1000 suits \
                     an SD card)",
                    self.commit_interval_ms
                ),
            ));
        }
        if let Some(p) = &self.web.admin_password
            && p.expose().chars().count() < crate::accounts::MIN_PASSWORD_LEN
        {
            return Err(invalid(
                "web.admin_password",
                format!(
                    "is shorter than {} characters; choose a longer one, or remove the key to \
                     set the password on the first visit",
                    crate::accounts::MIN_PASSWORD_LEN
                ),
            ));
        }
        check_gpsd_addr(&self.gps.gpsd).map_err(|m| invalid("gps.gpsd", m))?;
        let mut hotspot = self.hotspot.clone();
        if let Some(ssid) = &hotspot.ssid {
            check_ssid(ssid).map_err(|m| invalid("hotspot.ssid", m))?;
        }
        if let Some(p) = &hotspot.passphrase {
            check_passphrase(p.expose()).map_err(|m| invalid("hotspot.passphrase", m))?;
        }
        if let Some(c) = &mut hotspot.country {
            *c = check_country(c).map_err(|m| invalid("hotspot.country", m))?;
        }
        if let Some(url) = &self.sync.hub_url {
            check_hub_url(url).map_err(|m| invalid("sync.hub_url", m))?;
        }
        if let Some(s) = self.sync.interval_s
            && !(1..=86_400).contains(&s)
        {
            return Err(invalid(
                "sync.interval_s",
                format!("{s}: between 1 and 86400 seconds"),
            ));
        }
        check_reserve_mb(self.storage.reserve_free_mb)
            .map_err(|m| invalid("storage.reserve_free_mb", m))?;
        if let Some(n) = &self.wigle.api_name {
            check_wigle_credential(n, true).map_err(|m| invalid("wigle.api_name", m))?;
        }
        if let Some(t) = &self.wigle.api_token {
            // The message never quotes the token.
            check_wigle_credential(t.expose(), false).map_err(|m| invalid("wigle.api_token", m))?;
        }
        if !(1..=MAX_WIGLE_ROWS).contains(&self.wigle.max_rows_per_file) {
            return Err(invalid(
                "wigle.max_rows_per_file",
                format!(
                    "{} is outside 1..={MAX_WIGLE_ROWS} (WiGLE takes files up to 180 MB)",
                    self.wigle.max_rows_per_file
                ),
            ));
        }
        check_wigle_base_url(&self.wigle.base_url).map_err(|m| invalid("wigle.base_url", m))?;
        let gpsd = if self.gps.enabled {
            let g = GpsdConfig {
                addr: self.gps.gpsd.clone(),
                stale_after: Duration::from_millis(self.gps.stale_after_ms),
                ..GpsdConfig::default()
            };
            g.validate().map_err(|e| invalid("gps", e.to_string()))?;
            Some(g)
        } else {
            None
        };
        if self.sources.is_empty() {
            warnings.push(
                "no capture source configured (sources = []): only the UI and GPS will run".into(),
            );
        }
        let mut sources = Vec::new();
        let mut names: Vec<&str> = Vec::new();
        for (i, s) in self.sources.iter().enumerate() {
            let key = |k: &str| format!("sources[{i}].{k}");
            let name = s.interface.trim();
            let interface = if name.is_empty() {
                return Err(invalid(
                    &key("interface"),
                    "is empty; name an interface (wlan1) or write \"auto\"".into(),
                ));
            } else if name == AUTO {
                InterfaceChoice::Auto
            } else {
                if names.contains(&name) {
                    return Err(invalid(
                        &key("interface"),
                        format!("{name} is used by two sources; an adapter can serve only one"),
                    ));
                }
                names.push(name);
                InterfaceChoice::Named(name.to_string())
            };
            if s.scan_interval_ms < 1000 {
                return Err(invalid(
                    &key("scan_interval_ms"),
                    format!(
                        "{} is below 1000; a scan itself takes seconds",
                        s.scan_interval_ms
                    ),
                ));
            }
            let h = &s.hop;
            if h.lock.is_some() && !h.channels.is_empty() {
                warnings.push(format!(
                    "{}: {}: both lock and channels are set; the lock wins",
                    origin,
                    key("hop")
                ));
            }
            let (hop, hop_warnings) = HopOptions {
                dwell: Duration::from_millis(h.dwell_ms),
                stride: h.stride,
                bands: h.bands.iter().map(|b| b.0).collect(),
                channels: h.channels.iter().map(|c| c.0).collect(),
                all_6ghz: h.all_6ghz,
                lock: h.lock.map(|c| c.0),
                max_failures: h.max_failures,
            }
            .checked();
            warnings.extend(
                hop_warnings
                    .into_iter()
                    .map(|w| format!("{origin}: {}: {w}", key("hop"))),
            );
            if s.mode == Mode::Scan && *h != HopConfig::default() {
                warnings.push(format!(
                    "{origin}: {}: hop settings have no effect in scan mode (the driver chooses \
                     the channels of a scan)",
                    key("hop")
                ));
            }
            sources.push(SourceSettings {
                interface,
                mode: s.mode,
                filter: match s.filter {
                    Filter::Wardrive => CaptureFilter::Wardrive,
                    Filter::Survey => CaptureFilter::Survey,
                },
                scan_interval: Duration::from_millis(s.scan_interval_ms),
                hop,
            });
        }
        Ok(Settings {
            store_path: self.data_dir.join(STORE_FILE),
            data_dir: self.data_dir.clone(),
            commit_interval: Duration::from_millis(self.commit_interval_ms),
            split_hopping: self.split_hopping,
            listen: self.web.listen,
            admin_password: self.web.admin_password.clone(),
            gpsd,
            set_clock: self.gps.set_clock,
            sources,
            hotspot,
            hub_url: self.sync.hub_url.clone(),
            sync_interval: Duration::from_secs(self.sync.interval_s.unwrap_or(60)),
            reserve_free_bytes: self.storage.reserve_free_mb * 1024 * 1024,
            wigle: self.wigle.clone(),
            warnings,
        })
    }
}

/// `gps.gpsd`: `host:port`, the host a name or an address (IPv6 in brackets).
pub fn check_gpsd_addr(addr: &str) -> Result<(), String> {
    let bad = || format!("{addr:?} is not host:port (for example 127.0.0.1:2947)");
    let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
    let port_ok = port.parse::<u16>().is_ok_and(|p| p > 0);
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'));
    if port_ok && host_ok {
        Ok(())
    } else {
        Err(bad())
    }
}

/// `hotspot.ssid`: 1 to 32 bytes (the 802.11 limit), without control characters (hostapd's
/// file is line-based, and a phone could not show them anyway).
pub fn check_ssid(ssid: &str) -> Result<(), String> {
    if ssid.is_empty() || ssid.len() > 32 {
        return Err(format!(
            "must be 1 to 32 bytes; this one is {} (letters outside ASCII take 2 to 4 bytes)",
            ssid.len()
        ));
    }
    if ssid.chars().any(char::is_control) {
        return Err("must not contain control characters (tabs, line breaks)".into());
    }
    Ok(())
}

/// `hotspot.passphrase`: WPA2-PSK's 8 to 63 printable ASCII characters.
pub fn check_passphrase(p: &str) -> Result<(), String> {
    if !p.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return Err(
            "may hold only printable ASCII characters (letters, digits, punctuation, space)".into(),
        );
    }
    if !(8..=63).contains(&p.len()) {
        return Err(format!(
            "must be 8 to 63 characters; this one is {}",
            p.len()
        ));
    }
    Ok(())
}

/// `hotspot.country`: two letters (ISO 3166-1 alpha-2); returned upper-cased.
pub fn check_country(c: &str) -> Result<String, String> {
    if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(c.to_ascii_uppercase())
    } else {
        Err(format!(
            "{c:?} is not a two-letter country code (for example DE, US, GB)"
        ))
    }
}

/// `sync.hub_url`: an absolute `https://` URL with a host, without a user name or password
/// in it (credentials do not belong in a URL that the page shows) and without a fragment.
pub fn check_hub_url(url: &str) -> Result<(), String> {
    let Some(rest) = url.strip_prefix("https://") else {
        return Err(
            "must start with https:// (the hub is reached over TLS only, never plain HTTP)".into(),
        );
    };
    if url.len() > 2048 {
        return Err("is longer than 2048 characters".into());
    }
    if let Some(c) = url
        .chars()
        .find(|c| c.is_control() || c.is_whitespace() || !c.is_ascii())
    {
        return Err(format!(
            "must not contain {c:?}: percent-encode it (a space is %20)"
        ));
    }
    if url.contains('#') {
        return Err("must not have a #fragment".into());
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.contains('@') {
        return Err("must not hold a user name or password".into());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| "has an unclosed [ in its address".to_string())?;
        if h.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("[{h}] is not an IPv6 address"));
        }
        match after {
            "" => (h, None),
            p => (
                h,
                Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| "has text after its address".to_string())?,
                ),
            ),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("has no host name".into());
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if !authority.starts_with('[') && (host.len() > 253 || !host.split('.').all(label_ok)) {
        return Err(format!("{host:?} is not a valid host name"));
    }
    if let Some(p) = port
        && !p.parse::<u16>().is_ok_and(|p| p > 0)
    {
        return Err(format!("{p:?} is not a port number (1 to 65535)"));
    }
    let path = &rest[end..];
    if let Some(c) = path
        .chars()
        .find(|c| matches!(c, '<' | '>' | '"' | '\\' | '^' | '`' | '{' | '|' | '}'))
    {
        return Err(format!("must not contain {c:?}: percent-encode it"));
    }
    Ok(())
}

/// `storage.reserve_free_mb`: 0 (off) to [`MAX_RESERVE_FREE_MB`].
pub fn check_reserve_mb(mb: u64) -> Result<(), String> {
    if mb > MAX_RESERVE_FREE_MB {
        Err(format!(
            "{mb} is more than {MAX_RESERVE_FREE_MB} MB; write 0 to turn the reserve off"
        ))
    } else {
        Ok(())
    }
}

/// The settings the web UI saves: a TOML file in the data directory, merged over the
/// configuration file when `run` starts (see [`load_layers`]).
pub const OVERLAY_FILE: &str = "settings.toml";

/// The top-level keys the overlay may hold: what the settings page edits. The others
/// (`data_dir`, `[web]`, ...) belong to the configuration file only: the overlay is found
/// through `data_dir`, and an admin password does not belong on the data partition.
pub const OVERLAY_KEYS: [&str; 6] = ["gps", "sources", "hotspot", "sync", "storage", "wigle"];

/// The layers `run` merged, kept for the settings page.
#[derive(Debug, Clone, Default)]
pub struct Layers {
    /// The configuration file as parsed, without its `[web]` table (the admin password in
    /// it must not stay in memory in clear); empty without a file.
    pub file: toml::Table,
    /// The file's path; `None` when `run` had no `--config`.
    pub file_path: Option<PathBuf>,
    /// `<data_dir>/settings.toml`.
    pub overlay_path: PathBuf,
    /// The overlay as read at start (`None`: there was none).
    pub overlay: Option<toml::Table>,
}

/// Parses configuration text into a TOML table, after the strict parse (so an unknown key
/// is refused by name and line, exactly as in a configuration file).
pub fn parse_table(text: &str, origin: &str) -> Result<toml::Table, ConfigError> {
    Config::from_toml(text, origin)?;
    text.parse::<toml::Table>().map_err(|e| ConfigError::Parse {
        origin: origin.to_string(),
        message: e.to_string().trim_end().to_string(),
    })
}

/// Parses an overlay: the strict parse, and only the keys of [`OVERLAY_KEYS`].
pub fn parse_overlay(text: &str, origin: &str) -> Result<toml::Table, ConfigError> {
    let t = parse_table(text, origin)?;
    if let Some(k) = t.keys().find(|k| !OVERLAY_KEYS.contains(&k.as_str())) {
        return Err(ConfigError::Invalid {
            origin: origin.to_string(),
            key: k.clone(),
            message: format!(
                "cannot be set in the settings overlay (it may hold only {}); set it in the \
                 configuration file given to `piwardrive run --config`",
                OVERLAY_KEYS.join(", ")
            ),
        });
    }
    Ok(t)
}

/// The overlay at `path`; `None` when there is no such file.
pub fn read_overlay(path: &Path) -> Result<Option<toml::Table>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_overlay(&text, &path.display().to_string()).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ConfigError::Read {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Merges `over` into `base`: a table merges key by key, anything else (a value, an array,
/// so the whole `sources` list) replaces what `base` has.
pub fn merge(base: &mut toml::Table, over: &toml::Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// What `run` starts with: the configuration file (or the defaults), with the overlay in its
/// data directory merged over it. Precedence, lowest first: defaults, the file, the overlay
/// (then the command line's `--lock`, applied by the caller).
pub fn load_layers(path: Option<&Path>) -> Result<(Config, Layers), ConfigError> {
    load_layers_in(path, None)
}

/// [`load_layers`], with `data_dir` (a command's `--data-dir`) in place of the file's: the
/// overlay is then the one in that directory.
pub fn load_layers_in(
    path: Option<&Path>,
    data_dir: Option<&Path>,
) -> Result<(Config, Layers), ConfigError> {
    let (mut file, origin) = match path {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                path: p.display().to_string(),
                source,
            })?;
            let origin = p.display().to_string();
            (parse_table(&text, &origin)?, origin)
        }
        None => (toml::Table::new(), "the defaults".to_string()),
    };
    if let Some(d) = data_dir {
        file.insert(
            "data_dir".to_owned(),
            toml::Value::String(d.to_string_lossy().into_owned()),
        );
    }
    let base = Config::from_table(&file, &origin)?;
    let overlay_path = base.data_dir.join(OVERLAY_FILE);
    let overlay = read_overlay(&overlay_path)?;
    let mut config = match &overlay {
        Some(overlay) => {
            let mut merged = file.clone();
            merge(&mut merged, overlay);
            let origin = format!("{origin} with {}", overlay_path.display());
            let mut c = Config::from_table(&merged, &origin)?;
            c.origin = Some(origin);
            c
        }
        None => base,
    };
    if config.origin.is_none() {
        config.origin = path.map(|p| p.display().to_string());
    }
    file.remove("web");
    Ok((
        config,
        Layers {
            file,
            file_path: path.map(Path::to_path_buf),
            overlay_path,
            overlay,
        },
    ))
}

impl Config {
    /// Parses a TOML table (a merge of layers) with the same strict parser as a file.
    pub fn from_table(table: &toml::Table, origin: &str) -> Result<Config, ConfigError> {
        let text = toml::to_string(table).map_err(|e| ConfigError::Parse {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        Config::from_toml(&text, origin)
    }

    /// `piwardrive run --lock CHANNEL`: every source that can hop (mode monitor or auto) stays
    /// on `channel`, whatever the file says about hopping. Returns how many sources it locked.
    pub fn lock_channel(&mut self, channel: ChannelRef) -> usize {
        let mut n = 0;
        for s in self.sources.iter_mut().filter(|s| s.mode != Mode::Scan) {
            s.hop.lock = Some(ChannelName(channel));
            s.hop.channels.clear();
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml(text, "/etc/piwardrive.toml")
    }

    #[test]
    fn an_empty_file_is_the_default() {
        let c = parse("").unwrap();
        assert_eq!(c, Config::default());
        let s = c.validate().unwrap();
        assert_eq!(s.store_path, Path::new("/data/piwardrive.redb"));
        assert_eq!(s.listen.to_string(), "0.0.0.0:80");
        assert_eq!(s.commit_interval, Duration::from_secs(1));
        assert_eq!(s.gpsd.as_ref().unwrap().addr, "127.0.0.1:2947");
        assert_eq!(s.sources.len(), 1);
        assert_eq!(s.sources[0].interface, InterfaceChoice::Auto);
        assert_eq!(s.sources[0].mode, Mode::Auto);
        assert_eq!(s.sources[0].filter, CaptureFilter::Wardrive);
        assert_eq!(s.sources[0].hop, HopOptions::default());
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    }

    #[test]
    fn wigle_keys_are_checked_and_the_token_never_printed() {
        let c = parse(
            "[wigle]\napi_name = \"AIDabc\"\napi_token = \"s3cr3t-t0ken\"\ndonate = true\n\
             max_rows_per_file = 1000\nbase_url = \"http://127.0.0.1:8080\"\n",
        )
        .unwrap();
        let s = c.validate().unwrap();
        assert_eq!(s.wigle.api_name.as_deref(), Some("AIDabc"));
        assert!(s.wigle.donate);
        assert!(!format!("{c:?} {s:?}").contains("s3cr3t"));
        assert_eq!(Config::default().wigle.base_url, "https://api.wigle.net");
        for (text, key, message) in [
            (
                "api_name = \"a:b\"",
                "wigle.api_name",
                "must not contain ':'",
            ),
            (
                "api_token = \"two words\"",
                "wigle.api_token",
                "printable ASCII",
            ),
            (
                "max_rows_per_file = 0",
                "wigle.max_rows_per_file",
                "outside 1..=1125000",
            ),
            (
                "max_rows_per_file = 2000000",
                "wigle.max_rows_per_file",
                "180 MB",
            ),
            (
                "base_url = \"http://wigle.example\"",
                "wigle.base_url",
                "only to this machine",
            ),
            ("base_url = \"ftp://x\"", "wigle.base_url", "https://"),
        ] {
            let e = parse(&format!("[wigle]\n{text}\n"))
                .unwrap()
                .validate()
                .unwrap_err()
                .to_string();
            assert!(e.contains(key) && e.contains(message), "{text}: {e}");
            assert!(!e.contains("two words"), "{e}");
        }
        for ok in [
            "https://api.wigle.net",
            "http://localhost:9/x",
            "http://[::1]:80",
        ] {
            assert!(check_wigle_base_url(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn a_full_file() {
        let c = parse(
            r#"
            data_dir = "/tmp/pw"
            commit_interval_ms = 2000
            split_hopping = false
            [web]
            listen = "127.0.0.1:8080"
            [gps]
            enabled = false
            [[sources]]
            interface = "wlan1"
            mode = "monitor"
            filter = "survey"
            [sources.hop]
            dwell_ms = 250
            stride = 3
            bands = ["2.4", 5, "6"]
            channels = [1, 6, 11, "6/37", 5180]
            all_6ghz = true
            max_failures = 5
            [[sources]]
            interface = "wlan2"
            mode = "scan"
            scan_interval_ms = 5000
            [[sources]]
            hop.lock = 6
            "#,
        )
        .unwrap();
        let s = c.validate().unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.gpsd, None);
        assert!(!s.split_hopping);
        let h = &s.sources[0].hop;
        assert_eq!(h.dwell, Duration::from_millis(250));
        assert_eq!(h.bands, [Band::Ghz2_4, Band::Ghz5, Band::Ghz6]);
        assert_eq!(
            h.channels,
            [
                ChannelRef::Number(1),
                ChannelRef::Number(6),
                ChannelRef::Number(11),
                ChannelRef::InBand(Band::Ghz6, 37),
                ChannelRef::Freq(5180)
            ]
        );
        assert_eq!(s.sources[0].filter, CaptureFilter::Survey);
        assert_eq!(s.sources[1].mode, Mode::Scan);
        assert_eq!(s.sources[2].interface, InterfaceChoice::Auto);
        assert_eq!(s.sources[2].hop.lock, Some(ChannelRef::Number(6)));
        // --lock on the command line wins over the file's hop settings, scan sources aside.
        let mut c = c.clone();
        assert_eq!(c.lock_channel(ChannelRef::Number(44)), 2);
        let s = c.validate().unwrap();
        assert_eq!(s.sources[0].hop.lock, Some(ChannelRef::Number(44)));
        assert!(s.sources[0].hop.channels.is_empty());
        assert_eq!(s.sources[1].hop.lock, None);
        assert_eq!(s.sources[2].hop.lock, Some(ChannelRef::Number(44)));
    }

    #[test]
    fn an_unknown_key_is_named_with_its_line() {
        let e = parse("data_dir = \"/data\"\n[web]\nlisten = \"0.0.0.0:80\"\nlistne = 1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("listne"), "{e}");
        assert!(e.contains("/etc/piwardrive.toml"), "{e}");
        assert!(e.contains("line 4"), "{e}");
        let e = parse("[[sources]]\n[sources.hop]\ndwell = 100\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("dwell") && e.contains("line 3"), "{e}");
        let e = parse("colour = \"red\"\n").unwrap_err().to_string();
        assert!(e.contains("colour") && e.contains("line 1"), "{e}");
    }

    #[test]
    fn bad_values_are_named() {
        let e = parse("[[sources]]\nmode = \"promiscuous\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("promiscuous") && e.contains("line 2"), "{e}");
        let e = parse("[[sources]]\nhop.lock = \"7/1\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("7/1") && e.contains("line 2"), "{e}");
        let e = parse("[[sources]]\nhop.bands = [\"3\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn validation() {
        let dup = parse("[[sources]]\ninterface = \"wlan1\"\n[[sources]]\ninterface = \"wlan1\"\n")
            .unwrap()
            .validate()
            .unwrap_err()
            .to_string();
        assert!(
            dup.contains("sources[1].interface") && dup.contains("wlan1"),
            "{dup}"
        );
        // Two "auto" sources are two adapters, not a duplicate.
        parse("[[sources]]\n[[sources]]\n")
            .unwrap()
            .validate()
            .unwrap();
        let slow = parse("commit_interval_ms = 60000\n")
            .unwrap()
            .validate()
            .unwrap_err()
            .to_string();
        assert!(slow.contains("commit_interval_ms"), "{slow}");
        let s = parse("[[sources]]\nhop.dwell_ms = 20\n")
            .unwrap()
            .validate()
            .unwrap();
        assert_eq!(s.sources[0].hop.dwell, hopper::MIN_DWELL);
        assert!(
            s.warnings[0].contains("sources[0].hop") && s.warnings[0].contains("50ms"),
            "{:?}",
            s.warnings
        );
        let s = parse("sources = []\n").unwrap().validate().unwrap();
        assert!(s.sources.is_empty() && !s.warnings.is_empty());
    }

    #[test]
    fn the_admin_password_is_checked_and_never_printed() {
        let s = parse("[web]\nadmin_password = \"hunter2hunter2\"\n")
            .unwrap()
            .validate()
            .unwrap();
        assert_eq!(
            s.admin_password.as_ref().unwrap().expose(),
            "hunter2hunter2"
        );
        assert!(!format!("{s:?}").contains("hunter2"), "{s:?}");
        assert!(format!("{s:?}").contains("<redacted>"));
        let e = parse("[web]\nadmin_password = \"short\"\n")
            .unwrap()
            .validate()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("web.admin_password") && !e.contains("short\""),
            "{e}"
        );
        assert_eq!(parse("").unwrap().validate().unwrap().admin_password, None);
    }

    #[test]
    fn load_names_the_file() {
        let dir = std::env::temp_dir().join(format!("pw-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("bad.toml");
        std::fs::write(&p, "[gps]\nenable = false\n").unwrap();
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(
            e.contains("bad.toml") && e.contains("enable") && e.contains("line 2"),
            "{e}"
        );
        let missing = Config::load(&dir.join("none.toml"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("none.toml"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_overlay_merges_over_the_file_and_is_parsed_as_strictly() {
        let d = tempfile::tempdir().unwrap();
        let data = d.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let file = d.path().join("piwardrive.toml");
        std::fs::write(
            &file,
            format!(
                "data_dir = {data:?}\n[web]\nadmin_password = \"hunter2hunter2\"\n\
                 [gps]\ngpsd = \"10.0.0.1:2947\"\nstale_after_ms = 5000\n\
                 [[sources]]\ninterface = \"wlan1\"\nscan_interval_ms = 4000\n\
                 [sources.hop]\nstride = 3\n"
            ),
        )
        .unwrap();
        // Without an overlay: the file.
        let (c, layers) = load_layers(Some(&file)).unwrap();
        assert_eq!(c.gps.gpsd, "10.0.0.1:2947");
        assert_eq!(layers.overlay_path, data.join(OVERLAY_FILE));
        assert!(layers.overlay.is_none());
        // The admin password is not kept in the layers.
        assert!(!layers.file.contains_key("web"), "{:?}", layers.file);
        assert_eq!(
            c.web.admin_password.as_ref().map(Secret::expose),
            Some("hunter2hunter2")
        );
        // The overlay wins key by key inside a table, and replaces the sources list.
        std::fs::write(
            data.join(OVERLAY_FILE),
            "[gps]\nset_clock = false\n[[sources]]\ninterface = \"wlan2\"\nmode = \"scan\"\n\
             [storage]\nreserve_free_mb = 250\n[hotspot]\ncountry = \"de\"\n",
        )
        .unwrap();
        let (c, layers) = load_layers(Some(&file)).unwrap();
        assert_eq!(c.gps.gpsd, "10.0.0.1:2947");
        assert_eq!(c.gps.stale_after_ms, 5000);
        assert!(!c.gps.set_clock);
        assert_eq!(c.sources.len(), 1);
        assert_eq!(c.sources[0].interface, "wlan2");
        assert_eq!(c.sources[0].scan_interval_ms, DEFAULT_SCAN_INTERVAL_MS);
        assert!(layers.overlay.is_some());
        let s = c.validate().unwrap();
        assert_eq!(s.reserve_free_bytes, 250 * 1024 * 1024);
        assert_eq!(s.hotspot.country.as_deref(), Some("DE"));
        assert!(c.origin.as_deref().unwrap().contains(OVERLAY_FILE));
        // An unknown key in the overlay: refused by name, file and line.
        std::fs::write(data.join(OVERLAY_FILE), "[gps]\nset_clok = false\n").unwrap();
        let e = load_layers(Some(&file)).unwrap_err().to_string();
        assert!(
            e.contains("set_clok") && e.contains(OVERLAY_FILE) && e.contains("line 2"),
            "{e}"
        );
        // Keys that belong to the file only.
        for text in ["data_dir = \"/tmp\"\n", "[web]\nlisten = \"0.0.0.0:81\"\n"] {
            std::fs::write(data.join(OVERLAY_FILE), text).unwrap();
            let e = load_layers(Some(&file)).unwrap_err().to_string();
            assert!(e.contains("cannot be set in the settings overlay"), "{e}");
        }
        // A value the validation refuses names the key and both files.
        std::fs::write(
            data.join(OVERLAY_FILE),
            "[sync]\nhub_url = \"http://hub\"\n",
        )
        .unwrap();
        let (c, _) = load_layers(Some(&file)).unwrap();
        let e = c.validate().unwrap_err().to_string();
        assert!(
            e.contains("sync.hub_url") && e.contains("https://") && e.contains(OVERLAY_FILE),
            "{e}"
        );
        // No file at all: the defaults, and the overlay in the default data directory.
        let (c, layers) = load_layers(None).unwrap();
        assert_eq!(layers.overlay_path, Path::new("/data").join(OVERLAY_FILE));
        assert_eq!(c.data_dir, Path::new(DEFAULT_DATA_DIR));
    }

    #[test]
    fn hotspot_sync_and_storage_values_are_checked() {
        assert!(check_ssid("PiWardrive").is_ok());
        assert!(check_ssid(&"x".repeat(32)).is_ok());
        assert!(check_ssid(&"x".repeat(33)).unwrap_err().contains("33"));
        // 11 × 3 bytes: 33 bytes in 11 characters.
        assert!(check_ssid(&"€".repeat(11)).is_err());
        assert!(check_ssid("").is_err());
        assert!(check_ssid("a\nb").is_err());
        assert!(check_passphrase("12345678").is_ok());
        assert!(check_passphrase(&"p".repeat(63)).is_ok());
        assert!(check_passphrase(&"p".repeat(64)).is_err());
        assert!(check_passphrase("1234567").is_err());
        assert!(
            check_passphrase("pässwörter")
                .unwrap_err()
                .contains("ASCII")
        );
        assert_eq!(check_country("de").unwrap(), "DE");
        assert!(check_country("DEU").is_err());
        assert!(check_country("D1").is_err());
        assert!(check_reserve_mb(0).is_ok());
        assert!(check_reserve_mb(MAX_RESERVE_FREE_MB + 1).is_err());
        assert!(check_gpsd_addr("127.0.0.1:2947").is_ok());
        assert!(check_gpsd_addr("[::1]:2947").is_ok());
        assert!(check_gpsd_addr("gps.local:2947").is_ok());
        for bad in [
            "127.0.0.1",
            ":2947",
            "host:0",
            "host:99999",
            "a b:1",
            "<x>:1",
        ] {
            assert!(check_gpsd_addr(bad).is_err(), "{bad}");
        }
    }

    /// The hub URL check against the `url` crate (WHATWG URL parsing, which we did not
    /// write): everything it accepts is an https URL with a host and no credentials.
    #[test]
    fn hub_urls_accepted_are_https_urls_with_a_host() {
        let good = [
            "https://hub.example.org",
            "https://hub.example.org/",
            "https://hub.example.org:8443/api/v1?device=pi",
            "https://10.0.0.5/",
            "https://[2001:db8::1]:443/sync",
            "https://a-b.c-d.example/%20x",
        ];
        for u in good {
            check_hub_url(u).unwrap_or_else(|e| panic!("{u}: {e}"));
            let parsed = url::Url::parse(u).unwrap_or_else(|e| panic!("{u}: {e}"));
            assert_eq!(parsed.scheme(), "https", "{u}");
            assert!(parsed.host().is_some(), "{u}");
            assert!(
                parsed.username().is_empty() && parsed.password().is_none(),
                "{u}"
            );
        }
        for (u, why) in [
            ("http://hub.example.org", "https://"),
            ("hub.example.org", "https://"),
            ("https://", "host"),
            ("https://user:pw@hub.example.org/", "user name"),
            ("https://hub.example.org/a b", "%20"),
            ("https://hub.example.org/#x", "fragment"),
            ("https://hub..example.org/", "host name"),
            ("https://-hub.example.org/", "host name"),
            ("https://hub.example.org:0/", "port"),
            ("https://hub.example.org:https/", "port"),
            ("https://[not-v6]/", "IPv6"),
            ("https://hub.example.org/\"><script>", "percent-encode"),
            ("javascript:alert(1)", "https://"),
        ] {
            let e = check_hub_url(u).expect_err(u);
            assert!(e.contains(why), "{u}: {e}");
        }
    }
}
