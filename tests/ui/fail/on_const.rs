use track_metrics::track_metrics;

#[track_metrics]
const LIMIT: u32 = 10;

fn main() {
    let _ = LIMIT;
}
