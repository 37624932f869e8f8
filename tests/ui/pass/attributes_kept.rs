//! Outer attributes, doc comments and inner attributes of the function stay in place.
#![deny(warnings, missing_docs)]

use track_metrics::track_metrics;

/// Documented, `#[must_use]`, `#[inline]`: all kept.
#[track_metrics]
#[must_use = "the sum is the point"]
#[inline]
#[doc(alias = "plus")]
fn add(a: u32, b: u32) -> u32 {
    a + b
}

#[track_metrics]
#[deprecated(note = "use `add`")]
fn old_add(a: u32, b: u32) -> u32 {
    a + b
}

// Inner attributes in the body still apply to the whole body.
#[track_metrics]
fn inner_attributes() -> u32 {
    #![allow(unused_variables)]
    //! An inner doc comment.
    let unused = 1;
    2
}

#[track_metrics]
async fn async_inner_attributes() -> u32 {
    #![allow(unused_variables)]
    let unused = 1;
    3
}

#[track_metrics]
#[cfg(any())]
fn compiled_out() -> u32 {
    compile_error!("removed by cfg")
}

#[track_metrics]
#[cfg_attr(all(), allow(clippy::needless_return))]
fn conditional_attribute() -> u32 {
    return 4;
}

#[allow(non_snake_case)]
#[track_metrics]
fn Shouting() -> u32 {
    5
}

/// Public and documented: `missing_docs` is denied, so the doc comment is still here.
#[track_metrics]
pub fn documented() -> u32 {
    6
}

fn main() {
    assert_eq!(add(1, 2), 3);
    assert_eq!(documented(), 6);
    #[allow(deprecated)]
    let old = old_add(1, 1);
    assert_eq!(old, 2);
    assert_eq!(inner_attributes(), 2);
    assert_eq!(
        actix_web::rt::System::new().block_on(async_inner_attributes()),
        3
    );
    assert_eq!(conditional_attribute(), 4);
    assert_eq!(Shouting(), 5);
    let text = track_metrics::render();
    assert!(text.contains(r#"handler="Shouting""#), "{text}");
    assert!(!text.contains("compiled_out"), "{text}");
}
