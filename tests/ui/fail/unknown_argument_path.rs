use track_metrics::track_metrics;

#[track_metrics(labels::name = "x")]
fn get_user() -> u32 {
    1
}

fn main() {
    let _ = get_user();
}
