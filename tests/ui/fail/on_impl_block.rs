use track_metrics::track_metrics;

struct Users;

#[track_metrics]
impl Users {
    fn get(&self) -> u32 {
        1
    }
}

fn main() {
    let _ = Users.get();
}
