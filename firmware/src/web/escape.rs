//! Turning bytes from the air (SSIDs, mesh IDs) into text that is safe and unambiguous to show.
//!
//! An SSID is up to 32 arbitrary bytes: markup, quotes, invalid UTF-8, NUL, terminal escapes,
//! right-to-left overrides. The rule: printable characters from valid UTF-8 are shown as
//! themselves; every other byte is shown as `\xNN`, and a backslash as `\\`, so that the text
//! can be read back to the exact bytes. HTML escaping is a separate, later step (askama's
//! auto-escaping); nothing here is ever marked safe.

use std::fmt::Write as _;

/// One run of an SSID's display text: either plain text, or escapes (`\xNN`, `\\`) that the
/// page styles differently so a user can tell a real backslash-x from an escaped byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    pub escaped: bool,
}

/// The display form of some air bytes, split into segments for HTML.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SsidView {
    /// Empty when there is nothing to show (no SSID, or an empty one).
    pub segments: Vec<Segment>,
    /// The AP hides its SSID; shown as a "(hidden)" tag when `segments` is empty.
    pub hidden: bool,
}

impl SsidView {
    /// The view of `raw`; `None` (no SSID known) shows as a tag.
    pub fn new(raw: Option<&[u8]>, hidden: bool) -> SsidView {
        SsidView {
            segments: raw.map(ssid_segments).unwrap_or_default(),
            hidden,
        }
    }
}

/// Characters that are valid UTF-8 and not control characters but still must not be shown as
/// themselves: they reorder or hide the text around them (bidi overrides and isolates,
/// zero-width characters, the byte-order mark), which lets an SSID impersonate another.
pub(crate) fn is_deceptive(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
    )
}

fn shown_as_itself(c: char) -> bool {
    c != '\\' && !c.is_control() && !is_deceptive(c)
}

/// Splits `raw` into text and escape segments (see the module documentation for the rule).
pub fn ssid_segments(raw: &[u8]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut push = |s: &str, escaped: bool| match out.last_mut() {
        Some(last) if last.escaped == escaped => last.text.push_str(s),
        _ => out.push(Segment {
            text: s.to_owned(),
            escaped,
        }),
    };
    let mut buf = [0u8; 4];
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            if shown_as_itself(c) {
                push(c.encode_utf8(&mut buf), false);
            } else if c == '\\' {
                push("\\\\", true);
            } else {
                // Escape the character's bytes rather than its code point, so that what the
                // user reads is exactly what was on the air.
                for b in c.encode_utf8(&mut buf).bytes() {
                    push(&hex_escape(b), true);
                }
            }
        }
        for &b in chunk.invalid() {
            push(&hex_escape(b), true);
        }
    }
    out
}

fn hex_escape(b: u8) -> String {
    let mut s = String::with_capacity(4);
    let _ = write!(s, "\\x{b:02x}");
    s
}

/// The display text of `raw` as one string (for JSON, titles and attributes): the segments
/// of [`ssid_segments`] joined. Still needs HTML escaping wherever it goes into HTML.
pub fn display_ssid(raw: &[u8]) -> String {
    ssid_segments(raw).into_iter().map(|s| s.text).collect()
}

/// Lowercase hex of `raw`, for the JSON API's exact form of an SSID.
pub fn hex(raw: &[u8]) -> String {
    let mut s = String::with_capacity(raw.len() * 2);
    for b in raw {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_utf8_is_itself() {
        assert_eq!(display_ssid(b"Cafe Wifi"), "Cafe Wifi");
        assert_eq!(display_ssid("Café 漢字 📶".as_bytes()), "Café 漢字 📶");
        assert_eq!(
            ssid_segments(b"plain"),
            vec![Segment {
                text: "plain".into(),
                escaped: false
            }]
        );
    }

    #[test]
    fn gbk_bytes_are_escaped() {
        // "测试" in GBK: not valid UTF-8, so every byte is shown.
        assert_eq!(display_ssid(&[0xb2, 0xe2, 0xca, 0xd4]), r"\xb2\xe2\xca\xd4");
    }

    #[test]
    fn nul_and_controls_are_visible() {
        assert_eq!(display_ssid(b"\0\0\0"), r"\x00\x00\x00");
        assert_eq!(display_ssid(b"a\tb\nc\x1b[31m"), r"a\x09b\x0ac\x1b[31m");
        assert_eq!(display_ssid(b"\x7f"), r"\x7f");
        // C1 control U+0085 is valid UTF-8 (c2 85) but a control: its bytes are shown.
        assert_eq!(display_ssid("x\u{85}".as_bytes()), r"x\xc2\x85");
    }

    #[test]
    fn deceptive_characters_are_escaped() {
        // U+202E RIGHT-TO-LEFT OVERRIDE would flip the rest of the line.
        assert_eq!(
            display_ssid("evil\u{202e}gpj.exe".as_bytes()),
            r"evil\xe2\x80\xaegpj.exe"
        );
        assert_eq!(display_ssid("a\u{200b}b".as_bytes()), r"a\xe2\x80\x8bb");
    }

    #[test]
    fn backslash_is_escaped_so_the_text_is_unambiguous() {
        // A literal `\x41` typed into an SSID must not read the same as the byte 0x41... nor
        // as an escaped byte: the backslash itself is doubled and styled as an escape.
        assert_eq!(display_ssid(br"\x41"), r"\\x41");
        assert_ne!(display_ssid(br"\x00"), display_ssid(b"\0"));
    }

    #[test]
    fn segments_alternate_and_merge() {
        let s = ssid_segments(b"ab\xff\xfecd\0");
        assert_eq!(
            s,
            vec![
                Segment {
                    text: "ab".into(),
                    escaped: false
                },
                Segment {
                    text: r"\xff\xfe".into(),
                    escaped: true
                },
                Segment {
                    text: "cd".into(),
                    escaped: false
                },
                Segment {
                    text: r"\x00".into(),
                    escaped: true
                },
            ]
        );
    }

    #[test]
    fn markup_is_left_for_the_html_escaper() {
        // Markup is printable text: it is kept as is here and escaped by askama later (the
        // router tests check the rendered page).
        assert_eq!(
            display_ssid(b"<script>alert(1)</script>"),
            "<script>alert(1)</script>"
        );
    }

    #[test]
    fn every_byte_string_round_trips_through_the_display_form() {
        // Reading the display form back (undoing `\\` and `\xNN`) gives the original bytes:
        // the escaping loses nothing, for every single byte and a mix of them.
        fn unescape(s: &str) -> Vec<u8> {
            let mut out = Vec::new();
            let b = s.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'\\' && b[i + 1] == b'\\' {
                    out.push(b'\\');
                    i += 2;
                } else if b[i] == b'\\' && b[i + 1] == b'x' {
                    out.push(u8::from_str_radix(&s[i + 2..i + 4], 16).unwrap());
                    i += 4;
                } else {
                    out.push(b[i]);
                    i += 1;
                }
            }
            out
        }
        for b in 0..=255u8 {
            assert_eq!(unescape(&display_ssid(&[b])), vec![b], "byte {b:#04x}");
        }
        let mixed = b"\\x41\xe6\xbc\xa2\xff<&>\"'\0\xc3";
        assert_eq!(unescape(&display_ssid(mixed)), mixed.to_vec());
    }

    proptest::proptest! {
        /// For any bytes: the display text holds no control or deceptive character (so
        /// nothing from the air can move the cursor, reorder text or hide), and the segments
        /// join to exactly the flat display string.
        #[test]
        fn display_text_is_always_inert(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            let flat = display_ssid(&raw);
            proptest::prop_assert!(flat.chars().all(|c| !c.is_control() && !is_deceptive(c)));
            let joined: String = ssid_segments(&raw).into_iter().map(|s| s.text).collect();
            proptest::prop_assert_eq!(joined, flat);
        }
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0xb2, 0x0a, 0xff]), "b20aff");
        assert_eq!(hex(b""), "");
    }
}
