//! actix-web's own middleware inside `RequestMetrics`: every request counted once, under
//! the route actix matched (scope prefix included, the guarded scope that answered), with
//! the status actix sent.

#[macro_use]
mod support;

use actix_middleware::{ADMIN, API_VERSION, DEFAULT_HEADER};
use actix_web::http::{Method, header};
use actix_web::test::{init_service, read_body};
use support::assert_exactly;

#[actix_web::test]
async fn requests_through_actix_middleware_are_counted_under_their_route() {
    let app = init_service(actix_middleware::app()).await;
    let v1 = [(API_VERSION, "1")];
    let v2 = [(API_VERSION, "2")];

    // Each scope's route, under its own pattern.
    let response = send!(&app, Method::GET, "/api/users/1", &v1, 200);
    assert_eq!(read_body(response).await, "user 1 (v1)");
    send!(&app, Method::GET, "/api/users/404", &v1, 404);
    let response = send!(&app, Method::GET, "/api/users/7", &v2, 200);
    assert_eq!(read_body(response).await, "user 7 (v2)");
    // A trailing slash, trimmed by `NormalizePath`: the same route.
    let response = send!(&app, Method::GET, "/api/users/2/", &v1, 200);
    assert_eq!(read_body(response).await, "user 2 (v1)");
    // The guarded resource, its guard satisfied.
    send!(&app, Method::GET, "/admin/stats", &[(ADMIN, "yes")], 200);
    // A resource without a route for the method: actix answers 405.
    send!(&app, Method::GET, "/items", &[], 200);
    send!(&app, Method::POST, "/items", &[], 405);
    // No route at all: the default service.
    let response = send!(&app, Method::GET, "/nowhere", &[], 404);
    assert_eq!(
        response.headers().get(DEFAULT_HEADER.0).unwrap(),
        DEFAULT_HEADER.1
    );
    assert_eq!(read_body(response).await, "no such page");
    // Compressed by `Compress` when asked for, and not otherwise.
    let gzip = [(header::ACCEPT_ENCODING.as_str(), "gzip")];
    let response = send!(&app, Method::GET, "/report", &gzip, 200);
    assert_eq!(
        response.headers().get(header::CONTENT_ENCODING).unwrap(),
        "gzip"
    );
    assert_eq!(
        response.headers().get(DEFAULT_HEADER.0).unwrap(),
        DEFAULT_HEADER.1
    );
    let body = read_body(response).await;
    assert_eq!(&body[..2], [0x1f, 0x8b], "a gzip stream");
    let plain = actix_middleware::report_text();
    assert!(body.len() < plain.len(), "compressed");
    let response = send!(&app, Method::GET, "/report", &[], 200);
    assert!(!response.headers().contains_key(header::CONTENT_ENCODING));
    assert_eq!(read_body(response).await, plain);

    let expected = [
        (
            r#"handler="v1::get_user",method="GET",route="/api/users/{id}",status="200""#,
            2.0,
        ),
        (
            r#"handler="v1::get_user",method="GET",route="/api/users/{id}",status="404""#,
            1.0,
        ),
        (
            r#"handler="v2::get_user",method="GET",route="/api/users/{user_id}",status="200""#,
            1.0,
        ),
        (
            r#"handler="admin_stats",method="GET",route="/admin/stats",status="200""#,
            1.0,
        ),
        (
            r#"handler="list_items",method="GET",route="/items",status="200""#,
            1.0,
        ),
        (
            r#"handler="",method="POST",route="/items",status="405""#,
            1.0,
        ),
        (
            r#"handler="not_found",method="GET",route="",status="404""#,
            1.0,
        ),
        (
            r#"handler="report",method="GET",route="/report",status="200""#,
            2.0,
        ),
    ];
    assert_exactly(&scrape!(&app), &expected);
    assert_exactly(&track_metrics::render(), &expected);
}
