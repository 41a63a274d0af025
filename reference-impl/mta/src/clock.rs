//! Time, injected: the MTA never reads the system clock itself, so tests can move time
//! forward past retry delays and the give-up time without waiting.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// The current time for queue scheduling, `Received:` and DSN dates.
pub trait Clock: Send + Sync + 'static {
    /// Now.
    fn now(&self) -> SystemTime;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told to (tests).
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<SystemTime>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: SystemTime) -> ManualClock {
        ManualClock {
            now: Mutex::new(start),
        }
    }

    /// Move forward by `d`.
    pub fn advance(&self, d: Duration) {
        if let Ok(mut t) = self.now.lock() {
            *t += d;
        }
    }

    /// Stand at `t`.
    pub fn set(&self, t: SystemTime) {
        if let Ok(mut now) = self.now.lock() {
            *now = t;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        self.now.lock().map_or(SystemTime::UNIX_EPOCH, |t| *t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let c = ManualClock::new(start);
        assert_eq!(c.now(), start);
        c.advance(Duration::from_secs(60));
        assert_eq!(c.now(), start + Duration::from_secs(60));
        c.set(start);
        assert_eq!(c.now(), start);
    }
}
