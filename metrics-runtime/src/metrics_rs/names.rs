//! The facade's names to Prometheus' rules, as metrics-exporter-prometheus writes them
//! (so a program that moves from it keeps its series): each character a name cannot
//! have becomes `_`, and a counter's name gets `_total` when it lacks it.

use crate::families::FacadeKind;

/// The family name of a facade metric of this kind and name.
pub(super) fn family(kind: FacadeKind, name: &str) -> String {
    let mut family = sanitized(name, |c, first| {
        c.is_ascii_alphabetic() || c == '_' || c == ':' || (!first && c.is_ascii_digit())
    });
    if kind == FacadeKind::Counter && !family.ends_with("_total") {
        family.push_str("_total");
    }
    family
}

/// A label name from a facade label's key.
pub(super) fn label(key: &str) -> String {
    sanitized(key, |c, first| {
        c.is_ascii_alphabetic() || c == '_' || (!first && c.is_ascii_digit())
    })
}

/// The unit OpenMetrics writes for one of the facade's: its name in snake case (`seconds`,
/// `bytes`, `bits_per_second`); none for a count.
pub(super) fn unit(unit: metrics::Unit) -> Option<&'static str> {
    match unit {
        metrics::Unit::Count => None,
        unit => Some(unit.as_str()),
    }
}

fn sanitized(name: &str, valid: impl Fn(char, bool) -> bool) -> String {
    name.chars()
        .enumerate()
        .map(|(at, c)| if valid(c, at == 0) { c } else { '_' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_take_prometheus_rules() {
        assert_eq!(family(FacadeKind::Gauge, "queue.depth"), "queue_depth");
        assert_eq!(family(FacadeKind::Gauge, "ns:queue"), "ns:queue");
        assert_eq!(family(FacadeKind::Gauge, "2xx-rate"), "_xx_rate");
        assert_eq!(family(FacadeKind::Gauge, "größe"), "gr__e");
        assert_eq!(family(FacadeKind::Counter, "jobs.done"), "jobs_done_total");
        assert_eq!(family(FacadeKind::Counter, "jobs_total"), "jobs_total");
        assert_eq!(family(FacadeKind::Histogram, "wait"), "wait");
        assert_eq!(label("http.method"), "http_method");
        assert_eq!(label("a:b"), "a_b");
        assert_eq!(label("1st"), "_st");
    }

    #[test]
    fn units_are_written_in_snake_case() {
        assert_eq!(unit(metrics::Unit::Seconds), Some("seconds"));
        assert_eq!(unit(metrics::Unit::Bytes), Some("bytes"));
        assert_eq!(unit(metrics::Unit::BitsPerSecond), Some("bits_per_second"));
        assert_eq!(unit(metrics::Unit::Count), None);
    }
}
