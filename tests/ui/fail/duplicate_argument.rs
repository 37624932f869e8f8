use track_metrics::track_metrics;

#[track_metrics(name = "first", route = "/a", name = "second")]
fn get_user() -> u32 {
    1
}

fn main() {
    let _ = get_user();
}
