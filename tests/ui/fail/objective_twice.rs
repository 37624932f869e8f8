use track_metrics::{Objective, track_metrics};

const A: Objective = Objective::new("a").success_rate(0.99);
const B: Objective = Objective::new("b").success_rate(0.99);

#[track_metrics(objective = A, objective = B)]
fn checkout() -> u32 {
    1
}

fn main() {
    let _ = checkout();
}
