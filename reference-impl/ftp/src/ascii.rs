//! TYPE A line-end conversion (RFC 959 §3.1.1.1): the data connection carries NVT-ASCII with
//! CRLF line ends; the file store holds Unix text with LF. Both converters are stateful so a
//! CRLF split across two chunks is handled, and neither allocates beyond its output.

/// Local text -> network: a LF that does not already follow a CR becomes CRLF. CRLF pairs in
/// the file stay as they are (so `crlf.txt` does not become CR CR LF), bare CR is kept.
#[derive(Debug, Clone, Default)]
pub struct ToNetwork {
    last_was_cr: bool,
}

impl ToNetwork {
    /// Convert `input`, appending to `out`.
    pub fn convert(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len() + input.len() / 16);
        for &b in input {
            if b == b'\n' && !self.last_was_cr {
                out.push(b'\r');
            }
            out.push(b);
            self.last_was_cr = b == b'\r';
        }
    }

    /// The number of bytes `input` becomes (for `SIZE` in TYPE A, RFC 3659 §4).
    pub fn converted_len(&mut self, input: &[u8]) -> u64 {
        let mut n = input.len() as u64;
        for &b in input {
            if b == b'\n' && !self.last_was_cr {
                n += 1;
            }
            self.last_was_cr = b == b'\r';
        }
        n
    }
}

/// Network -> local text: CRLF becomes LF; a bare CR or bare LF is kept as it is.
#[derive(Debug, Clone, Default)]
pub struct FromNetwork {
    pending_cr: bool,
}

impl FromNetwork {
    /// Convert `input`, appending to `out`. A CR at the end of `input` is held back until the
    /// next byte shows whether it starts a CRLF.
    pub fn convert(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len());
        for &b in input {
            if self.pending_cr {
                self.pending_cr = false;
                if b != b'\n' {
                    out.push(b'\r');
                }
            }
            if b == b'\r' {
                self.pending_cr = true;
            } else {
                out.push(b);
            }
        }
    }

    /// The end of the stream: emit a held-back CR.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.pending_cr) {
            out.push(b'\r');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_net(chunks: &[&[u8]]) -> Vec<u8> {
        let mut c = ToNetwork::default();
        let mut out = Vec::new();
        for ch in chunks {
            c.convert(ch, &mut out);
        }
        out
    }

    fn from_net(chunks: &[&[u8]]) -> Vec<u8> {
        let mut c = FromNetwork::default();
        let mut out = Vec::new();
        for ch in chunks {
            c.convert(ch, &mut out);
        }
        c.finish(&mut out);
        out
    }

    #[test]
    fn lf_becomes_crlf_once() {
        assert_eq!(to_net(&[b"a\nb\r\nc\rd\n"]), b"a\r\nb\r\nc\rd\r\n");
        assert_eq!(to_net(&[b"a\r", b"\nb\n"]), b"a\r\nb\r\n");
        assert_eq!(to_net(&[b"\n\n"]), b"\r\n\r\n");
        let mut c = ToNetwork::default();
        assert_eq!(c.converted_len(b"a\nb\r\n"), 6);
    }

    #[test]
    fn crlf_becomes_lf_across_chunks() {
        assert_eq!(from_net(&[b"a\r\nb\r\n"]), b"a\nb\n");
        assert_eq!(from_net(&[b"a\r", b"\nb"]), b"a\nb");
        assert_eq!(from_net(&[b"a\rb\nc\r"]), b"a\rb\nc\r");
        assert_eq!(from_net(&[b"\r", b"\r", b"\n"]), b"\r\n");
        assert_eq!(from_net(&[b"\0\xff\r\n"]), b"\0\xff\n");
    }

    #[test]
    fn round_trip_of_unix_text() {
        let text = b"line1\nline2\n\nend";
        assert_eq!(from_net(&[&to_net(&[text])]), text);
    }
}
