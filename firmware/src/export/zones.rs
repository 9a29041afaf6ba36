//! Home exclusion zones: circles (the user's edits, synced like labels) inside which nothing seen is exported or uploaded to WiGLE.
//!
//! A zone is a centre in 1e-7 degree and a radius in metres (`piwardrive_sync::Zone`). A
//! point lies inside when its great-circle distance from the centre (haversine on the mean
//! Earth radius, within 0.5 % of the ellipsoid's distance, which a privacy circle of tens of
//! metres does not notice) is at most the radius. The exports and the WiGLE upload read
//! the zones once, when they start, from the store's edits.

use piwardrive_sync::Zone;

use crate::model::{ApRecord, Fix};
use crate::store::{Store, StoreError};

/// The mean Earth radius (IUGG), metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// The home zones an export or upload leaves out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HomeZones {
    /// (lat°, lon°, radius m) of each zone.
    zones: Vec<(f64, f64, f64)>,
}

impl HomeZones {
    pub fn new(zones: &[Zone]) -> HomeZones {
        HomeZones {
            zones: zones
                .iter()
                .map(|z| {
                    (
                        f64::from(z.lat_e7) / 1e7,
                        f64::from(z.lon_e7) / 1e7,
                        f64::from(z.radius_m),
                    )
                })
                .collect(),
        }
    }

    /// The zones in `store`'s edits now.
    pub fn of(store: &Store) -> Result<HomeZones, StoreError> {
        Ok(HomeZones::new(&store.edits()?.zones()))
    }

    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }

    /// Whether (lat, lon) in degrees lies inside some zone.
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        self.zones
            .iter()
            .any(|&(zlat, zlon, r)| distance_m(zlat, zlon, lat, lon) <= r)
    }

    /// Whether a fix lies inside some zone.
    pub fn contains_fix(&self, f: &Fix) -> bool {
        self.contains(f.lat, f.lon)
    }

    /// Whether a network is placed inside some zone: its drawn position or the fix of its
    /// strongest sighting (either would show where home is).
    pub fn contains_network(&self, ap: &ApRecord) -> bool {
        if self.is_empty() {
            return false;
        }
        super::network_position(ap).is_some_and(|p| self.contains_fix(&p))
            || ap.best_fix.as_ref().is_some_and(|f| self.contains_fix(f))
            || ap
                .position
                .and_then(|e| e.lat_lon())
                .is_some_and(|(lat, lon)| self.contains(lat, lon))
    }
}

/// Great-circle distance in metres (haversine).
pub fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_matches_known_figures() {
        // One degree of latitude on the mean sphere: 2πR/360.
        let deg = 2.0 * std::f64::consts::PI * EARTH_RADIUS_M / 360.0;
        assert!((distance_m(10.0, 20.0, 11.0, 20.0) - deg).abs() < 1e-6);
        // One degree of longitude at 60° is half of that, near enough (small-angle).
        assert!((distance_m(60.0, 0.0, 60.0, 0.001) - deg * 0.001 * 0.5).abs() < 0.01);
        // Across the antimeridian the short way round.
        assert!(distance_m(0.0, 179.9995, 0.0, -179.9995) < 120.0);
    }

    #[test]
    fn a_zone_holds_points_up_to_its_radius() {
        let z = HomeZones::new(&[Zone {
            lat_e7: 525_200_000,
            lon_e7: 134_050_000,
            radius_m: 100,
        }]);
        // 1e-7° of latitude is 1.1 cm: 0.0008° north is ~89 m, 0.001° ~111 m.
        assert!(z.contains(52.52, 13.405));
        assert!(z.contains(52.5208, 13.405));
        assert!(!z.contains(52.521, 13.405));
        assert!(!HomeZones::default().contains(52.52, 13.405));
    }
}
