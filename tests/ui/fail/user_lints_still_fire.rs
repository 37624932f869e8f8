// The user's body keeps its own spans: lints on it are reported at the user's tokens.
#![deny(unused_variables, unused_mut, dead_code, unreachable_code)]

use track_metrics::track_metrics;

#[track_metrics]
fn sync_handler() -> u32 {
    let unused = 1;
    let mut not_mutated = 2;
    not_mutated
}

#[track_metrics]
async fn async_handler(unused_param: u32) -> u32 {
    3
}

#[track_metrics]
fn never_called() {}

#[track_metrics]
fn unreachable_tail() -> u32 {
    panic!("stop");
    4
}

fn main() {
    let _ = sync_handler();
    let _ = async_handler(1);
    let _ = unreachable_tail();
}
