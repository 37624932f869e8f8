use track_metrics::track_metrics;

const CHECKOUT: f64 = 0.999;

#[track_metrics(objective = CHECKOUT)]
fn checkout() -> u32 {
    1
}

fn main() {
    let _ = checkout();
}
