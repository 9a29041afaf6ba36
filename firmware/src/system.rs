//! Host metrics for the dashboard and the system page: load, memory, storage, CPU temperature and uptime, read from /proc, /sys and statvfs.
//!
//! Every reading is optional: a value the machine does not offer (no thermal zone in a VM, a
//! /proc without meminfo) is `None` and shown as unknown, never as zero.

use serde::Serialize;
use std::path::Path;

/// One reading of the host.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct HostMetrics {
    /// 1, 5 and 15 minute load averages.
    pub load: Option<[f64; 3]>,
    pub cpus: usize,
    pub mem_total_bytes: Option<u64>,
    pub mem_available_bytes: Option<u64>,
    /// The hottest thermal zone, in degrees Celsius.
    pub cpu_temp_c: Option<f64>,
    pub uptime_s: Option<f64>,
    /// The file system holding the data directory.
    pub disk_total_bytes: Option<u64>,
    pub disk_free_bytes: Option<u64>,
}

impl HostMetrics {
    /// Reads everything now; `data_dir` selects the file system whose space is reported.
    pub fn read(data_dir: &Path) -> HostMetrics {
        let (disk_total_bytes, disk_free_bytes) = match disk_space(data_dir) {
            Some((t, f)) => (Some(t), Some(f)),
            None => (None, None),
        };
        let mem = std::fs::read_to_string("/proc/meminfo").ok();
        HostMetrics {
            load: std::fs::read_to_string("/proc/loadavg")
                .ok()
                .and_then(|s| parse_loadavg(&s)),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            mem_total_bytes: mem.as_deref().and_then(|m| meminfo_kib(m, "MemTotal")),
            mem_available_bytes: mem.as_deref().and_then(|m| meminfo_kib(m, "MemAvailable")),
            cpu_temp_c: cpu_temp_c(Path::new("/sys/class/thermal")),
            uptime_s: std::fs::read_to_string("/proc/uptime")
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse().ok()),
            disk_total_bytes,
            disk_free_bytes,
        }
    }

    /// Free space on the data partition as a share of its size, 0..=1.
    pub fn disk_free_ratio(&self) -> Option<f64> {
        match (self.disk_free_bytes, self.disk_total_bytes) {
            (Some(f), Some(t)) if t > 0 => Some(f as f64 / t as f64),
            _ => None,
        }
    }
}

/// `/proc/loadavg`: "0.52 0.58 0.59 1/467 12345".
pub fn parse_loadavg(s: &str) -> Option<[f64; 3]> {
    let mut it = s.split_whitespace().map(|v| v.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// A `/proc/meminfo` line "Key:   123456 kB", in bytes.
pub fn meminfo_kib(s: &str, key: &str) -> Option<u64> {
    s.lines().find_map(|l| {
        let rest = l.strip_prefix(key)?.strip_prefix(':')?;
        let kib: u64 = rest.split_whitespace().next()?.parse().ok()?;
        kib.checked_mul(1024)
    })
}

/// The highest `temp` (millidegrees) among `<dir>/thermal_zone*/temp`.
pub fn cpu_temp_c(dir: &Path) -> Option<f64> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("thermal_zone"))
        .filter_map(|e| std::fs::read_to_string(e.path().join("temp")).ok())
        .filter_map(|t| t.trim().parse::<i64>().ok())
        // A sensor that is not wired reads absurd values; keep the plausible ones.
        .filter(|m| (-40_000..=150_000).contains(m))
        .map(|m| m as f64 / 1000.0)
        .reduce(f64::max)
}

/// (total, available to an unprivileged writer) bytes of the file system holding `path`.
// The statvfs field types are u64 on 64-bit Linux but narrower on 32-bit ARM (an armv7 Pi
// image), hence the casts.
#[allow(clippy::unnecessary_cast)]
pub fn disk_space(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a valid NUL-terminated path and `st` is writable memory of the right
    // type; statvfs fills it completely when it returns 0.
    let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: rc == 0, so the struct was initialised.
    let st = unsafe { st.assume_init() };
    let frsize = st.f_frsize as u64;
    Some((
        (st.f_blocks as u64).saturating_mul(frsize),
        (st.f_bavail as u64).saturating_mul(frsize),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_formats_parse() {
        assert_eq!(
            parse_loadavg("0.52 0.58 1.59 1/467 12345\n"),
            Some([0.52, 0.58, 1.59])
        );
        assert_eq!(parse_loadavg("garbage"), None);
        let m = "MemTotal:       24576000 kB\nMemFree:  1 kB\nMemAvailable:   20000000 kB\n";
        assert_eq!(meminfo_kib(m, "MemTotal"), Some(24_576_000 * 1024));
        assert_eq!(meminfo_kib(m, "MemAvailable"), Some(20_000_000 * 1024));
        assert_eq!(meminfo_kib(m, "Mem"), None);
    }

    #[test]
    fn hottest_plausible_zone_wins() {
        let d = tempfile::tempdir().unwrap();
        for (zone, t) in [("thermal_zone0", "48312\n"), ("thermal_zone1", "51000\n")] {
            std::fs::create_dir(d.path().join(zone)).unwrap();
            std::fs::write(d.path().join(zone).join("temp"), t).unwrap();
        }
        std::fs::create_dir(d.path().join("thermal_zone2")).unwrap();
        std::fs::write(d.path().join("thermal_zone2/temp"), "-274000\n").unwrap();
        assert_eq!(cpu_temp_c(d.path()), Some(51.0));
        assert_eq!(cpu_temp_c(&d.path().join("nothing")), None);
    }

    #[test]
    fn disk_space_of_a_real_directory() {
        let d = tempfile::tempdir().unwrap();
        let (total, free) = disk_space(d.path()).unwrap();
        assert!(total > 0 && free <= total);
        assert_eq!(disk_space(Path::new("/nonexistent/dir")), None);
    }
}
