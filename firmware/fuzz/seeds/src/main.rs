//! Writes the seed corpora for the fuzz targets from the bundled real captures.
//!
//! Usage: `seeds [CAPTURES_DIR [CORPUS_DIR]]`, by default `firmware/testdata/pcap` and
//! `firmware/fuzz/corpus`. For `pipeline` each capture file is a seed as it is; for `radiotap`
//! each record's bytes (link header included); for `dot11` each record's 802.11 frame after
//! the link header and FCS. Seeds are named `seed-<hash>`; old `seed-*` files are removed
//! first so the seeds always match the captures, while inputs the fuzzer found are kept.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use piwardrive_dot11::capfile::CapReader;
use piwardrive_dot11::link::{self, LinkType};

/// FNV-1a, 64-bit: only names seed files, so any stable hash will do and this one needs no
/// dependency.
fn fnv1a(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// One target's corpus directory, writing each distinct input once.
struct Corpus {
    dir: PathBuf,
    seen: HashSet<Vec<u8>>,
}

impl Corpus {
    fn open(root: &Path, target: &str) -> std::io::Result<Corpus> {
        let dir = root.join(target);
        fs::create_dir_all(&dir)?;
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with("seed-") {
                fs::remove_file(entry.path())?;
            }
        }
        Ok(Corpus {
            dir,
            seen: HashSet::new(),
        })
    }

    fn add(&mut self, data: &[u8]) -> std::io::Result<()> {
        if data.is_empty() || !self.seen.insert(data.to_vec()) {
            return Ok(());
        }
        fs::write(self.dir.join(format!("seed-{:016x}", fnv1a(data))), data)
    }
}

/// Every regular file under `dir`, in a stable order.
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        if e.file_type()?.is_dir() {
            files_under(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn run() -> std::io::Result<()> {
    // This package sits in firmware/fuzz/seeds; the defaults are relative to firmware/fuzz.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let here = manifest.parent().unwrap_or(manifest);
    let mut args = std::env::args_os().skip(1);
    let captures = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| here.join("../testdata/pcap"));
    let corpus = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| here.join("corpus"));

    let mut files = Vec::new();
    files_under(&captures, &mut files)?;
    if files.is_empty() {
        return Err(std::io::Error::other(format!(
            "no captures under {}",
            captures.display()
        )));
    }
    let mut pipeline = Corpus::open(&corpus, "pipeline")?;
    let mut radiotap = Corpus::open(&corpus, "radiotap")?;
    let mut dot11 = Corpus::open(&corpus, "dot11")?;
    for path in &files {
        let bytes = fs::read(path)?;
        pipeline.add(&bytes)?;
        let Ok(mut reader) = CapReader::new(&bytes[..]) else {
            eprintln!(
                "seeds: {} is not a capture; used for pipeline only",
                path.display()
            );
            continue;
        };
        // A damaged record ends the file's records; everything before it is still a seed.
        while let Some(Ok(rec)) = reader.next_record() {
            radiotap.add(rec.data)?;
            let cap =
                LinkType::from_dlt(rec.link).and_then(|lt| link::decode_link(lt, rec.data).ok());
            if let Some(cap) = cap {
                dot11.add(cap.frame)?;
            }
        }
    }
    for (name, c) in [
        ("pipeline", &pipeline),
        ("radiotap", &radiotap),
        ("dot11", &dot11),
    ] {
        println!(
            "seeds: {name}: {} inputs from {} captures in {}",
            c.seen.len(),
            files.len(),
            c.dir.display()
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("seeds: {e}");
            ExitCode::FAILURE
        }
    }
}
