//! Generic functions, `where` clauses, const generics, `impl Trait` arguments and
//! explicit or elided lifetimes, sync and `async`.

use std::fmt::Display;

use track_metrics::track_metrics;

#[track_metrics]
fn show<T: Display>(value: T) -> String {
    value.to_string()
}

#[track_metrics]
fn largest<T>(items: &[T]) -> Option<&T>
where
    T: PartialOrd,
{
    let mut best = items.first()?;
    for item in items {
        if item > best {
            best = item;
        }
    }
    Some(best)
}

#[track_metrics]
fn longest<'a, 'b: 'a>(a: &'a str, b: &'b str) -> &'a str {
    if a.len() >= b.len() { a } else { b }
}

#[track_metrics]
fn first_word(text: &str) -> &str {
    text.split(' ').next().unwrap_or_default()
}

#[track_metrics]
fn sum<const N: usize>(values: [u32; N]) -> u32 {
    values.iter().sum()
}

#[track_metrics]
fn total(values: impl IntoIterator<Item = u32>) -> u32 {
    values.into_iter().sum()
}

#[track_metrics]
fn evens<'a>(values: &'a [u32]) -> impl Iterator<Item = &'a u32> + 'a {
    values.iter().filter(|v| *v % 2 == 0)
}

#[track_metrics]
async fn async_show<T: Display + Send>(value: T) -> String {
    format!("<{value}>")
}

#[track_metrics]
async fn async_longest<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.len() >= b.len() { a } else { b }
}

#[track_metrics]
async fn async_first(values: &[u32]) -> Option<&u32> {
    values.first()
}

fn main() {
    assert_eq!(show(5), "5");
    assert_eq!(show("x"), "x");
    assert_eq!(largest(&[3, 9, 2]), Some(&9));
    assert_eq!(largest::<u8>(&[]), None);
    assert_eq!(longest("abc", "de"), "abc");
    assert_eq!(first_word("hello world"), "hello");
    assert_eq!(sum([1, 2, 3]), 6);
    assert_eq!(total(vec![4, 5]), 9);
    assert_eq!(evens(&[1, 2, 3, 4]).copied().collect::<Vec<_>>(), [2, 4]);
    actix_web::rt::System::new().block_on(async {
        assert_eq!(async_show(1.5).await, "<1.5>");
        assert_eq!(async_longest("a", "bc").await, "bc");
        assert_eq!(async_first(&[7]).await, Some(&7));
    });

    let text = track_metrics::render();
    for (handler, status, count) in [
        ("show", "200", 2),
        ("largest", "200", 1),
        ("largest", "404", 1),
        ("longest", "200", 1),
        ("first_word", "200", 1),
        ("sum", "200", 1),
        ("total", "200", 1),
        ("evens", "200", 1),
        ("async_show", "200", 1),
        ("async_longest", "200", 1),
        ("async_first", "200", 1),
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
