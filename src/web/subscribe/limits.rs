//! Sliding-window limits on sign-ups, bounded in memory: at most [`MAX_KEYS`] keys are kept, keys
//! whose window has passed are swept out when the map fills (at most once per [`SWEEP_EVERY`]),
//! and a new key is refused while the map is still full of live ones. A refused attempt is not
//! recorded, so a flood cannot lengthen its own ban.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Sign-ups one client may make per [`CLIENT_WINDOW`].
pub const PER_CLIENT: usize = 10;
/// The window of [`PER_CLIENT`].
pub const CLIENT_WINDOW: Duration = Duration::from_secs(600);
/// Sign-ups one mailbox may get per [`MAILBOX_WINDOW`].
pub const PER_MAILBOX: usize = 3;
/// The window of [`PER_MAILBOX`].
pub const MAILBOX_WINDOW: Duration = Duration::from_secs(3600);
/// Most keys tracked at once (about 100 bytes each plus their attempts).
pub const MAX_KEYS: usize = 20_000;
/// Least time between two sweeps of a full map.
pub const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// One key's recent attempts and the window they count in.
#[derive(Debug)]
struct Attempts {
    window: Duration,
    at: VecDeque<Instant>,
}

#[derive(Debug, Default)]
struct Inner {
    keys: HashMap<String, Attempts>,
    swept_at: Option<Instant>,
}

/// Sliding-window limits on sign-ups.
#[derive(Debug, Default)]
pub struct RateLimits {
    inner: Mutex<Inner>,
}

impl RateLimits {
    /// Records an attempt under `key`; false when `max` attempts already happened within
    /// `window` (the refused attempt is not recorded), or when the map is full of live keys.
    pub fn allow(&self, key: String, max: usize, window: Duration) -> bool {
        self.allow_at(key, max, window, Instant::now())
    }

    /// Counts a sign-up from `client` for `mailbox`: first against the client's limit, and only
    /// if that passed against the mailbox's, so a flood from one client cannot use up a
    /// victim's mailbox quota. Names the limit that refused.
    pub fn admit_sign_up(&self, client: IpAddr, mailbox: &str) -> Result<(), &'static str> {
        if !self.allow(client_key(client), PER_CLIENT, CLIENT_WINDOW) {
            return Err("client");
        }
        if !self.allow(format!("box:{mailbox}"), PER_MAILBOX, MAILBOX_WINDOW) {
            return Err("mailbox");
        }
        Ok(())
    }

    fn allow_at(&self, key: String, max: usize, window: Duration, now: Instant) -> bool {
        let Ok(mut inner) = self.inner.lock() else {
            return false;
        };
        if inner.keys.len() >= MAX_KEYS && !inner.keys.contains_key(&key) {
            let due = inner
                .swept_at
                .is_none_or(|t| now.duration_since(t) >= SWEEP_EVERY);
            if due {
                inner.swept_at = Some(now);
                inner.keys.retain(|_, a| {
                    a.at.back()
                        .is_some_and(|t| now.duration_since(*t) <= a.window)
                });
            }
            if inner.keys.len() >= MAX_KEYS {
                tracing::warn!(
                    keys = MAX_KEYS,
                    "sign-up rate limiter full; refusing new clients"
                );
                return false;
            }
        }
        let a = inner.keys.entry(key).or_insert_with(|| Attempts {
            window,
            at: VecDeque::new(),
        });
        a.window = window;
        while a
            .at
            .front()
            .is_some_and(|t| now.duration_since(*t) > window)
        {
            a.at.pop_front();
        }
        if a.at.len() >= max {
            return false;
        }
        a.at.push_back(now);
        true
    }

    /// How many keys are tracked.
    pub fn len(&self) -> usize {
        self.inner.lock().map(|i| i.keys.len()).unwrap_or(0)
    }

    /// Whether no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The rate-limit key of a client: its IPv4 address, or its IPv6 /64 (one host's usual share,
/// so cycling through a prefix buys no extra sign-ups).
pub fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("ip:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("ip:{v4}"),
            None => {
                let s = v6.segments();
                format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_up_to_max_per_key_then_refuse() {
        let l = RateLimits::default();
        let w = Duration::from_secs(60);
        assert!((0..3).all(|_| l.allow("ip:1".into(), 3, w)));
        assert!(!l.allow("ip:1".into(), 3, w));
        assert!(l.allow("ip:2".into(), 3, w), "other keys are not affected");
        assert!(
            l.allow("ip:1".into(), 3, Duration::ZERO),
            "old attempts leave the window"
        );
    }

    #[test]
    fn a_full_map_sweeps_passed_windows_and_refuses_only_while_every_key_is_live() {
        let l = RateLimits::default();
        let t0 = Instant::now();
        let w = Duration::from_secs(10);
        for i in 0..MAX_KEYS {
            assert!(l.allow_at(format!("k{i}"), 1, w, t0));
        }
        assert_eq!(l.len(), MAX_KEYS);
        assert!(
            !l.allow_at("new".into(), 1, w, t0 + Duration::from_secs(1)),
            "full of live keys"
        );
        assert!(
            l.allow_at("k0".into(), 2, w, t0 + Duration::from_secs(1)),
            "a known key still counts"
        );
        let later = t0 + Duration::from_secs(30);
        assert!(
            l.allow_at("new".into(), 1, w, later),
            "passed windows swept"
        );
        assert_eq!(l.len(), 1, "only the new key is left");
    }

    #[test]
    fn a_client_over_its_limit_uses_up_no_mailbox_quota() {
        let l = RateLimits::default();
        let flood = IpAddr::from([192, 0, 2, 1]);
        for i in 0..PER_CLIENT {
            assert_eq!(l.admit_sign_up(flood, &format!("x{i}@example.org")), Ok(()));
        }
        for _ in 0..PER_MAILBOX + 2 {
            assert_eq!(l.admit_sign_up(flood, "victim@example.org"), Err("client"));
        }
        let victim = IpAddr::from([198, 51, 100, 7]);
        assert_eq!(l.admit_sign_up(victim, "victim@example.org"), Ok(()));
        for _ in 1..PER_MAILBOX {
            assert_eq!(l.admit_sign_up(victim, "victim@example.org"), Ok(()));
        }
        assert_eq!(
            l.admit_sign_up(victim, "victim@example.org"),
            Err("mailbox")
        );
    }

    #[test]
    fn ipv6_clients_share_their_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        let b: IpAddr = "2001:db8:1:2:bbbb::9"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap_or(IpAddr::from([0; 4]));
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        assert_eq!(client_key("127.0.0.1".parse().unwrap_or(a)), "ip:127.0.0.1");
    }
}
