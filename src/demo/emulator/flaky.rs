//! The `flaky:<percent>` noise layer: a rate in parts per million, its text
//! form, and the per-request draw (a 503 for two thirds of failures, a
//! connection reset for one third).

use std::fmt;
use std::str::FromStr;

use rand::Rng;

/// Parts per million in one percent.
const PPM_PER_PERCENT: u32 = 10_000;
/// The most decimals a percent may have (one part per million).
const MAX_DECIMALS: usize = 4;

/// The probability that one request fails, kept exactly in parts per million.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct FlakyRate(u32);

/// How one unlucky request fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlakyFailure {
    /// Answer 503 Service Unavailable.
    Status503,
    /// Drop the connection with an RST.
    Reset,
}

/// The text was not a percent from 0 to 100 with at most four decimals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a percent from 0 to 100 with at most 4 decimals, such as 5 or 0.5, got {0:?}")]
pub struct BadPercent(pub String);

impl FlakyRate {
    /// No request fails.
    pub const ZERO: FlakyRate = FlakyRate(0);

    /// The rate from parts per million; `None` above 1 000 000.
    pub fn from_ppm(ppm: u32) -> Option<FlakyRate> {
        (ppm <= 100 * PPM_PER_PERCENT).then_some(FlakyRate(ppm))
    }

    /// The rate in parts per million.
    pub fn ppm(self) -> u32 {
        self.0
    }

    /// True when no request ever fails.
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Draws one request's fate: `None` means it is served normally.
    pub fn draw<R: Rng + ?Sized>(self, rng: &mut R) -> Option<FlakyFailure> {
        if rng.gen_range(0..100 * PPM_PER_PERCENT) >= self.0 {
            return None;
        }
        // A separate draw keeps the split independent of the rate.
        Some(if rng.gen_range(0..3) == 0 {
            FlakyFailure::Reset
        } else {
            FlakyFailure::Status503
        })
    }
}

impl FromStr for FlakyRate {
    type Err = BadPercent;

    /// Parses `5`, `0.5`, `100`; refuses signs, exponents, `nan`, and over 100.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let bad = || BadPercent(text.to_string());
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > MAX_DECIMALS {
            return Err(bad());
        }
        if text.ends_with('.') {
            return Err(bad());
        }
        let whole = whole.trim_start_matches('0');
        let whole: u32 = match whole.len() {
            0 => 0,
            1..=3 => whole.parse().map_err(|_| bad())?,
            _ => return Err(bad()),
        };
        let frac_ppm: u32 = format!("{frac:0<4}").parse().map_err(|_| bad())?;
        let ppm = whole
            .checked_mul(PPM_PER_PERCENT)
            .and_then(|w| w.checked_add(frac_ppm))
            .ok_or_else(bad)?;
        FlakyRate::from_ppm(ppm).ok_or_else(bad)
    }
}

impl fmt::Display for FlakyRate {
    /// The shortest percent text, e.g. `5`, `0.5`, `12.3456`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / PPM_PER_PERCENT;
        let frac = self.0 % PPM_PER_PERCENT;
        if frac == 0 {
            return write!(f, "{whole}");
        }
        let frac = format!("{frac:04}");
        write!(f, "{whole}.{}", frac.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn percents_parse_exactly_and_print_back() -> Result<(), BadPercent> {
        for (text, ppm) in [
            ("0", 0),
            ("5", 50_000),
            ("0.5", 5_000),
            ("100", 1_000_000),
            ("100.0", 1_000_000),
            ("12.3456", 123_456),
            ("007", 70_000),
            (" 1 ", 10_000),
        ] {
            let rate: FlakyRate = text.parse()?;
            assert_eq!(rate.ppm(), ppm, "{text}");
            assert_eq!(rate.to_string().parse::<FlakyRate>()?, rate);
        }
        assert_eq!("0.5".parse::<FlakyRate>()?.to_string(), "0.5");
        assert_eq!("100.0".parse::<FlakyRate>()?.to_string(), "100");
        Ok(())
    }

    #[test]
    fn bad_percents_are_refused() {
        for text in [
            "",
            "-1",
            "+5",
            "100.01",
            "101",
            "1e2",
            "nan",
            "inf",
            "5%",
            "0.00001",
            ".5",
            "5.",
            "1.2.3",
            "99999999999",
            "five",
        ] {
            assert!(text.parse::<FlakyRate>().is_err(), "{text:?} was accepted");
        }
    }

    /// Failures over `draws` seeded draws, split into (503s, resets).
    fn count(rate: &str, seed: u64, draws: usize) -> (usize, usize) {
        let rate: FlakyRate = rate.parse().unwrap_or_default();
        let mut rng = StdRng::seed_from_u64(seed);
        let mut out = (0, 0);
        for _ in 0..draws {
            match rate.draw(&mut rng) {
                Some(FlakyFailure::Status503) => out.0 += 1,
                Some(FlakyFailure::Reset) => out.1 += 1,
                None => {}
            }
        }
        out
    }

    #[test]
    fn failure_rate_over_ten_thousand_draws_is_close_to_the_percent() {
        // Binomial(10 000, p): 4.5 standard deviations is a fixed-seed tolerance that
        // still catches a rate off by a fifth at 5 % or 20 %.
        for (rate, p) in [("5", 0.05_f64), ("20", 0.2), ("0.5", 0.005), ("50", 0.5)] {
            for seed in [1, 2, 3] {
                let (status, reset) = count(rate, seed, 10_000);
                let failed = (status + reset) as f64;
                let mean = 10_000.0 * p;
                let sd = (10_000.0 * p * (1.0 - p)).sqrt();
                assert!(
                    (failed - mean).abs() <= 4.5 * sd,
                    "flaky:{rate} seed {seed}: {failed} failures, expected {mean} ± {}",
                    4.5 * sd
                );
            }
        }
        // A third of failures are resets.
        let (status, reset) = count("50", 9, 10_000);
        let share = reset as f64 / (status + reset) as f64;
        assert!((share - 1.0 / 3.0).abs() < 0.03, "reset share {share}");
        assert_eq!(count("0", 4, 10_000), (0, 0));
        assert_eq!(
            count("100", 4, 10_000).0 + count("100", 4, 10_000).1,
            10_000
        );
        // The same seed gives the same sequence.
        assert_eq!(count("5", 7, 10_000), count("5", 7, 10_000));
    }
}
