//! Phase timings of long operations (bulk imports), logged at debug level under the target
//! `xiangzhi::timing` so a slow run can be taken apart without a profiler:
//! `XIANGZHI_LOG=xiangzhi::timing=debug xiangzhi import persons …`. Counts and durations
//! only, never row contents.

use std::time::{Duration, Instant};

pub struct Phases {
    what: &'static str,
    started: Instant,
    last: Instant,
    done: Vec<(&'static str, Duration)>,
}

impl Phases {
    pub fn start(what: &'static str) -> Phases {
        let now = Instant::now();
        Phases {
            what,
            started: now,
            last: now,
            done: Vec::new(),
        }
    }

    /// Ends the phase running since the previous mark (or the start).
    pub fn mark(&mut self, phase: &'static str) {
        let now = Instant::now();
        self.done.push((phase, now - self.last));
        self.last = now;
    }

    /// Logs every phase and the total.
    pub fn finish(self, rows: usize) {
        let parts: Vec<String> = self
            .done
            .iter()
            .map(|(p, d)| format!("{p}={:.0}ms", d.as_secs_f64() * 1000.0))
            .collect();
        tracing::debug!(
            target: "xiangzhi::timing",
            "{} rows={rows} total={:.0}ms {}",
            self.what,
            self.started.elapsed().as_secs_f64() * 1000.0,
            parts.join(" ")
        );
    }
}
