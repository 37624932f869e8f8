//! Methods taking `self`, `&self` and `&mut self` in a trait `impl` block, sync and
//! `async`, and in a generic impl.

use track_metrics::track_metrics;

trait Store {
    fn get(&self, key: u32) -> Option<&String>;
    fn put(&mut self, key: u32, value: String) -> &mut Self;
    fn len(self) -> usize;
    async fn fetch(&self, key: u32) -> Option<String>;
    fn kind() -> &'static str;

    // A default method body is tracked like any other.
    #[track_metrics]
    fn describe(&self) -> String {
        format!("a {} store", Self::kind())
    }
}

#[derive(Default)]
struct MemStore(std::collections::BTreeMap<u32, String>);

impl Store for MemStore {
    #[track_metrics]
    fn get(&self, key: u32) -> Option<&String> {
        self.0.get(&key)
    }

    #[track_metrics]
    fn put(&mut self, key: u32, value: String) -> &mut Self {
        self.0.insert(key, value);
        self
    }

    #[track_metrics]
    fn len(self) -> usize {
        self.0.len()
    }

    #[track_metrics(name = "MemStore::fetch")]
    async fn fetch(&self, key: u32) -> Option<String> {
        self.0.get(&key).cloned()
    }

    #[track_metrics]
    fn kind() -> &'static str {
        "mem"
    }
}

struct Wrapper<T>(T);

impl<T: Clone + std::fmt::Debug> Wrapper<T> {
    #[track_metrics]
    fn describe(&self) -> String {
        format!("{:?}", self.0.clone())
    }
}

fn main() {
    let mut store = MemStore::default();
    store.put(1, "one".into()).put(2, "two".into());
    assert_eq!(store.get(1).map(String::as_str), Some("one"));
    assert_eq!(store.get(3), None);
    actix_web::rt::System::new().block_on(async {
        assert_eq!(store.fetch(2).await.as_deref(), Some("two"));
    });
    assert_eq!(MemStore::kind(), "mem");
    assert_eq!(store.describe(), "a mem store");
    assert_eq!(store.len(), 2);
    assert_eq!(Wrapper(7).describe(), "7");
    assert_eq!(Wrapper("s").describe(), "\"s\"");

    let text = track_metrics::render();
    for (handler, status, count) in [
        ("get", "200", 1),
        // `None` counts as 404, as actix-web answers it.
        ("get", "404", 1),
        ("put", "200", 2),
        ("len", "200", 1),
        ("MemStore::fetch", "200", 1),
        ("kind", "200", 2),
        // `Store::describe` and `Wrapper::describe` (one call site for every
        // instantiation of a generic function).
        ("describe", "200", 3),
    ] {
        let line = format!(
            r#"http_requests_total{{handler="{handler}",method="",route="",status="{status}"}} {count}"#
        );
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in:\n{text}"
        );
    }
}
