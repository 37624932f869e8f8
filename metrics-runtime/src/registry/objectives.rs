//! Objectives joined by their handlers: the series `docker/objectives.yml` reads, set
//! when a handler naming an objective is first called.

use std::collections::HashMap;
use std::sync::PoisonError;

use crate::config::Objective;
use crate::families::{ObjectiveFamilies, bound_label};

/// Which handler or gRPC method counts toward which objective, and the objectives as
/// first seen.
#[derive(Default)]
pub(super) struct Joined {
    members: HashMap<Member, &'static str>,
    objectives: HashMap<&'static str, Objective>,
}

/// `handler` counts toward `objective`: its series are set, once per handler.
///
/// A handler counts toward one objective: a second call site of the same handler name
/// naming another objective is logged and ignored. Two objectives of one name keep the
/// first one's targets, and the second is logged.
pub(crate) fn join(objective: &'static Objective, handler: &'static str) {
    join_member(objective, Member::Handler(handler));
}

/// The gRPC method `service`/`method` counts toward `objective` (its tracked function
/// names it, and the gRPC layer counts its RPCs): as [`join`], once per method.
#[cfg(feature = "tonic")]
pub(crate) fn join_rpc(objective: &'static Objective, service: &'static str, method: &'static str) {
    join_member(objective, Member::Rpc(service, method));
}

/// What counts toward an objective.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Member {
    /// A handler, in the HTTP families.
    Handler(&'static str),
    /// A gRPC method (`grpc_service`, `grpc_method`), in the gRPC families.
    #[cfg(feature = "tonic")]
    Rpc(&'static str, &'static str),
}

impl std::fmt::Display for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Member::Handler(handler) => write!(f, "handler `{handler}`"),
            #[cfg(feature = "tonic")]
            Member::Rpc(service, method) => write!(f, "gRPC method `{service}/{method}`"),
        }
    }
}

fn join_member(objective: &'static Objective, member: Member) {
    let runtime = super::runtime();
    let mut joined = runtime
        .joined
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let name = objective.name();
    if let Some(&other) = joined.members.get(&member) {
        if other != name {
            log::warn!(
                "track-metrics: {member} already counts toward objective `{other}`; a call site naming objective `{name}` for it is ignored"
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
    joined.members.insert(member, name);
    match member {
        Member::Handler(handler) => runtime.objectives.member(name, handler),
        #[cfg(feature = "tonic")]
        Member::Rpc(service, method) => runtime.objectives.grpc_member(name, service, method),
    }
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
