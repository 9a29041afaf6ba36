//! The sync protocol's messages and their encoding (a version byte, then postcard).

use crate::batch::{Batch, BatchError};
use crate::edits::{EditError, EditsClock, EditsDelta};
use crate::have::Have;
use crate::ids::{DeviceId, Mac};
use crate::network::{NetworkSummary, SummaryError};
use crate::ranges::RangeSet;
use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

/// The first byte of every message. A node refuses a message of another version with an
/// error that says which versions meet, rather than misreading it.
pub const PROTOCOL_VERSION: u8 = 1;
/// At most this many network summaries in one [`NetBatch`].
pub const MAX_NET_ENTRIES: usize = 1024;
/// The largest inflated network batch accepted: 1024 summaries at their bounds (32 SSIDs of
/// 32 bytes, 32 channels, 64 device ids) take about 3.4 MB; anything larger is a bomb.
const MAX_NET_INFLATED: u64 = 4 * 1024 * 1024;

/// "This is what I have": sent first by each side of a sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub node: DeviceId,
    /// The observations held, per device.
    pub observations: Have,
    /// The network-summary updates merged, per source (see [`NetBatch`]).
    pub networks: Have,
    /// The edits seen.
    pub edits: EditsClock,
}

impl Hello {
    /// Takes an acknowledgement into this view of the peer, so that the next batches a node
    /// produces skip what the peer has just confirmed, without another `Hello`.
    pub fn absorb(&mut self, ack: &Ack) {
        self.observations.insert_set(ack.source, &ack.observations);
        self.networks.insert_set(ack.source, &ack.networks);
    }
}

/// Network summaries from one source's stream of summary updates.
///
/// Each node stamps a network's summary with the next number of its stream whenever the
/// summary changes (a stamp replaces the network's previous one). A batch *covers* ranges
/// of stamps and carries the current summary of every network whose stamp lies in them;
/// stamps in the ranges that no network holds any more were replaced by later ones, which
/// later batches carry. So the receiver may mark the covered ranges as merged, and its
/// [`Have`] of the stream stays exact whatever order batches arrive in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetBatch {
    pub source: DeviceId,
    pub covers: RangeSet,
    pub entries: Vec<(Mac, NetworkSummary)>,
}

/// What the receiver of a batch now holds of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub source: DeviceId,
    pub observations: RangeSet,
    pub networks: RangeSet,
}

/// One message of the sync protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Hello(Hello),
    Batch(Batch),
    Networks(NetBatch),
    Ack(Ack),
    Edits(Box<EditsDelta>),
}

/// The postcard form: batches travel as their own compressed bytes, decoded in a second
/// step so that a bad one gets an error naming what was wrong (postcard's serde errors
/// carry no message).
#[derive(Serialize, Deserialize)]
enum Wire {
    Hello(Hello),
    Batch(Vec<u8>),
    Networks(Vec<u8>),
    Ack(Ack),
    Edits(Box<EditsDelta>),
}

/// A message that cannot be decoded; each names what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("an empty message")]
    Empty,
    #[error(
        "protocol version {0}; this node speaks version {PROTOCOL_VERSION}: update the older side"
    )]
    Version(u8),
    #[error("malformed message: {0}")]
    Postcard(postcard::Error),
    #[error("bad observation batch: {0}")]
    Batch(#[from] BatchError),
    #[error("bad network batch: {0}")]
    NetBatch(String),
    #[error("bad network summary for {mac:?}: {error}")]
    Summary { mac: Mac, error: SummaryError },
    #[error("bad edits: {0}")]
    Edits(#[from] EditError),
    #[error("bad framing: {0}")]
    Framing(String),
}

/// At most this many messages in one request or answer ([`Message::encode_many`]).
pub const MAX_MESSAGES: usize = 64;

impl NetBatch {
    fn encode(&self) -> Vec<u8> {
        let raw = postcard::to_stdvec(self).expect("serialising to a Vec cannot fail");
        let mut z = DeflateEncoder::new(Vec::new(), Compression::default());
        z.write_all(&raw).expect("writing to a Vec cannot fail");
        z.finish().expect("writing to a Vec cannot fail")
    }

    fn decode(bytes: &[u8]) -> Result<NetBatch, ProtocolError> {
        let mut raw = Vec::new();
        DeflateDecoder::new(bytes)
            .take(MAX_NET_INFLATED + 1)
            .read_to_end(&mut raw)
            .map_err(|e| ProtocolError::NetBatch(format!("does not inflate: {e}")))?;
        if raw.len() as u64 > MAX_NET_INFLATED {
            return Err(ProtocolError::NetBatch(format!(
                "inflates to more than {MAX_NET_INFLATED} bytes"
            )));
        }
        let b: NetBatch =
            postcard::from_bytes(&raw).map_err(|e| ProtocolError::NetBatch(e.to_string()))?;
        if b.entries.len() > MAX_NET_ENTRIES {
            return Err(ProtocolError::NetBatch(format!(
                "{} summaries, more than the limit of {MAX_NET_ENTRIES}",
                b.entries.len()
            )));
        }
        for (mac, s) in &b.entries {
            s.validate()
                .map_err(|error| ProtocolError::Summary { mac: *mac, error })?;
        }
        Ok(b)
    }
}

impl Message {
    pub fn encode(&self) -> Vec<u8> {
        let wire = match self {
            Message::Hello(h) => Wire::Hello(h.clone()),
            Message::Batch(b) => Wire::Batch(b.encode()),
            Message::Networks(n) => Wire::Networks(n.encode()),
            Message::Ack(a) => Wire::Ack(a.clone()),
            Message::Edits(e) => Wire::Edits(e.clone()),
        };
        let mut out = vec![PROTOCOL_VERSION];
        out.extend(postcard::to_stdvec(&wire).expect("serialising to a Vec cannot fail"));
        out
    }

    /// Decodes and checks a message from a peer; never panics on any input.
    /// Several messages in one body (one HTTP request or answer): each as a LEB128 length
    /// followed by its [`encode`](Message::encode)d bytes.
    pub fn encode_many(messages: &[Message]) -> Vec<u8> {
        let mut out = Vec::new();
        for m in messages {
            let bytes = m.encode();
            let mut n = bytes.len() as u64;
            loop {
                let b = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    out.push(b);
                    break;
                }
                out.push(b | 0x80);
            }
            out.extend_from_slice(&bytes);
        }
        out
    }

    /// Reads a body written by [`encode_many`](Message::encode_many): at most
    /// [`MAX_MESSAGES`], each decoded and checked.
    pub fn decode_many(mut bytes: &[u8]) -> Result<Vec<Message>, ProtocolError> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            if out.len() == MAX_MESSAGES {
                return Err(ProtocolError::Framing(format!(
                    "more than {MAX_MESSAGES} messages"
                )));
            }
            let mut len: u64 = 0;
            let mut shift = 0;
            loop {
                let (&b, rest) = bytes.split_first().ok_or_else(|| {
                    ProtocolError::Framing(format!("message {} is cut in its length", out.len()))
                })?;
                bytes = rest;
                if shift > 28 {
                    return Err(ProtocolError::Framing(format!(
                        "message {}: length does not fit in 32 bits",
                        out.len()
                    )));
                }
                len |= u64::from(b & 0x7f) << shift;
                shift += 7;
                if b & 0x80 == 0 {
                    break;
                }
            }
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            if len > bytes.len() {
                return Err(ProtocolError::Framing(format!(
                    "message {} claims {len} bytes, {} are left",
                    out.len(),
                    bytes.len()
                )));
            }
            let (one, rest) = bytes.split_at(len);
            out.push(Message::decode(one)?);
            bytes = rest;
        }
        Ok(out)
    }

    pub fn decode(bytes: &[u8]) -> Result<Message, ProtocolError> {
        let (&version, rest) = bytes.split_first().ok_or(ProtocolError::Empty)?;
        if version != PROTOCOL_VERSION {
            return Err(ProtocolError::Version(version));
        }
        let wire: Wire = postcard::from_bytes(rest).map_err(ProtocolError::Postcard)?;
        Ok(match wire {
            Wire::Hello(h) => Message::Hello(h),
            Wire::Batch(b) => Message::Batch(Batch::decode(&b)?),
            Wire::Networks(n) => Message::Networks(NetBatch::decode(&n)?),
            Wire::Ack(a) => Message::Ack(a),
            Wire::Edits(e) => {
                e.validate()?;
                Message::Edits(e)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_other_versions_and_garbage() {
        assert_eq!(Message::decode(&[]), Err(ProtocolError::Empty));
        assert_eq!(Message::decode(&[2, 0]), Err(ProtocolError::Version(2)));
        assert!(matches!(
            Message::decode(&[1, 99]),
            Err(ProtocolError::Postcard(_))
        ));
        let ack = Message::Ack(Ack {
            source: DeviceId([3; 16]),
            observations: RangeSet::from_range(1..=10),
            networks: RangeSet::new(),
        });
        assert_eq!(Message::decode(&ack.encode()).unwrap(), ack);
        let bad_batch = [vec![1, 1, 3], vec![1, 2, 3]].concat(); // Wire::Batch, 3 bytes of junk
        assert!(matches!(
            Message::decode(&bad_batch),
            Err(ProtocolError::Batch(_))
        ));
    }

    #[test]
    fn a_summary_out_of_bounds_is_named() {
        let mut s = NetworkSummary::new(DeviceId([1; 16]), 5, 5);
        for i in 0..40u8 {
            s.add_ssid(&[i]);
        }
        assert_eq!(
            s.ssids().len(),
            crate::network::MAX_SSIDS,
            "kept to the bound"
        );
        // An over-full summary, as a hostile peer could send it.
        let s = s.with_unchecked_ssids((0..33u8).map(|i| vec![i]).collect());
        let wire = Message::Networks(NetBatch {
            source: DeviceId([1; 16]),
            covers: RangeSet::from_range(1..=1),
            entries: vec![(Mac([1; 6]), s)],
        })
        .encode();
        match Message::decode(&wire) {
            Err(ProtocolError::Summary { error, .. }) => assert_eq!(
                error,
                SummaryError::TooMany {
                    field: "ssids",
                    count: 33,
                    limit: 32
                }
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn several_messages_in_one_body() {
        let ack = |n| {
            Message::Ack(Ack {
                source: DeviceId([n; 16]),
                observations: RangeSet::from_range(1..=u64::from(n)),
                networks: RangeSet::new(),
            })
        };
        let msgs: Vec<Message> = (1..=3).map(ack).collect();
        let body = Message::encode_many(&msgs);
        assert_eq!(Message::decode_many(&body).unwrap(), msgs);
        assert_eq!(Message::decode_many(&[]).unwrap(), vec![]);
        // A message of 200 bytes needs a two-byte length.
        let big = Message::Ack(Ack {
            source: DeviceId([9; 16]),
            observations: (0..60).fold(RangeSet::new(), |mut r, i| {
                r.insert(i * 3 + 1);
                r
            }),
            networks: RangeSet::new(),
        });
        let body = Message::encode_many(std::slice::from_ref(&big));
        assert!(body[0] & 0x80 != 0, "{body:?}");
        assert_eq!(Message::decode_many(&body).unwrap(), vec![big]);
        // Cut anywhere but between messages: an error, never a panic; cut between them:
        // the messages before the cut.
        let body = Message::encode_many(&msgs);
        let mut ends = Vec::new();
        for i in 1..=msgs.len() {
            ends.push(Message::encode_many(&msgs[..i]).len());
        }
        for cut in 1..body.len() {
            match ends.iter().position(|&e| e == cut) {
                Some(i) => assert_eq!(Message::decode_many(&body[..cut]).unwrap(), msgs[..=i]),
                None => assert!(Message::decode_many(&body[..cut]).is_err(), "cut at {cut}"),
            }
        }
        let too_many = Message::encode_many(&vec![ack(1); MAX_MESSAGES + 1]);
        assert!(matches!(
            Message::decode_many(&too_many),
            Err(ProtocolError::Framing(m)) if m.contains("more than")
        ));
        assert!(matches!(
            Message::decode_many(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
            Err(ProtocolError::Framing(_))
        ));
    }
}
