use track_metrics::track_metrics;

// Every problem is reported at once, each at its own token.
#[track_metrics(
    name = "",
    method = "get",
    route = "users",
    handler = "x",
    name = "again",
    crate = 1
)]
const fn get_user() -> u32 {
    1
}

fn main() {
    let _ = get_user();
}
