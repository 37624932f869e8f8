use track_metrics::track_metrics;

#[track_metrics]
const fn limit() -> u32 {
    10
}

const LIMIT: u32 = limit();

fn main() {
    let _ = LIMIT + limit();
}
