//! gRPC's length-prefixed messages, counted as a body's bytes pass: each message is a
//! one-byte compression flag, a four-byte big-endian length and that many bytes. The
//! bytes are only looked at, never copied or changed.

use std::io::IoSlice;

use bytes::Buf;

/// How many chunks of one data frame are looked at. A frame of tonic's bodies is one
/// chunk (`Bytes`); a body whose frame has more stops being counted rather than be
/// counted wrong.
const CHUNKS: usize = 16;

/// Where a body is in its stream of messages.
#[derive(Debug, Default)]
pub(super) struct Messages {
    // Bytes of the current message's five-byte prefix seen so far.
    prefix: u8,
    // Its length, as far as its prefix has been seen.
    length: u32,
    // Bytes of its payload still to come, once its prefix is complete.
    left: u32,
    // A frame could not be read whole: no more counting.
    lost: bool,
}

impl Messages {
    /// The messages that `data` completes.
    pub(super) fn count(&mut self, data: &impl Buf) -> u64 {
        if self.lost {
            return 0;
        }
        // One chunk, as tonic's `Bytes` always are.
        let chunk = data.chunk();
        if chunk.len() == data.remaining() {
            return self.feed(chunk);
        }
        let mut slices = [IoSlice::new(&[]); CHUNKS];
        let filled = data.chunks_vectored(&mut slices);
        let seen: usize = slices[..filled].iter().map(|slice| slice.len()).sum();
        if seen < data.remaining() {
            self.lost = true;
            log::debug!(
                "track-metrics: a gRPC body's frame has too many chunks to count its messages"
            );
            return 0;
        }
        slices[..filled].iter().map(|slice| self.feed(slice)).sum()
    }

    /// Whether the body ended between messages (else its last one is cut short).
    #[cfg(test)]
    fn between(&self) -> bool {
        self.prefix == 0
    }

    fn feed(&mut self, mut bytes: &[u8]) -> u64 {
        let mut complete = 0;
        while !bytes.is_empty() {
            // A whole prefix at hand: its length at once (the common case).
            if self.prefix == 0
                && let Some((prefix, rest)) = bytes.split_first_chunk::<5>()
            {
                let length = u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]);
                if let Some(rest) = rest.get(length as usize..) {
                    complete += 1;
                    bytes = rest;
                    continue;
                }
                self.prefix = 5;
                self.left = length - rest.len() as u32;
                return complete;
            }
            if self.prefix < 5 {
                let take = bytes.len().min(usize::from(5 - self.prefix));
                for &byte in &bytes[..take] {
                    // Byte 0 is the compression flag; bytes 1 to 4 the length.
                    if self.prefix > 0 {
                        self.length = self.length << 8 | u32::from(byte);
                    }
                    self.prefix += 1;
                }
                bytes = &bytes[take..];
                if self.prefix == 5 {
                    self.left = self.length;
                }
            } else {
                let take = bytes.len().min(self.left as usize);
                // `take` is at most `left`, a `u32`.
                self.left -= take as u32;
                bytes = &bytes[take..];
            }
            if self.prefix == 5 && self.left == 0 {
                complete += 1;
                self.prefix = 0;
                self.length = 0;
            }
        }
        complete
    }
}

#[cfg(test)]
mod tests {
    use bytes::{Bytes, BytesMut};

    use super::*;

    fn message(payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0];
        out.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn whole_messages_in_one_frame() {
        let mut bytes = message(b"hello");
        bytes.extend(message(b""));
        bytes.extend(message(&[7; 300]));
        let mut messages = Messages::default();
        assert_eq!(messages.count(&Bytes::from(bytes)), 3);
        assert!(messages.between());
    }

    #[test]
    fn messages_split_anywhere() {
        let mut bytes = Vec::new();
        for size in [0, 1, 4, 5, 70_000] {
            bytes.extend(message(&vec![1; size]));
        }
        for step in [1, 2, 3, 5, 7, 4096] {
            let mut messages = Messages::default();
            let total: u64 = bytes
                .chunks(step)
                .map(|chunk| messages.count(&Bytes::copy_from_slice(chunk)))
                .sum();
            assert_eq!(total, 5, "chunks of {step}");
            assert!(messages.between());
        }
    }

    #[test]
    fn a_message_counts_when_complete() {
        let bytes = message(b"abc");
        let mut messages = Messages::default();
        assert_eq!(messages.count(&Bytes::copy_from_slice(&bytes[..7])), 0);
        assert!(!messages.between());
        assert_eq!(messages.count(&Bytes::copy_from_slice(&bytes[7..])), 1);
    }

    #[test]
    fn chained_buffers_are_read_through() {
        let first = Bytes::from(message(b"one"));
        let mut second = BytesMut::new();
        second.extend_from_slice(&message(b"two"));
        let mut messages = Messages::default();
        assert_eq!(messages.count(&first.chain(second.freeze())), 2);
    }
}
