use track_metrics::track_metrics;

#[track_metrics(method = "FETCH")]
fn get_user() -> u32 {
    1
}

fn main() {
    let _ = get_user();
}
