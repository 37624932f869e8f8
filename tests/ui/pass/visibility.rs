//! `pub`, `pub(crate)`, `pub(super)` and `pub(in path)` are kept.

mod outer {
    pub mod api {
        use track_metrics::track_metrics;

        #[track_metrics]
        pub fn public() -> &'static str {
            "public"
        }

        #[track_metrics]
        pub(crate) async fn crate_visible() -> u8 {
            1
        }

        #[track_metrics]
        pub(super) fn super_visible() -> u8 {
            2
        }

        #[track_metrics]
        pub(in crate::outer) fn path_visible() -> u8 {
            3
        }
    }

    pub fn call_restricted() -> u8 {
        api::super_visible() + api::path_visible()
    }
}

fn main() {
    assert_eq!(outer::api::public(), "public");
    assert_eq!(outer::call_restricted(), 5);
    let one = actix_web::rt::System::new().block_on(outer::api::crate_visible());
    assert_eq!(one, 1);
    let text = track_metrics::render();
    for handler in ["public", "crate_visible", "super_visible", "path_visible"] {
        let line = format!(
            r#"http_requests_total{{handler="{handler}",method="",route="",status="200"}} 1"#
        );
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in:\n{text}"
        );
    }
}
