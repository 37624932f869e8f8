//! [`Objective`]: a service-level objective declared in code, checked while compiling.

use std::time::Duration;

/// A service-level objective: what share of a group of handlers' requests must succeed,
/// and what share must finish within a latency threshold.
///
/// Build one in a `const` item and name it in `#[track_metrics(objective = …)]` on every
/// handler that counts toward it. A request is bad for the success objective when its
/// status is 5xx, and good for the latency objective when it took at most the
/// threshold. The runtime exposes the objective's targets beside the request metrics;
/// the rule file `docker/objectives.yml` turns them into burn-rate alerts for every
/// objective of every program, with nothing to regenerate (see `docs/objectives.md`).
///
/// ```
/// use std::time::Duration;
/// use track_metrics::Objective;
///
/// /// 99.9 % of checkout requests succeed; 99 % finish within 250 ms.
/// const CHECKOUT: Objective = Objective::new("checkout")
///     .success_rate(0.999)
///     .latency(Duration::from_millis(250), 0.99);
///
/// assert_eq!(CHECKOUT.name(), "checkout");
/// assert_eq!(CHECKOUT.success_target(), Some(0.999));
/// assert_eq!(CHECKOUT.latency_target(), Some((Duration::from_millis(250), 0.99)));
/// ```
///
/// Every check runs while the `const` is evaluated, so a bad objective does not
/// compile: a name that is not `[a-z_][a-z0-9_]*`, a target outside (0, 1), a zero
/// threshold, a target set twice, or an objective with no target at all once a
/// handler names it.
///
/// ```compile_fail
/// use track_metrics::Objective;
/// // error: an objective's success rate must lie strictly between 0 and 1
/// const ALL: Objective = Objective::new("all").success_rate(1.0);
/// ```
///
/// ```compile_fail
/// use track_metrics::Objective;
/// // error: an objective's name must match [a-z_][a-z0-9_]*
/// const BAD: Objective = Objective::new("Check-out");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Objective {
    name: &'static str,
    success: Option<f64>,
    latency: Option<(Duration, f64)>,
}

impl Objective {
    /// An objective named `name` (`[a-z_][a-z0-9_]*`, the `objective` label of its
    /// series and alerts), with no target yet.
    pub const fn new(name: &'static str) -> Objective {
        let bytes = name.as_bytes();
        if bytes.is_empty() {
            panic!("an objective's name must not be empty");
        }
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            let valid = b == b'_' || b.is_ascii_lowercase() || (i > 0 && b.is_ascii_digit());
            if !valid {
                panic!(
                    "an objective's name must match [a-z_][a-z0-9_]*: lower-case ASCII letters, digits and `_`, not starting with a digit"
                );
            }
            i += 1;
        }
        Objective {
            name,
            success: None,
            latency: None,
        }
    }

    /// The share of requests that must not answer 5xx, such as `0.999`; strictly
    /// between 0 and 1.
    pub const fn success_rate(mut self, target: f64) -> Objective {
        if self.success.is_some() {
            panic!("an objective's success rate is set twice");
        }
        if !is_target(target) {
            panic!("an objective's success rate must lie strictly between 0 and 1, such as 0.999");
        }
        self.success = Some(target);
        self
    }

    /// The share of requests (`target`, strictly between 0 and 1) that must finish
    /// within `threshold` (not zero).
    ///
    /// The threshold is measured as a bucket boundary of
    /// `http_request_duration_seconds`: give it to
    /// [`Config::objectives`](crate::Config::objectives) to add it to the buckets.
    /// Prometheus' default buckets already hold 5, 10, 25, 50, 100, 250 and 500 ms
    /// and 1, 2.5, 5 and 10 s.
    pub const fn latency(mut self, threshold: Duration, target: f64) -> Objective {
        if self.latency.is_some() {
            panic!("an objective's latency target is set twice");
        }
        if threshold.is_zero() {
            panic!("an objective's latency threshold must be above zero");
        }
        if !is_target(target) {
            panic!("an objective's latency target must lie strictly between 0 and 1, such as 0.99");
        }
        self.latency = Some((threshold, target));
        self
    }

    /// The name, the `objective` label.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The success target, if set.
    pub const fn success_target(&self) -> Option<f64> {
        self.success
    }

    /// The latency threshold and its target, if set.
    pub const fn latency_target(&self) -> Option<(Duration, f64)> {
        self.latency
    }

    /// `self`, or a panic (a compile error in const evaluation) when it has no target:
    /// generated code checks every objective a handler names.
    #[doc(hidden)]
    pub const fn checked(&'static self) -> &'static Objective {
        if self.success.is_none() && self.latency.is_none() {
            panic!(
                "this objective has no target: give it `.success_rate(..)`, `.latency(..)` or both"
            );
        }
        self
    }
}

// Strictly between 0 and 1 (NaN fails both comparisons).
const fn is_target(target: f64) -> bool {
    target > 0.0 && target < 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_kept() {
        const BOTH: Objective = Objective::new("checkout_2")
            .success_rate(0.999)
            .latency(Duration::from_millis(250), 0.99);
        assert_eq!(BOTH.name(), "checkout_2");
        assert_eq!(BOTH.success_target(), Some(0.999));
        assert_eq!(
            BOTH.latency_target(),
            Some((Duration::from_millis(250), 0.99))
        );
        const ONLY: Objective = Objective::new("_search").latency(Duration::from_secs(1), 0.9);
        assert_eq!(ONLY.success_target(), None);
        assert!(std::ptr::eq(ONLY.checked(), &ONLY));
    }

    #[test]
    fn bad_objectives_panic_at_run_time_too() {
        let cases: [fn() -> Objective; 8] = [
            || Objective::new(""),
            || Objective::new("9lives"),
            || Objective::new("Checkout"),
            || Objective::new("check-out"),
            || Objective::new("a").success_rate(1.0),
            || Objective::new("a").success_rate(f64::NAN),
            || Objective::new("a").latency(Duration::ZERO, 0.9),
            || Objective::new("a").success_rate(0.9).success_rate(0.99),
        ];
        for case in cases {
            assert!(std::panic::catch_unwind(case).is_err());
        }
    }
}
