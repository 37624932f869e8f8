use std::time::Duration;
use track_metrics::Objective;

const INSTANT: Objective = Objective::new("instant").latency(Duration::ZERO, 0.99);

fn main() {
    let _ = INSTANT;
}
