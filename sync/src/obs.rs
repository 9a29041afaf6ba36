//! One throttled sighting as sync carries it: the firmware's `Observation` in fixed point.

use crate::ids::Mac;
use serde::{Deserialize, Serialize};

/// Unix time in microseconds, UTC (as in the firmware).
pub type TimeUs = i64;

/// Latitude and longitude are kept in units of 1e-7 degree (about 1.1 cm), as u-blox receivers
/// and OpenStreetMap do.
pub const DEGREE_E7: f64 = 1e7;

/// Whether an observation is of an access point or of a client station.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    Ap,
    Client,
}

/// A position fix attached to a sighting, in fixed point.
///
/// The firmware's `Fix` holds `f64` degrees and metres; sync holds integers so that a value
/// survives the wire bit for bit, has a total order (the best-signal tie-break needs one) and
/// delta-encodes well. The firmware rounds once when it hands an observation to sync; the
/// rounding (1.1 cm, 1 cm) is far below what a GPS receiver can tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Fix {
    /// Latitude in 1e-7 degree, within ±90°.
    pub lat_e7: i32,
    /// Longitude in 1e-7 degree, within ±180°.
    pub lon_e7: i32,
    /// Altitude above mean sea level in centimetres, when the fix is 3D.
    pub alt_cm: Option<i32>,
    /// Horizontal accuracy radius in centimetres (from gpsd's eph); never 0.
    pub accuracy_cm: u32,
    /// When the fix was taken.
    pub time_us: TimeUs,
}

/// Why a fix cannot be turned into sync's fixed point.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum FixError {
    #[error("latitude {0} is not a finite number within ±90 degrees")]
    Latitude(f64),
    #[error("longitude {0} is not a finite number within ±180 degrees")]
    Longitude(f64),
    #[error("altitude {0} m is not a finite number within ±21,000 km")]
    Altitude(f64),
    #[error("accuracy {0} m is not a positive finite number below 42,000 km")]
    Accuracy(f64),
}

impl Fix {
    /// Rounds a fix in degrees and metres (the firmware's units) to fixed point.
    pub fn from_degrees(
        lat: f64,
        lon: f64,
        alt_m: Option<f64>,
        accuracy_m: f64,
        time_us: TimeUs,
    ) -> Result<Fix, FixError> {
        if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
            return Err(FixError::Latitude(lat));
        }
        if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
            return Err(FixError::Longitude(lon));
        }
        let alt_cm = match alt_m {
            Some(a) if a.is_finite() && (a * 100.0).abs() < f64::from(i32::MAX) => {
                Some((a * 100.0).round() as i32)
            }
            Some(a) => return Err(FixError::Altitude(a)),
            None => None,
        };
        let acc = (accuracy_m * 100.0).round();
        if !(accuracy_m.is_finite() && acc >= 1.0 && acc <= f64::from(u32::MAX)) {
            return Err(FixError::Accuracy(accuracy_m));
        }
        Ok(Fix {
            lat_e7: (lat * DEGREE_E7).round() as i32,
            lon_e7: (lon * DEGREE_E7).round() as i32,
            alt_cm,
            accuracy_cm: acc as u32,
            time_us,
        })
    }

    /// Latitude in degrees.
    pub fn lat(&self) -> f64 {
        f64::from(self.lat_e7) / DEGREE_E7
    }

    /// Longitude in degrees.
    pub fn lon(&self) -> f64 {
        f64::from(self.lon_e7) / DEGREE_E7
    }

    /// Whether the coordinates and accuracy are in range (what the wire decoder insists on).
    pub fn is_valid(&self) -> bool {
        (-900_000_000..=900_000_000).contains(&self.lat_e7)
            && (-1_800_000_000..=1_800_000_000).contains(&self.lon_e7)
            && self.accuracy_cm > 0
    }
}

/// One throttled sighting, keyed by `(device_id, seq)`; the device id is the batch's, not a
/// field, because it is the same for every observation a device makes.
///
/// The fields are the firmware's `model::Observation`, with the fix in fixed point.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Observation {
    /// The device's own sequence number, from 1, never reused.
    pub seq: u64,
    pub session_id: u64,
    pub kind: Kind,
    pub mac: Mac,
    pub time: TimeUs,
    pub signal_dbm: Option<i8>,
    pub channel: Option<u16>,
    pub freq_mhz: Option<u16>,
    pub fix: Option<Fix>,
}
