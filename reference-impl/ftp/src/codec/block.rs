//! RFC 959 §3.4.2 block mode: the data connection carries blocks, each a header of an 8-bit
//! descriptor and a 16-bit byte count, then that many data bytes. The end of the file is a
//! descriptor flag, not the close of the connection. Sans-IO: the transfer driver feeds bytes
//! in and gets [`BlockEvent`]s out; the buffer holds at most one block.

/// RFC 959 §3.4.2 descriptor 128: end of data block is EOR (record structure only; in file
/// structure the bit carries no meaning and the data is file data).
pub const EOR: u8 = 128;
/// RFC 959 §3.4.2 descriptor 64: end of data block is EOF.
pub const EOF: u8 = 64;
/// RFC 959 §3.4.2 descriptor 32: suspected errors in data block (the data is kept).
pub const SUSPECT: u8 = 32;
/// RFC 959 §3.4.2 descriptor 16: data block is a restart marker.
pub const RESTART: u8 = 16;
/// The largest byte count a header can carry.
pub const MAX_BLOCK: usize = u16::MAX as usize;

/// Append `data` as blocks with descriptor 0, at most [`MAX_BLOCK`] bytes each.
pub fn encode_data(data: &[u8], out: &mut Vec<u8>) {
    for chunk in data.chunks(MAX_BLOCK) {
        encode_block(0, chunk, out);
    }
}

/// Append the empty block that ends the file (descriptor [`EOF`], count 0).
pub fn encode_eof(out: &mut Vec<u8>) {
    encode_block(EOF, &[], out);
}

/// Append one block; `data` must be at most [`MAX_BLOCK`] bytes (longer is cut there).
pub fn encode_block(descriptor: u8, data: &[u8], out: &mut Vec<u8>) {
    let data = data.get(..data.len().min(MAX_BLOCK)).unwrap_or_default();
    let count = u16::try_from(data.len()).unwrap_or(u16::MAX);
    out.push(descriptor);
    out.extend_from_slice(&count.to_be_bytes());
    out.extend_from_slice(data);
}

/// What a run of block-mode bytes holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockEvent {
    /// File data.
    Data(Vec<u8>),
    /// A restart marker (RFC 959 §3.4.2: printable characters, no space).
    Marker(String),
    /// The end of the file.
    Eof,
}

/// Why block-mode bytes cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlockError {
    /// A restart marker that is empty or holds a space or a non-printable byte.
    #[error("restart marker is not printable characters without space")]
    BadMarker,
    /// Bytes after the EOF block.
    #[error("data after the EOF block")]
    AfterEof,
    /// The connection ended inside a block or before the EOF block.
    #[error("block-mode data ended without an EOF block")]
    Truncated,
}

/// Reads block-mode bytes.
#[derive(Debug, Default)]
pub struct BlockDecoder {
    buf: Vec<u8>,
    eof: bool,
}

impl BlockDecoder {
    /// A decoder at the start of a file.
    pub fn new() -> Self {
        BlockDecoder::default()
    }

    /// True once the EOF block was read.
    pub fn at_eof(&self) -> bool {
        self.eof
    }

    /// Take `bytes` in and return the events of every block they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<BlockEvent>, BlockError> {
        if self.eof {
            return if bytes.is_empty() { Ok(Vec::new()) } else { Err(BlockError::AfterEof) };
        }
        self.buf.extend_from_slice(bytes);
        let mut events = Vec::new();
        let mut used = 0usize;
        while let Some(&[descriptor, hi, lo]) = self.buf.get(used..used + 3) {
            let count = usize::from(u16::from_be_bytes([hi, lo]));
            let Some(data) = self.buf.get(used + 3..used + 3 + count) else { break };
            used += 3 + count;
            if descriptor & RESTART != 0 {
                let ok = !data.is_empty() && data.iter().all(|b| b.is_ascii_graphic());
                let marker = std::str::from_utf8(data).ok().filter(|_| ok).ok_or(BlockError::BadMarker)?;
                events.push(BlockEvent::Marker(marker.to_owned()));
            } else if !data.is_empty() {
                events.push(BlockEvent::Data(data.to_vec()));
            }
            if descriptor & EOF != 0 {
                self.eof = true;
                events.push(BlockEvent::Eof);
                if self.buf.len() > used {
                    return Err(BlockError::AfterEof);
                }
                break;
            }
        }
        self.buf.drain(..used.min(self.buf.len()));
        Ok(events)
    }

    /// The connection closed: fine only after the EOF block.
    pub fn finish(&self) -> Result<(), BlockError> {
        if self.eof { Ok(()) } else { Err(BlockError::Truncated) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_across_any_split() {
        let data: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
        let mut wire = Vec::new();
        encode_data(&data, &mut wire);
        encode_block(RESTART, b"12345", &mut wire);
        encode_data(b"\r\n\0", &mut wire);
        encode_eof(&mut wire);
        for step in [1, 2, 3, 7, 4096, wire.len()] {
            let mut d = BlockDecoder::new();
            let mut got = Vec::new();
            let mut markers = Vec::new();
            for piece in wire.chunks(step) {
                for ev in d.push(piece).unwrap() {
                    match ev {
                        BlockEvent::Data(b) => got.extend_from_slice(&b),
                        BlockEvent::Marker(m) => markers.push((m, got.len())),
                        BlockEvent::Eof => {}
                    }
                }
            }
            assert!(d.at_eof() && d.finish().is_ok());
            assert_eq!(got.len(), data.len() + 3);
            assert_eq!(got.get(..data.len()), Some(&data[..]));
            assert_eq!(markers, [("12345".to_owned(), data.len())]);
        }
    }

    #[test]
    fn headers_as_rfc959_draws_them() {
        let mut wire = Vec::new();
        encode_data(b"abc", &mut wire);
        encode_eof(&mut wire);
        assert_eq!(wire, b"\x00\x00\x03abc\x40\x00\x00");
        // EOF on a data block, suspect and EOR bits: the data is file data.
        let mut d = BlockDecoder::new();
        let ev = d.push(b"\xa0\x00\x02xy\x40\x00\x01z").unwrap();
        assert_eq!(ev, [BlockEvent::Data(b"xy".to_vec()), BlockEvent::Data(b"z".to_vec()), BlockEvent::Eof]);
    }

    #[test]
    fn errors() {
        assert_eq!(BlockDecoder::new().push(b"\x10\x00\x03a b"), Err(BlockError::BadMarker));
        assert_eq!(BlockDecoder::new().push(b"\x10\x00\x00"), Err(BlockError::BadMarker));
        assert_eq!(BlockDecoder::new().push(b"\x40\x00\x00junk"), Err(BlockError::AfterEof));
        let mut d = BlockDecoder::new();
        d.push(b"\x00\x00\x05ab").unwrap();
        assert_eq!(d.finish(), Err(BlockError::Truncated));
    }
}
