//! Objectives joined by their handlers: the series `docker/objectives.yml` reads, set
//! when a handler naming an objective is first called.

use std::collections::HashMap;
use std::sync::PoisonError;

use crate::config::Objective;
use crate::families::{ObjectiveFamilies, bound_label};

/// Which handler counts toward which objective, and the objectives as first seen.
#[derive(Default)]
pub(super) struct Joined {
    handlers: HashMap<&'static str, &'static str>,
    objectives: HashMap<&'static str, Objective>,
}

/// `handler` counts toward `objective`: its series are set, once per handler.
///
/// A handler counts toward one objective: a second call site of the same handler name
/// naming another objective is logged and ignored. Two objectives of one name keep the
/// first one's targets, and the second is logged.
pub(crate) fn join(objective: &'static Objective, handler: &'static str) {
    let runtime = super::runtime();
    let mut joined = runtime
        .joined
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let name = objective.name();
    if let Some(&other) = joined.handlers.get(handler) {
        if other != name {
            log::warn!(
                "track-metrics: handler `{handler}` already counts toward objective `{other}`; a call site naming objective `{name}` for it is ignored"
            );
        }
        return;
    }
    match joined.objectives.get(name) {
        Some(first) if first != objective => log::warn!(
            "track-metrics: objective `{name}` is declared twice with different targets ({first:?} and {objective:?}); the first is kept"
        ),
        Some(_) => {}
        None => {
            expose_targets(&runtime.objectives, objective, &runtime.http.bounds);
            joined.objectives.insert(name, *objective);
        }
    }
    joined.handlers.insert(handler, name);
    runtime.objectives.member(name, handler);
}

fn expose_targets(families: &ObjectiveFamilies, objective: &Objective, bounds: &[f64]) {
    let name = objective.name();
    if let Some(target) = objective.success_target() {
        families.success_target(name, target);
    }
    if let Some((threshold, target)) = objective.latency_target() {
        let seconds = threshold.as_secs_f64();
        let bound = latency_bound(seconds, bounds);
        let le = bound_label(bound);
        if bound != seconds {
            log::warn!(
                "track-metrics: objective `{name}`: the latency threshold {threshold:?} is not a bucket boundary of http_request_duration_seconds, so it is measured at le=\"{le}\"; list the objective in Config::objectives(..) to measure it exactly"
            );
        }
        families.latency_target(name, &le, target);
    }
}

/// The bucket a latency threshold is measured at: the first bound at or above it,
/// `+Inf` above them all.
pub(super) fn latency_bound(seconds: f64, bounds: &[f64]) -> f64 {
    bounds
        .iter()
        .copied()
        .find(|&bound| bound >= seconds)
        .unwrap_or(f64::INFINITY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threshold_is_measured_at_its_bucket_or_the_next_above() {
        let bounds = prometheus::DEFAULT_BUCKETS;
        assert_eq!(latency_bound(0.25, bounds), 0.25);
        assert_eq!(latency_bound(0.3, bounds), 0.5);
        assert_eq!(latency_bound(0.001, bounds), 0.005);
        assert_eq!(latency_bound(11.0, bounds), f64::INFINITY);
        assert_eq!(bound_label(latency_bound(1.0, bounds)), "1");
        assert_eq!(bound_label(latency_bound(11.0, bounds)), "+Inf");
    }
}
