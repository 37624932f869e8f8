//! A body without `return` or `?` is not wrapped in a closure or `async` block; it still
//! gets the declared return type as its expected type, so everything that infers or
//! coerces from the return type of a plain function does so here too.

use std::error::Error;
use std::fmt;

use track_metrics::track_metrics;

#[derive(Debug)]
struct Oops;

impl fmt::Display for Oops {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("oops")
    }
}

impl Error for Oops {}

#[track_metrics]
fn parsed() -> u64 {
    "5".parse().unwrap()
}

#[track_metrics]
fn collected(words: &str) -> Vec<String> {
    words.split(' ').map(Into::into).collect()
}

#[track_metrics]
fn coerced() -> Box<dyn Error + Send + Sync> {
    Box::new(Oops)
}

#[track_metrics]
fn defaulted() -> (u8, String) {
    Default::default()
}

#[track_metrics]
fn borrowed(text: &str) -> &str {
    text.trim()
}

#[track_metrics]
fn converted() -> Result<String, Box<dyn Error>> {
    Err(Oops.into())
}

#[track_metrics]
async fn async_parsed() -> Result<u16, std::num::ParseIntError> {
    "7".parse()
}

#[track_metrics]
async fn async_collected() -> impl Iterator<Item = u8> {
    vec![1, 2].into_iter()
}

#[track_metrics]
async fn async_awaits() -> String {
    let n = async { 7 }.await;
    format!("{n}")
}

fn assert_counted(handler: &str, status: &str) {
    let line = format!(
        r#"http_requests_total{{handler="{handler}",method="",route="",status="{status}"}} 1"#
    );
    let text = track_metrics::render();
    assert!(
        text.lines().any(|l| l == line),
        "missing `{line}` in:\n{text}"
    );
}

fn main() {
    assert_eq!(parsed(), 5);
    assert_eq!(collected("a b"), ["a", "b"]);
    assert_eq!(coerced().to_string(), "oops");
    assert_eq!(defaulted(), (0, String::new()));
    assert_eq!(borrowed(" x "), "x");
    assert!(converted().is_err());
    run_async();
    for handler in ["parsed", "collected", "coerced", "defaulted", "borrowed"] {
        assert_counted(handler, "200");
    }
    assert_counted("converted", "500");
    assert_counted("async_parsed", "200");
    assert_counted("async_collected", "200");
    assert_counted("async_awaits", "200");
}

fn run_async() {
    actix_web::rt::System::new().block_on(async {
        assert_eq!(async_parsed().await, Ok(7));
        assert_eq!(async_collected().await.sum::<u8>(), 3);
        assert_eq!(async_awaits().await, "7");
    });
}
