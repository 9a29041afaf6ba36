//! gpsd's JSON reports (gpsd_json(5)), parsed leniently into the few values PiWardrive uses.
//!
//! Parsing is pure: bytes in, a [`Report`] or a [`ProtoError`] out, no I/O and no clock. Every
//! field is optional except the class, because gpsd omits whatever it does not know and
//! releases differ in what they send (3.22 writes `"activated"` as a time or as `0`, older
//! releases as a number). A class this module does not use becomes [`Report::Other`] so that the
//! caller can count it; it is never an error that could stop the reader.

use serde::Deserialize;
use serde_json::Value;

use crate::model::TimeUs;

/// One line from gpsd, reduced to what the client needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    Version(Version),
    Devices(Vec<Device>),
    Device(Device),
    Watch(Watch),
    Tpv(Tpv),
    Sky(Sky),
    /// A report of a class the client does not use (TOFF, PPS, ERROR, ATT, IMU, GST, POLL...).
    Other(String),
}

/// The VERSION banner gpsd sends on connect.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Version {
    pub release: Option<String>,
    pub proto_major: Option<u32>,
    pub proto_minor: Option<u32>,
}

/// Whether a device is active, from DEVICE's `activated` field.
#[derive(Debug, Clone, PartialEq)]
pub enum Activated {
    /// Active since the given time (gpsd 3.22 sends an ISO 8601 string; older releases a number).
    Since(String),
    /// `"activated":0`: gpsd closed the device, which is what an unplugged USB receiver looks like.
    Deactivated,
    /// The field was absent: a notification about a device that is still there.
    Unspecified,
}

/// A DEVICE report, or one entry of DEVICES.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    pub path: Option<String>,
    pub driver: Option<String>,
    pub activated: Activated,
}

/// The WATCH acknowledgement.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Watch {
    pub enable: Option<bool>,
}

/// A time-position-velocity report.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tpv {
    pub device: Option<String>,
    /// 0 = no mode value seen yet, 1 = no fix, 2 = 2D, 3 = 3D.
    pub mode: u8,
    /// GPS time (UTC, Unix µs); gpsd leaves it out on some fixed TPVs.
    pub time_us: Option<TimeUs>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// Height above the WGS 84 ellipsoid (gpsd ≥ 3.20).
    pub alt_hae: Option<f64>,
    /// `alt`: mean sea level in gpsd ≥ 3.20 (deprecated there), the only altitude before.
    pub alt: Option<f64>,
    /// Horizontal position error estimate, metres.
    pub eph: Option<f64>,
    /// Longitude error estimate, metres.
    pub epx: Option<f64>,
    /// Latitude error estimate, metres.
    pub epy: Option<f64>,
}

/// A sky view report.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sky {
    pub device: Option<String>,
    /// Satellites used in the solution: `uSat`, else counted from `satellites[].used`.
    pub used: Option<u32>,
    /// Satellites visible: `nSat`, else the length of `satellites`.
    pub visible: Option<u32>,
    pub hdop: Option<f64>,
}

/// Why a line is not a usable gpsd report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    #[error("not a JSON object with a \"class\": {0}")]
    NotJson(String),
    #[error("{class} report with a bad field: {detail}")]
    BadField { class: &'static str, detail: String },
    #[error("{class} report has an unparseable time {time:?}")]
    BadTime { class: &'static str, time: String },
}

#[derive(Deserialize)]
struct Envelope {
    class: String,
}

#[derive(Deserialize)]
struct VersionWire {
    release: Option<String>,
    proto_major: Option<u32>,
    proto_minor: Option<u32>,
}

#[derive(Deserialize)]
struct DeviceWire {
    path: Option<String>,
    driver: Option<String>,
    activated: Option<Value>,
}

#[derive(Deserialize)]
struct DevicesWire {
    #[serde(default)]
    devices: Vec<DeviceWire>,
}

#[derive(Deserialize)]
struct WatchWire {
    enable: Option<bool>,
}

#[derive(Deserialize)]
struct TpvWire {
    device: Option<String>,
    #[serde(default)]
    mode: u8,
    time: Option<Value>,
    lat: Option<f64>,
    lon: Option<f64>,
    #[serde(rename = "altHAE")]
    alt_hae: Option<f64>,
    alt: Option<f64>,
    eph: Option<f64>,
    epx: Option<f64>,
    epy: Option<f64>,
}

#[derive(Deserialize)]
struct SatWire {
    used: Option<bool>,
}

#[derive(Deserialize)]
struct SkyWire {
    device: Option<String>,
    #[serde(rename = "uSat")]
    u_sat: Option<u32>,
    #[serde(rename = "nSat")]
    n_sat: Option<u32>,
    satellites: Option<Vec<SatWire>>,
    hdop: Option<f64>,
}

/// Parses one line of gpsd output (without its newline).
///
/// The class is read first and the body second, so that an unknown class is reported as
/// [`Report::Other`] whatever its body looks like, and a known class with a malformed body is
/// an error naming the class.
pub fn parse_report(line: &[u8]) -> Result<Report, ProtoError> {
    let env: Envelope =
        serde_json::from_slice(line).map_err(|e| ProtoError::NotJson(e.to_string()))?;
    let bad = |class: &'static str| {
        move |e: serde_json::Error| ProtoError::BadField {
            class,
            detail: e.to_string(),
        }
    };
    Ok(match env.class.as_str() {
        "VERSION" => {
            let w: VersionWire = serde_json::from_slice(line).map_err(bad("VERSION"))?;
            Report::Version(Version {
                release: w.release,
                proto_major: w.proto_major,
                proto_minor: w.proto_minor,
            })
        }
        "DEVICES" => {
            let w: DevicesWire = serde_json::from_slice(line).map_err(bad("DEVICES"))?;
            Report::Devices(w.devices.into_iter().map(device).collect())
        }
        "DEVICE" => {
            let w: DeviceWire = serde_json::from_slice(line).map_err(bad("DEVICE"))?;
            Report::Device(device(w))
        }
        "WATCH" => {
            let w: WatchWire = serde_json::from_slice(line).map_err(bad("WATCH"))?;
            Report::Watch(Watch { enable: w.enable })
        }
        "TPV" => {
            let w: TpvWire = serde_json::from_slice(line).map_err(bad("TPV"))?;
            let time_us = match w.time {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => {
                    Some(parse_iso8601_utc(&s).ok_or(ProtoError::BadTime {
                        class: "TPV",
                        time: s,
                    })?)
                }
                // gpsd before 3.10 sent Unix seconds as a number.
                Some(Value::Number(n)) => {
                    let secs = n.as_f64().filter(|s| s.is_finite()).ok_or_else(|| {
                        ProtoError::BadTime {
                            class: "TPV",
                            time: n.to_string(),
                        }
                    })?;
                    Some((secs * 1e6).round() as TimeUs)
                }
                Some(other) => {
                    return Err(ProtoError::BadTime {
                        class: "TPV",
                        time: other.to_string(),
                    });
                }
            };
            Report::Tpv(Tpv {
                device: w.device,
                mode: w.mode,
                time_us,
                lat: w.lat,
                lon: w.lon,
                alt_hae: w.alt_hae,
                alt: w.alt,
                eph: w.eph,
                epx: w.epx,
                epy: w.epy,
            })
        }
        "SKY" => {
            let w: SkyWire = serde_json::from_slice(line).map_err(bad("SKY"))?;
            let counted_used = w.satellites.as_ref().map(|s| {
                u32::try_from(s.iter().filter(|s| s.used == Some(true)).count()).unwrap_or(u32::MAX)
            });
            let counted_visible = w
                .satellites
                .as_ref()
                .map(|s| u32::try_from(s.len()).unwrap_or(u32::MAX));
            Report::Sky(Sky {
                device: w.device,
                used: w.u_sat.or(counted_used),
                visible: w.n_sat.or(counted_visible),
                hdop: w.hdop,
            })
        }
        _ => Report::Other(env.class),
    })
}

fn device(w: DeviceWire) -> Device {
    let activated = match w.activated {
        None | Some(Value::Null) => Activated::Unspecified,
        Some(Value::Number(n)) if n.as_f64() == Some(0.0) => Activated::Deactivated,
        Some(Value::String(s)) => Activated::Since(s),
        Some(other) => Activated::Since(other.to_string()),
    };
    Device {
        path: w.path,
        driver: w.driver,
        activated,
    }
}

/// Parses gpsd's UTC time stamps, `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, to Unix microseconds.
///
/// Only the form gpsd writes is accepted (a `Z` zone, no offsets); digits past the
/// microsecond are truncated. Returns `None` for anything else, including impossible dates.
pub fn parse_iso8601_utc(s: &str) -> Option<TimeUs> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    if b[13] != b':' || b[16] != b':' || *b.last()? != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // A leap second (60) is accepted and lands on the next second, as Unix time does.
    if !(1..=12).contains(&month) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let rest = &s[19..s.len() - 1];
    let micros = if rest.is_empty() {
        0
    } else {
        let frac = rest.strip_prefix('.')?;
        if frac.is_empty() || !frac.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let mut us = 0i64;
        for i in 0..6 {
            us = us * 10 + frac.as_bytes().get(i).map_or(0, |d| i64::from(d - b'0'));
        }
        us
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3_600 + minute * 60 + second;
    Some(secs * 1_000_000 + micros)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the usual era-based conversion).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    // Lines from /work/shared/data/gps/gpsd-3.22-output/bundg_zeus_9.gpspipe-w.jsonl (gpsd 3.22
    // replaying gpsd's test/daemon/bundg_zeus_9.log).
    const BUNDG_VERSION: &[u8] =
        br#"{"class":"VERSION","release":"3.22","rev":"3.22","proto_major":3,"proto_minor":14}"#;
    const BUNDG_DEVICES: &[u8] = br#"{"class":"DEVICES","devices":[{"class":"DEVICE","path":"/dev/pts/1","activated":"2026-11-27T13:28:19.573Z","native":0,"bps":4800,"parity":"N","stopbits":1,"cycle":1.00}]}"#;
    const BUNDG_WATCH: &[u8] = br#"{"class":"WATCH","enable":true,"json":true,"nmea":false,"raw":0,"scaled":false,"timing":false,"split24":false,"pps":false}"#;
    const BUNDG_DEVICE_GONE: &[u8] = br#"{"class":"DEVICE","path":"/dev/pts/1","activated":0}"#;
    const BUNDG_TPV_MODE0: &[u8] = br#"{"class":"TPV","device":"/dev/pts/1","mode":0,"wanglem":326.1,"wanglet":327.5,"wspeedt":5.8}"#;
    const BUNDG_TPV_NO_TIME: &[u8] = br#"{"class":"TPV","device":"/dev/pts/1","mode":3,"lat":52.850095000,"lon":5.313490000,"altHAE":42.8000,"altMSL":-4.0000,"alt":-4.0000,"epx":7.468,"epy":8.884,"epv":20.700,"track":229.4309,"magtrack":231.0000,"magvar":1.6,"geoidSep":46.800,"eph":11.400,"sep":20.900}"#;
    const BUNDG_SKY: &[u8] = br#"{"class":"SKY","device":"/dev/pts/1","xdop":0.50,"ydop":0.59,"vdop":0.90,"tdop":0.60,"hdop":0.60,"gdop":1.40,"pdop":1.10,"nSat":12,"uSat":12,"satellites":[{"PRN":7,"el":10.0,"az":333.0,"ss":37.0,"used":true,"gnssid":0,"svid":7},{"PRN":8,"el":12.0,"az":279.0,"ss":34.0,"used":true,"gnssid":0,"svid":8}]}"#;
    // From .../haicom-305N.gpspipe-w.jsonl.
    const HAICOM_TPV: &[u8] = br#"{"class":"TPV","device":"/dev/pts/1","mode":3,"time":"2026-11-22T09:54:14.787Z","ept":0.005,"lat":-27.210671667,"lon":153.051990000,"altHAE":45.4000,"altMSL":3.2000,"alt":3.2000,"epx":12.987,"epy":10.428,"epv":55.200,"track":86.0300,"magtrack":96.9784,"magvar":10.9,"speed":1.132,"climb":0.100,"eps":25.97,"epc":105.80,"geoidSep":42.200,"eph":20.900,"sep":49.400}"#;

    #[test]
    fn real_gpsd_322_lines() {
        assert_eq!(
            parse_report(BUNDG_VERSION).unwrap(),
            Report::Version(Version {
                release: Some("3.22".into()),
                proto_major: Some(3),
                proto_minor: Some(14),
            })
        );
        let Report::Devices(d) = parse_report(BUNDG_DEVICES).unwrap() else {
            panic!()
        };
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path.as_deref(), Some("/dev/pts/1"));
        assert_eq!(
            d[0].activated,
            Activated::Since("2026-11-27T13:28:19.573Z".into())
        );
        assert_eq!(
            parse_report(BUNDG_WATCH).unwrap(),
            Report::Watch(Watch { enable: Some(true) })
        );
        let Report::Device(d) = parse_report(BUNDG_DEVICE_GONE).unwrap() else {
            panic!()
        };
        assert_eq!(d.activated, Activated::Deactivated);
        let Report::Tpv(t) = parse_report(BUNDG_TPV_MODE0).unwrap() else {
            panic!()
        };
        assert_eq!((t.mode, t.lat, t.time_us), (0, None, None));
        let Report::Tpv(t) = parse_report(BUNDG_TPV_NO_TIME).unwrap() else {
            panic!()
        };
        assert_eq!(t.mode, 3);
        assert_eq!(t.time_us, None);
        assert_eq!((t.lat, t.lon), (Some(52.850095), Some(5.31349)));
        assert_eq!((t.alt_hae, t.alt), (Some(42.8), Some(-4.0)));
        assert_eq!(
            (t.eph, t.epx, t.epy),
            (Some(11.4), Some(7.468), Some(8.884))
        );
        let Report::Tpv(t) = parse_report(HAICOM_TPV).unwrap() else {
            panic!()
        };
        // 2026-11-22T09:54:14.787Z, checked with `date -u -d 2026-11-22T09:54:14Z +%s`.
        assert_eq!(t.time_us, Some(1_795_341_254_787_000));
        let Report::Sky(s) = parse_report(BUNDG_SKY).unwrap() else {
            panic!()
        };
        assert_eq!((s.used, s.visible, s.hdop), (Some(12), Some(12), Some(0.6)));
    }

    #[test]
    fn sky_without_counts_counts_the_satellite_list() {
        let line = br#"{"class":"SKY","satellites":[{"PRN":1,"used":true},{"PRN":2,"used":false},{"PRN":3}]}"#;
        let Report::Sky(s) = parse_report(line).unwrap() else {
            panic!()
        };
        assert_eq!((s.used, s.visible), (Some(1), Some(3)));
        // gpsd 3.23+ may send a SKY with only DOPs: nothing is known about satellites.
        let Report::Sky(s) = parse_report(br#"{"class":"SKY","hdop":1.2}"#).unwrap() else {
            panic!()
        };
        assert_eq!((s.used, s.visible), (None, None));
    }

    #[test]
    fn unknown_classes_are_reported_not_errors() {
        for line in [
            &br#"{"class":"TOFF","device":"/dev/pts/1","real_sec":1,"real_nsec":0}"#[..],
            br#"{"class":"PPS","device":"/dev/pps0","real_sec":1}"#,
            br#"{"class":"ERROR","message":"Unrecognized request 'FOO'"}"#,
            br#"{"class":"ATT","heading":12.5}"#,
            br#"{"class":"IMU","acc_x":0.1}"#,
            br#"{"class":"GST","rms":1.0}"#,
            br#"{"class":"POLL","time":"x","active":1,"tpv":[],"sky":[]}"#,
        ] {
            assert!(
                matches!(parse_report(line), Ok(Report::Other(_))),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn broken_lines_are_errors_not_panics() {
        // A TPV cut short, as a dropped connection leaves it.
        let truncated = &HAICOM_TPV[..90];
        assert!(matches!(
            parse_report(truncated),
            Err(ProtoError::NotJson(_))
        ));
        assert!(matches!(parse_report(b""), Err(ProtoError::NotJson(_))));
        assert!(matches!(
            parse_report(b"\xff\xfe"),
            Err(ProtoError::NotJson(_))
        ));
        assert!(matches!(
            parse_report(b"[1,2]"),
            Err(ProtoError::NotJson(_))
        ));
        assert!(matches!(
            parse_report(br#"{"mode":3}"#),
            Err(ProtoError::NotJson(_))
        ));
        assert!(matches!(
            parse_report(br#"{"class":"TPV","mode":"three"}"#),
            Err(ProtoError::BadField { class: "TPV", .. })
        ));
        assert!(matches!(
            parse_report(br#"{"class":"TPV","mode":3,"time":"yesterday"}"#),
            Err(ProtoError::BadTime { class: "TPV", .. })
        ));
    }

    #[test]
    fn activated_forms() {
        let dev = |l: &[u8]| match parse_report(l).unwrap() {
            Report::Device(d) => d.activated,
            r => panic!("{r:?}"),
        };
        assert_eq!(
            dev(br#"{"class":"DEVICE","path":"/dev/ttyACM0"}"#),
            Activated::Unspecified
        );
        assert_eq!(
            dev(br#"{"class":"DEVICE","path":"/dev/ttyACM0","activated":0.0}"#),
            Activated::Deactivated
        );
        assert_eq!(
            dev(br#"{"class":"DEVICE","path":"/dev/ttyACM0","activated":1290000000.5}"#),
            Activated::Since("1290000000.5".into())
        );
    }

    #[test]
    fn iso_times() {
        assert_eq!(parse_iso8601_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso8601_utc("1970-01-01T00:00:00.5Z"), Some(500_000));
        assert_eq!(
            parse_iso8601_utc("2018-08-20T09:47:41.000Z"),
            Some(1_534_758_461_000_000)
        );
        assert_eq!(
            parse_iso8601_utc("2000-02-29T23:59:59.1234567Z"),
            Some(951_868_799_123_456)
        );
        assert_eq!(parse_iso8601_utc("1969-12-31T23:59:59Z"), Some(-1_000_000));
        for bad in [
            "2018-08-20 09:47:41Z",
            "2018-08-20T09:47:41",
            "2018-08-20T09:47:41+01:00",
            "2019-02-29T00:00:00Z",
            "2018-13-01T00:00:00Z",
            "2018-08-20T24:00:00Z",
            "2018-08-20T09:47:41.Z",
            "2018-08-20T09:47:4xZ",
            "+018-08-20T09:47:41Z",
            "",
        ] {
            assert_eq!(parse_iso8601_utc(bad), None, "{bad}");
        }
    }
}
