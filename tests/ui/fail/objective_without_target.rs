use track_metrics::{Objective, track_metrics};

const EMPTY: Objective = Objective::new("empty");

#[track_metrics(objective = EMPTY)]
fn checkout() -> u32 {
    1
}

fn main() {
    let _ = checkout();
}
