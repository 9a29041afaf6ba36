//! Fuzzes the whole ingest path: arbitrary bytes as a capture file through `CapReader`, `Decoder::feed`, the `Tracker` and `take_batch`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use piwardrive::model::{SessionRecord, SessionStatus, TimeSource};
use piwardrive::store::Batch;
use piwardrive::tracker::{Decoder, Input, PROBED_SSIDS_MAX, SSID_HISTORY_MAX, Tracker};
use piwardrive_dot11::capfile::CapReader;

/// At most this many records are processed per input. The offset invariant below already
/// bounds the count by the input's length; the cap keeps one input's run time small even if
/// that invariant were broken in a way the assertion misses.
const MAX_RECORDS: usize = 20_000;

/// `take_batch` is called every this many records, as ingest does, so batches are checked
/// mid-stream and not only at the end.
const BATCH_EVERY: usize = 64;

const SESSION_ID: u64 = 7;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CapReader::new(data) else {
        return;
    };
    let session = SessionRecord::new(
        SESSION_ID,
        [0x5a; 16],
        0,
        vec!["fuzz".to_string()],
        TimeSource::CaptureFile,
    );
    let mut tracker = Tracker::new(session, 0, Vec::new(), Vec::new());
    let mut decoder = Decoder::default();
    let mut checker = BatchChecker { next_seq: 0 };
    let mut events = 0u64;
    let mut records = 0usize;
    let mut last_offset: Option<u64> = None;
    let input_len = data.len() as u64;
    loop {
        assert!(
            reader.position() <= input_len,
            "reader is past the end of its input"
        );
        let (offset, len) = match reader.next_record() {
            None => break,
            Some(Err(e)) => {
                // The error names the record or block that broke, which comes after every
                // record already returned and lies inside the input.
                assert!(e.offset <= input_len, "error offset past the input");
                if let Some(prev) = last_offset {
                    assert!(
                        e.offset > prev,
                        "error offset {} not after record at {prev}",
                        e.offset
                    );
                }
                let _ = e.to_string();
                break;
            }
            Some(Ok(rec)) => {
                decoder.feed(&rec, |ev| {
                    events += 1;
                    tracker.handle(Input::Frame(ev));
                });
                (rec.offset, rec.data.len() as u64)
            }
        };
        if let Some(prev) = last_offset {
            assert!(
                offset > prev,
                "record offset {offset} does not follow {prev}"
            );
        }
        last_offset = Some(offset);
        // The record's bytes were read from the input, after its offset.
        assert!(
            offset + len <= reader.position(),
            "record extends past the bytes read"
        );
        records += 1;
        if records.is_multiple_of(BATCH_EVERY) {
            checker.check(&tracker.take_batch());
        }
        if records >= MAX_RECORDS {
            break;
        }
    }
    // A reader that has ended stays ended.
    if records < MAX_RECORDS {
        assert!(
            reader.next_record().is_none(),
            "reader yielded after it ended"
        );
    }

    let stats = decoder.stats();
    assert_eq!(
        stats.frames, records as u64,
        "decoder did not count every record"
    );
    assert_eq!(
        stats.decoded + stats.bad_fcs + stats.malformed + stats.unsupported,
        stats.frames,
        "every record has exactly one fate"
    );
    // A decoded frame yields at most one event; dropped frames yield none.
    assert!(
        events <= stats.decoded,
        "{events} events from {} frames",
        stats.decoded
    );
    assert_eq!(tracker.stats().events, events);
    assert_eq!(tracker.session().frames, events);

    let end = tracker.session().ended_at.unwrap_or(0);
    tracker.handle(Input::EndSession { now: end });
    let last = tracker.take_batch();
    checker.check(&last);
    assert_eq!(last.sessions.len(), 1, "ending the session must write it");
    assert_eq!(last.sessions[0].status, SessionStatus::Ended);
    // Everything was handed over: a second batch right away has nothing to write.
    assert!(
        tracker.take_batch().is_empty(),
        "take_batch left changes behind"
    );
});

/// Checks batches as the store writer would receive them.
struct BatchChecker {
    /// The observation sequence number the next observation must carry.
    next_seq: u64,
}

impl BatchChecker {
    fn check(&mut self, b: &Batch) {
        for o in &b.observations {
            // Observation keys are (device, seq): a gap is harmless but a repeat would
            // overwrite a stored sighting, so numbers must be consecutive.
            assert_eq!(
                o.seq, self.next_seq,
                "observation numbers are not consecutive"
            );
            assert_eq!(o.session_id, SESSION_ID);
            self.next_seq += 1;
        }
        for ap in &b.aps {
            assert!(
                ap.first_seen <= ap.last_seen,
                "AP last seen before first seen"
            );
            assert!(
                ap.ssid_history.len() <= SSID_HISTORY_MAX,
                "SSID history unbounded"
            );
            for s in &ap.ssid_history {
                assert!(s.first_seen <= s.last_seen && s.count > 0);
            }
        }
        for c in &b.clients {
            assert!(
                c.first_seen <= c.last_seen,
                "client last seen before first seen"
            );
            assert!(
                c.probed_ssids.len() <= PROBED_SSIDS_MAX,
                "probed SSIDs unbounded"
            );
        }
        for s in &b.sessions {
            assert_eq!(s.id, SESSION_ID);
            if let Some(end) = s.ended_at {
                assert!(s.started_at <= end, "session ends before it starts");
            }
        }
        assert!(
            b.cursors.is_empty(),
            "the tracker does not write source cursors"
        );
    }
}
