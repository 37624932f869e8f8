use std::time::Duration;
use track_metrics::Objective;

const ALWAYS: Objective = Objective::new("always").success_rate(1.0);
const FAST: Objective = Objective::new("fast").latency(Duration::from_millis(100), 0.0);

fn main() {
    let _ = (ALWAYS, FAST);
}
