//! Helpers shared by the fuzz targets: slice-position checks and the list of link types.

use piwardrive_dot11::link::LinkType;

/// The byte range `part` occupies inside `whole`, or `None` when `part` does not lie entirely
/// within `whole`. Parsers here return sub-slices of their input; a slice that points
/// anywhere else would mean a parser fabricated or mis-sliced data.
pub fn range_in(whole: &[u8], part: &[u8]) -> Option<core::ops::Range<usize>> {
    let w = whole.as_ptr_range();
    let p = part.as_ptr_range();
    // An empty slice may dangle anywhere; only its length says something.
    if part.is_empty() {
        return Some(0..0);
    }
    if p.start < w.start || p.end > w.end {
        return None;
    }
    let start = p.start as usize - w.start as usize;
    Some(start..start + part.len())
}

/// Panics unless `part` is exactly the tail of `whole` from some offset on, and returns
/// that offset. Every payload, body and element list in the decoder runs to the end of its
/// buffer, so anything else is a slicing error.
#[track_caller]
pub fn assert_suffix(whole: &[u8], part: &[u8], what: &str) -> usize {
    if part.is_empty() {
        return whole.len();
    }
    let r = range_in(whole, part).unwrap_or_else(|| panic!("{what} lies outside its input"));
    assert_eq!(
        r.end,
        whole.len(),
        "{what} does not run to the end of its input"
    );
    r.start
}

/// Every link type the decoder reads, so targets can try a record under each of them.
pub const LINK_TYPES: [LinkType; 4] = [
    LinkType::Ieee80211,
    LinkType::Radiotap,
    LinkType::Prism,
    LinkType::Ppi,
];
