//! `crate = "..."` points generated code at a renamed or re-exported runtime.

use track_metrics as rt;

mod facade {
    pub mod observability {
        pub use track_metrics as metrics;
    }
}

#[rt::track_metrics(crate = "rt")]
fn through_alias() -> u8 {
    1
}

#[rt::track_metrics(crate = "crate::facade::observability::metrics", name = "facade")]
async fn through_reexport() -> u8 {
    2
}

mod nested {
    use super::rt::track_metrics;

    #[track_metrics(crate = "super::rt")]
    pub fn relative() -> u8 {
        3
    }
}

#[track_metrics::track_metrics(crate = "::track_metrics")]
fn explicit_default() -> u8 {
    4
}

fn main() {
    assert_eq!(through_alias(), 1);
    assert_eq!(actix_web::rt::System::new().block_on(through_reexport()), 2);
    assert_eq!(nested::relative(), 3);
    assert_eq!(explicit_default(), 4);
    let text = rt::render();
    for handler in ["through_alias", "facade", "relative", "explicit_default"] {
        let line = format!(
            r#"http_requests_total{{handler="{handler}",method="",route="",status="200"}} 1"#
        );
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in:\n{text}"
        );
    }
}
