//! Requests no guard accepted: answered by the default service, so counted with no
//! route (`route=""`), as every request no route matched, not under the pattern of a
//! guarded scope or resource whose path they happen to match.

#[macro_use]
mod support;

use actix_middleware::{ADMIN, API_VERSION};
use actix_web::http::Method;
use actix_web::test::init_service;
use support::assert_exactly;

#[actix_web::test]
async fn a_request_no_guard_accepts_counts_with_no_route() {
    let app = init_service(actix_middleware::app()).await;
    // Accepted, for comparison.
    send!(
        &app,
        Method::GET,
        "/api/users/1",
        &[(API_VERSION, "1")],
        200
    );
    send!(&app, Method::GET, "/admin/stats", &[(ADMIN, "yes")], 200);
    // Neither `/api` scope accepts these: the default service answers.
    send!(
        &app,
        Method::GET,
        "/api/users/1",
        &[(API_VERSION, "3")],
        404
    );
    send!(&app, Method::GET, "/api/users/1", &[], 404);
    // Nor does the guarded resource.
    send!(&app, Method::GET, "/admin/stats", &[(ADMIN, "no")], 404);
    send!(&app, Method::GET, "/admin/stats", &[], 404);
    // The v1 scope accepts it, but not `#[get]`'s method guard: actix answers with the
    // default service, 404 (not 405).
    send!(
        &app,
        Method::POST,
        "/api/users/1",
        &[(API_VERSION, "1")],
        404
    );

    let expected = [
        (
            r#"handler="v1::get_user",method="GET",route="/api/users/{id}",status="200""#,
            1.0,
        ),
        (
            r#"handler="admin_stats",method="GET",route="/admin/stats",status="200""#,
            1.0,
        ),
        (
            r#"handler="not_found",method="GET",route="",status="404""#,
            4.0,
        ),
        (
            r#"handler="not_found",method="POST",route="",status="404""#,
            1.0,
        ),
    ];
    assert_exactly(&scrape!(&app), &expected);
    assert_exactly(&track_metrics::render(), &expected);
}
