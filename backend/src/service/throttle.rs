//! Failed logins remembered, so that guessing passwords is slow (see `config::LoginLimits`):
//! by client address and account together, by address alone, and by account alone. Kept in
//! memory: a restart forgets them, which costs an attacker a restart they cannot cause.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::LoginLimits;

/// Most keys remembered at once; past it the oldest are forgotten first.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// The failed logins of the last while.
pub struct LoginThrottle {
    limits: LoginLimits,
    failures: Mutex<HashMap<String, Failures>>,
}

fn pair_key(account: &str, address: &str) -> String {
    format!("pair\u{0}{account}\u{0}{address}")
}

fn address_key(address: &str) -> String {
    format!("address\u{0}{address}")
}

fn account_key(account: &str) -> String {
    format!("account\u{0}{account}")
}

/// A user name as the throttle counts it: "Admin " and "admin" are one account.
fn normalise(account: &str) -> String {
    account.trim().to_lowercase()
}

impl LoginThrottle {
    pub fn new(limits: LoginLimits) -> LoginThrottle {
        LoginThrottle {
            limits,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn window(&self) -> Duration {
        Duration::from_secs(self.limits.lock_seconds)
    }

    /// How long `address` must wait before trying `account` again; `None` if it may now.
    pub fn wait(&self, account: &str, address: &str) -> Option<Duration> {
        self.wait_at(&normalise(account), address, Instant::now())
    }

    fn wait_at(&self, account: &str, address: &str, now: Instant) -> Option<Duration> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let window = self.window();
        let mut longest: Option<Duration> = None;
        let mut consider = |until: Instant| {
            if until > now {
                let left = until - now;
                longest = Some(longest.map_or(left, |l| l.max(left)));
            }
        };
        for key in [
            pair_key(account, address),
            address_key(address),
            account_key(account),
        ] {
            let Some(f) = map.get(&key) else {
                continue;
            };
            if now.duration_since(f.last) > window {
                continue;
            }
            if let Some(until) = f.locked_until {
                consider(until);
            }
        }
        // Past the free failures, each try waits twice as long as the one before.
        if let Some(f) = map.get(&pair_key(account, address))
            && now.duration_since(f.last) <= window
            && f.count >= self.limits.free_failures
        {
            let steps = (f.count - self.limits.free_failures).min(20);
            let delay = Duration::from_secs(1u64 << steps).min(window);
            consider(f.last + delay);
        }
        longest
    }

    /// Records a wrong password (or an unknown name) from `address` for `account`.
    pub fn failed(&self, account: &str, address: &str) {
        self.failed_at(&normalise(account), address, Instant::now());
    }

    fn failed_at(&self, account: &str, address: &str, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let window = self.window();
        if map.len() >= MAX_KEYS {
            map.retain(|_, f| now.duration_since(f.last) <= window);
            if map.len() >= MAX_KEYS {
                // A flood of distinct keys: forget the oldest half rather than grow.
                let mut ages: Vec<Instant> = map.values().map(|f| f.last).collect();
                ages.sort_unstable();
                let cut = ages[ages.len() / 2];
                map.retain(|_, f| f.last > cut);
            }
        }
        for (key, limit) in [
            (pair_key(account, address), self.limits.pair_failures),
            (address_key(address), self.limits.address_failures),
            (account_key(account), self.limits.account_failures),
        ] {
            let f = map.entry(key).or_insert(Failures {
                count: 0,
                last: now,
                locked_until: None,
            });
            if now.duration_since(f.last) > window {
                *f = Failures {
                    count: 0,
                    last: now,
                    locked_until: None,
                };
            }
            f.count += 1;
            f.last = now;
            if f.count >= limit {
                f.locked_until = Some(now + window);
            }
        }
    }

    /// Forgets the failures of `address` on `account` after it logged in: its own, and the
    /// account's (the person is evidently there). The address's count on other accounts stays.
    pub fn succeeded(&self, account: &str, address: &str) {
        let account = normalise(account);
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&pair_key(&account, address));
        map.remove(&account_key(&account));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(LoginLimits {
            free_failures: 3,
            pair_failures: 6,
            address_failures: 10,
            account_failures: 20,
            lock_seconds: 600,
        })
    }

    #[test]
    fn failures_past_the_free_ones_wait_longer_each_time_then_lock_the_pair() {
        let t = throttle();
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(t.wait_at("xa", "1.2.3.4", start), None);
            t.failed_at("xa", "1.2.3.4", start);
        }
        assert_eq!(
            t.wait_at("xa", "1.2.3.4", start),
            Some(Duration::from_secs(1))
        );
        t.failed_at("xa", "1.2.3.4", start);
        assert_eq!(
            t.wait_at("xa", "1.2.3.4", start),
            Some(Duration::from_secs(2))
        );
        t.failed_at("xa", "1.2.3.4", start);
        t.failed_at("xa", "1.2.3.4", start);
        assert_eq!(
            t.wait_at("xa", "1.2.3.4", start),
            Some(Duration::from_secs(600)),
            "locked"
        );
        // The real user elsewhere is not kept out; the lock ends with its window.
        assert_eq!(t.wait_at("xa", "5.6.7.8", start), None);
        assert_eq!(
            t.wait_at("xa", "1.2.3.4", start + Duration::from_secs(601)),
            None
        );
    }

    #[test]
    fn an_address_failing_on_many_accounts_is_locked_and_so_is_an_account_failed_from_many() {
        let t = throttle();
        let now = Instant::now();
        for i in 0..10 {
            t.failed_at(&format!("tk{i}"), "9.9.9.9", now);
        }
        assert!(t.wait_at("someone", "9.9.9.9", now).is_some());
        assert_eq!(t.wait_at("someone", "8.8.8.8", now), None);
        for i in 0..20 {
            t.failed_at("huyen", &format!("10.0.0.{i}"), now);
        }
        assert!(t.wait_at("huyen", "10.0.1.1", now).is_some());
    }

    #[test]
    fn a_success_forgets_that_account_s_failures() {
        let t = throttle();
        let now = Instant::now();
        for _ in 0..4 {
            t.failed_at("xa", "1.2.3.4", now);
        }
        assert!(t.wait_at("xa", "1.2.3.4", now).is_some());
        t.succeeded("XA ", "1.2.3.4");
        assert_eq!(t.wait_at("xa", "1.2.3.4", now), None);
    }
}
