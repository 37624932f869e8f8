// A tracked function nobody calls is still reported as dead code, at its name.
#![deny(dead_code)]

use track_metrics::track_metrics;

#[track_metrics]
fn never_called() -> u32 {
    1
}

#[track_metrics]
async fn never_awaited() {}

fn main() {}
