//! Labels from the request in a user's app: `Config::label` with a tenant header, the
//! app's tower-http layers inside and around `RequestMetricsLayer`, a tenant handed over
//! by the app's own authentication layer with `set_label`. A test binary of its own: the
//! label is the process's configuration.

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use tower::ServiceExt;
use track_metrics::{Config, RequestLabel};

/// The value of the series `name{labels}` (exactly) in a text exposition.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn tenants_from_a_header_and_from_the_users_own_layer() {
    track_metrics::configure(
        Config::new().label(RequestLabel::header("tenant", "x-tenant").allow(["acme", "globex"])),
    )
    .unwrap();
    let app = axum_tower::app();
    let send = |headers: &[(&str, &str)]| {
        let mut request = Request::get("/users/7");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let app = app.clone();
        async move {
            let response = app.oneshot(request.body(Body::empty()).unwrap()).await;
            response.unwrap().status()
        }
    };
    for headers in [
        &[("x-tenant", "acme")][..],
        &[("x-tenant", "acme")],
        &[("x-tenant", "initech")],
        &[],
        &[("authorization", "tenant globex")],
    ] {
        assert_eq!(send(headers).await, StatusCode::OK);
    }
    let text = track_metrics::render();
    let series = |tenant: &str| {
        format!(
            r#"http_requests_total{{handler="get_user",method="GET",route="/users/{{id}}",status="200",tenant="{tenant}"}}"#
        )
    };
    for (tenant, count) in [("acme", 2.0), ("_other", 1.0), ("", 1.0), ("globex", 1.0)] {
        assert_eq!(
            value(&text, &series(tenant)),
            Some(count),
            "{tenant}\n{text}"
        );
    }
}
