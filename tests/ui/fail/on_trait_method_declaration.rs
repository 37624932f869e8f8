use track_metrics::track_metrics;

trait Users {
    #[track_metrics]
    fn get(&self) -> u32;
}

struct Memory;

impl Users for Memory {
    fn get(&self) -> u32 {
        1
    }
}

fn main() {
    let _ = Memory.get();
}
