//! The files of `docker/`, checked with the real tools: `promtool` and `amtool` on the
//! configs, `promtool test rules` on the recording and alert unit tests, Grafana's published
//! schema on the dashboard, and both compose files (one instance, scaled out) against the
//! files they mount. `ops_live` and `ops_scale` run them.
//!
//! Every external tool is required: a missing one is a failure, never a skip
//! (`scripts/test` installs them).
//!
//! By topic: the Prometheus configs (`prometheus.rs`), the recording and alert rules
//! (`rules.rs`), the objectives' rules (`objectives.rs`), Alertmanager (`alertmanager.rs`),
//! the dashboard (`dashboard.rs`) and the compose files (`compose.rs`).

mod alertmanager;
mod compose;
mod dashboard;
mod objectives;
mod prometheus;
mod rules;

use std::collections::BTreeSet;

/// Metric names an expression selects (identifiers directly followed by `{`).
fn selected_metrics(expr: &str) -> BTreeSet<String> {
    let bytes = expr.as_bytes();
    let mut names = BTreeSet::new();
    for (i, b) in bytes.iter().enumerate() {
        if *b != b'{' {
            continue;
        }
        let start = bytes[..i]
            .iter()
            .rposition(|c| !(c.is_ascii_alphanumeric() || *c == b'_' || *c == b':'))
            .map_or(0, |p| p + 1);
        if start < i {
            names.insert(expr[start..i].to_owned());
        }
    }
    names
}
