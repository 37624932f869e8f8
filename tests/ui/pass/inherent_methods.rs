//! Methods taking `self`, `&self` and `&mut self` in an inherent `impl` block,
//! including ones that return borrows of `self`.

use track_metrics::track_metrics;

#[derive(Debug, Default, PartialEq)]
struct Counter {
    value: u32,
    name: String,
}

impl Counter {
    #[track_metrics]
    fn new(name: &str) -> Self {
        Counter {
            value: 0,
            name: name.to_owned(),
        }
    }

    #[track_metrics(name = "Counter::get")]
    fn get(&self) -> u32 {
        self.value
    }

    #[track_metrics]
    fn name(&self) -> &str {
        &self.name
    }

    #[track_metrics]
    fn bump(&mut self) -> &mut Self {
        self.value += 1;
        self
    }

    #[track_metrics]
    fn value_mut(&mut self) -> &mut u32 {
        &mut self.value
    }

    #[track_metrics]
    fn into_value(self) -> u32 {
        self.value
    }

    #[track_metrics]
    fn into_value_mut(mut self) -> u32 {
        self.value += 100;
        self.value
    }

    #[track_metrics]
    async fn get_async(&self) -> u32 {
        self.value
    }

    #[track_metrics]
    async fn bump_async(&mut self) -> &mut u32 {
        self.value += 1;
        &mut self.value
    }

    #[track_metrics]
    async fn into_name(self) -> String {
        self.name
    }

    #[track_metrics]
    fn boxed(self: Box<Self>) -> u32 {
        self.value
    }
}

fn main() {
    let mut counter = Counter::new("c");
    counter.bump().bump();
    *counter.value_mut() += 10;
    assert_eq!(counter.get(), 12);
    assert_eq!(counter.name(), "c");
    actix_web::rt::System::new().block_on(async {
        *counter.bump_async().await += 1;
        assert_eq!(counter.get_async().await, 14);
        assert_eq!(Counter::new("n").into_name().await, "n");
    });
    assert_eq!(Box::new(Counter::new("b")).boxed(), 0);
    assert_eq!(Counter::new("d").into_value_mut(), 100);
    assert_eq!(counter.into_value(), 14);

    let text = track_metrics::render();
    for (handler, count) in [
        ("new", 4),
        ("Counter::get", 1),
        ("name", 1),
        ("bump", 2),
        ("value_mut", 1),
        ("into_value", 1),
        ("into_value_mut", 1),
        ("get_async", 1),
        ("bump_async", 1),
        ("into_name", 1),
        ("boxed", 1),
    ] {
        let line = format!(
            r#"http_requests_total{{handler="{handler}",method="",route="",status="200"}} {count}"#
        );
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in:\n{text}"
        );
    }
}
