use track_metrics::track_metrics;

#[track_metrics(method = "get")]
fn get_user() -> u32 {
    1
}

fn main() {
    let _ = get_user();
}
