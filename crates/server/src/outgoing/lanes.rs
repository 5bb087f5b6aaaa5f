//! Delivery lanes, one per URL: how many of its deliveries are claimed and running, when its
//! next unclaimed one is due, and the semaphore that bounds its concurrent calls.
//!
//! Each lane lets at most `Integrations_Outgoing_Max_Concurrency_Per_Url` calls run at once
//! and keeps up to as many again claimed and waiting, so the next call starts without waiting
//! for a claim to commit; [`MAX_IN_FLIGHT`] bounds claimed deliveries over all lanes. A slow
//! or dead receiver therefore only ever holds its own lane.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::{Claimed, Delivery};
use tokio::sync::{Notify, Semaphore};

/// Attempts running at once over all URLs.
pub const MAX_IN_FLIGHT: usize = 1024;

struct Lane {
    /// Claimed deliveries of this URL not finished yet (running or waiting for a permit).
    in_flight: usize,
    /// Earliest known due time of an unclaimed delivery; `None`: none known.
    next_due: Option<i64>,
    /// Calls running at once.
    calls: Arc<Semaphore>,
}

impl Lane {
    fn new(per_url: usize) -> Self {
        Lane { in_flight: 0, next_due: None, calls: Arc::new(Semaphore::new(per_url)) }
    }
}

struct Lanes {
    by_url: HashMap<String, Lane>,
    in_flight: usize,
    per_url: usize,
}

impl Default for Lanes {
    fn default() -> Self {
        Lanes { by_url: HashMap::new(), in_flight: 0, per_url: 16 }
    }
}

impl Lanes {
    fn lane(&mut self, url: &str) -> &mut Lane {
        let per_url = self.per_url;
        self.by_url.entry(url.to_owned()).or_insert_with(|| Lane::new(per_url))
    }
}

#[derive(Default)]
pub struct Dispatcher {
    lanes: Mutex<Lanes>,
    wake: Notify,
}

fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Dispatcher {
    /// A delivery of `url` is due at `at`.
    pub fn due(&self, url: &str, at: i64) {
        {
            let mut lanes = self.lanes.lock().expect("lanes lock");
            let lane = lanes.lane(url);
            lane.next_due = earliest(lane.next_due, Some(at));
        }
        self.wake.notify_one();
    }

    pub(super) fn finished(&self, url: &str) {
        {
            let mut lanes = self.lanes.lock().expect("lanes lock");
            lanes.in_flight = lanes.in_flight.saturating_sub(1);
            if let Some(lane) = lanes.by_url.get_mut(url) {
                lane.in_flight = lane.in_flight.saturating_sub(1);
                if lane.in_flight == 0 && lane.next_due.is_none() {
                    lanes.by_url.remove(url);
                }
            }
        }
        self.wake.notify_one();
    }

    /// Lanes to claim for now, with how many each may take; or when to look again.
    pub(super) fn pick(&self, now: i64, per_url: usize) -> Result<Vec<(String, usize)>, Option<i64>> {
        let mut lanes = self.lanes.lock().expect("lanes lock");
        lanes.per_url = per_url;
        let mut free = MAX_IN_FLIGHT.saturating_sub(lanes.in_flight);
        let mut picks = Vec::new();
        let mut next: Option<i64> = None;
        for (url, lane) in lanes.by_url.iter_mut() {
            let room = (2 * per_url).saturating_sub(lane.in_flight).min(free);
            match lane.next_due {
                Some(due) if due <= now && room > 0 => {
                    lane.next_due = None;
                    free -= room;
                    picks.push((url.clone(), room));
                }
                Some(due) if room > 0 => next = earliest(next, Some(due)),
                _ => {}
            }
        }
        if picks.is_empty() { Err(next) } else { Ok(picks) }
    }

    /// Takes claimed deliveries into their lanes; each comes with its lane's call semaphore.
    pub(super) fn claimed(&self, claimed: Vec<Claimed>) -> Vec<(Arc<Semaphore>, Delivery)> {
        let mut lanes = self.lanes.lock().expect("lanes lock");
        let mut out = Vec::new();
        for c in claimed {
            let n = c.deliveries.len();
            lanes.in_flight += n;
            let lane = lanes.lane(&c.url);
            lane.in_flight += n;
            lane.next_due = earliest(lane.next_due, c.next_due);
            out.extend(c.deliveries.into_iter().map(|d| (lane.calls.clone(), d)));
        }
        out
    }

    /// Sleeps until woken (a new delivery, a finished call) or `wait` has passed.
    pub(super) async fn sleep(&self, wait: Duration) {
        tokio::select! {
            _ = self.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}
