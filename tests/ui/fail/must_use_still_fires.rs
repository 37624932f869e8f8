// `#[must_use]` stays on the function, and on its `Result`.
#![deny(unused_must_use)]

use track_metrics::track_metrics;

#[track_metrics]
#[must_use = "the total is the point"]
fn total() -> u32 {
    1
}

#[track_metrics]
fn fallible() -> Result<(), String> {
    Ok(())
}

fn main() {
    total();
    fallible();
}
