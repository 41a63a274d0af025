//! The exchange of one case, as the report shows it: every byte sent and received (up to a
//! cap, so a target streaming without end cannot fill memory), and connection notes.

use std::time::Instant;

use wirecheck_reports::{Direction, Event, escape_bytes};

/// Most events kept per case.
const MAX_EVENTS: usize = 20_000;

/// Records one case's exchange.
#[derive(Debug)]
pub struct Recorder {
    start: Instant,
    events: Vec<Event>,
    bytes: usize,
    cap: usize,
    dropped: u64,
    truncated_noted: bool,
}

impl Recorder {
    /// Keep at most `cap` bytes of traffic.
    pub fn new(start: Instant, cap: usize) -> Recorder {
        Recorder {
            start,
            events: Vec::new(),
            bytes: 0,
            cap,
            dropped: 0,
            truncated_noted: false,
        }
    }

    fn t_ms(&self) -> u64 {
        self.start
            .elapsed()
            .as_millis()
            .try_into()
            .unwrap_or(u64::MAX)
    }

    /// Bytes wirecheck sent on `conn`.
    pub fn sent(&mut self, conn: &str, b: &[u8]) {
        self.bytes_event(conn, Direction::Sent, b);
    }

    /// Bytes wirecheck received on `conn`.
    pub fn received(&mut self, conn: &str, b: &[u8]) {
        self.bytes_event(conn, Direction::Received, b);
    }

    /// A note (connected, TLS, closed, timed out…).
    pub fn note(&mut self, conn: &str, text: impl Into<String>) {
        if self.events.len() < MAX_EVENTS {
            let t_ms = self.t_ms();
            self.events.push(Event {
                t_ms,
                conn: conn.to_string(),
                dir: Direction::Note,
                data: text.into(),
            });
        }
    }

    fn bytes_event(&mut self, conn: &str, dir: Direction, b: &[u8]) {
        let room = self.cap.saturating_sub(self.bytes);
        let keep = b.len().min(room);
        if keep < b.len() {
            self.dropped += (b.len() - keep) as u64;
            if !self.truncated_noted {
                self.truncated_noted = true;
                self.note(conn, format!("exchange truncated: more than {} bytes of traffic, the rest is not recorded", self.cap));
            }
        }
        if keep == 0 {
            return;
        }
        self.bytes += keep;
        let t_ms = self.t_ms();
        let data = escape_bytes(&b[..keep]);
        // Consecutive reads of one reply in the same millisecond read as one event.
        if let Some(last) = self.events.last_mut()
            && last.conn == conn
            && last.dir == dir
            && last.t_ms == t_ms
        {
            last.data.push_str(&data);
            return;
        }
        if self.events.len() < MAX_EVENTS {
            self.events.push(Event {
                t_ms,
                conn: conn.to_string(),
                dir,
                data,
            });
        } else {
            self.dropped += keep as u64;
        }
    }

    /// Bytes of traffic recorded so far.
    pub fn recorded_bytes(&self) -> usize {
        self.bytes
    }

    /// The events, with a final note on what was not recorded.
    pub fn finish(mut self) -> Vec<Event> {
        if self.dropped > 0 {
            let t_ms = self.t_ms();
            self.events.push(Event {
                t_ms,
                conn: String::new(),
                dir: Direction::Note,
                data: format!(
                    "{} bytes of traffic not recorded (cap {} bytes)",
                    self.dropped, self.cap
                ),
            });
        }
        self.events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_recorded_bytes() {
        let mut r = Recorder::new(Instant::now(), 10);
        r.sent("main", b"EHLO x\r\n");
        r.received("main", &[b'a'; 100]);
        r.received("main", b"more");
        assert_eq!(r.recorded_bytes(), 10);
        let ev = r.finish();
        assert!(
            ev.last()
                .unwrap()
                .data
                .contains("102 bytes of traffic not recorded")
        );
        assert_eq!(ev[0].data, "EHLO x\\r\\n");
    }
}
