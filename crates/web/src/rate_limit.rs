//! A per-client request budget for public writes (Open311 POSTs): at most `per_minute` in any
//! minute-long window that starts with a client's first request. Kept in memory, since it only
//! guards this process against one client flooding it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Beyond this many tracked clients, expired windows are dropped before adding another.
const PRUNE_AT: usize = 10_000;

#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// Counts one request of `client` at `now`; false when over the budget.
    pub fn allow(&self, client: &str, per_minute: u32, now: Instant) -> bool {
        let mut w = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if w.len() >= PRUNE_AT {
            w.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = w.entry(client.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        if entry.1 >= per_minute {
            return false;
        }
        entry.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_budget_per_window_and_others_theirs() {
        let r = RateLimiter::default();
        let t0 = Instant::now();
        assert!(r.allow("a", 2, t0));
        assert!(r.allow("a", 2, t0));
        assert!(!r.allow("a", 2, t0 + Duration::from_secs(59)));
        assert!(r.allow("b", 2, t0), "another client is not affected");
        assert!(
            r.allow("a", 2, t0 + Duration::from_secs(60)),
            "a new window"
        );
    }
}
