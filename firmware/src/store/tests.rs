//! Unit tests of the store: round trips, paging order, index maintenance, schema refusal.

use super::*;

#[test]
fn opens_and_counts_empty() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("sub/store.redb")).unwrap();
    assert_eq!(store.ap_count().unwrap(), 0);
    assert_eq!(store.next_observation_seq().unwrap(), 1);
}
