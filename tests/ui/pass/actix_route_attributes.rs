//! Above an actix-web route attribute, the attribute reads `method` and `route` from
//! it; the handlers are registered in an `App` and really called.

use actix_web::http::{Method, StatusCode};
use actix_web::test::{TestRequest, call_service, init_service};
use actix_web::{App, HttpResponse, Responder, get, post, route, web};
use track_metrics::track_metrics;

#[track_metrics]
#[get("/users/{id}")]
async fn get_user(id: web::Path<u32>) -> Result<HttpResponse, actix_web::Error> {
    let id = id.into_inner();
    if id > 100 {
        return Err(actix_web::error::ErrorNotFound("no such user"));
    }
    Ok(HttpResponse::Ok().body(format!("user {id}")))
}

#[track_metrics]
#[post("/users")]
async fn create_user(body: String) -> impl Responder {
    HttpResponse::Created().body(body)
}

#[track_metrics]
#[route("/both", method = "GET", method = "HEAD")]
async fn both() -> &'static str {
    "both"
}

#[track_metrics(name = "put_item")]
#[actix_web::put("/items/{id}")]
async fn put(id: web::Path<u32>) -> String {
    format!("item {id}")
}

#[track_metrics]
#[actix_web::delete("/items/{id}")]
pub(crate) async fn delete_item(_id: web::Path<u32>) -> HttpResponse {
    HttpResponse::NoContent().finish()
}

// The arguments win over what the route attribute says.
#[track_metrics(method = "PATCH", route = "/patched")]
#[actix_web::patch("/really/{x}")]
async fn patched() -> HttpResponse {
    HttpResponse::Accepted().finish()
}

// Below the route attribute, the route cannot be seen: counted with empty labels.
#[get("/below")]
#[track_metrics]
async fn below() -> &'static str {
    "below"
}

fn assert_counted(handler: &str, method: &str, route: &str, status: &str, count: u64) {
    let line = format!(
        r#"http_requests_total{{handler="{handler}",method="{method}",route="{route}",status="{status}"}} {count}"#
    );
    let text = track_metrics::render();
    assert!(
        text.lines().any(|l| l == line),
        "missing `{line}` in:\n{text}"
    );
}

#[actix_web::main]
async fn main() {
    let app = init_service(
        App::new()
            .service(get_user)
            .service(create_user)
            .service(both)
            .service(put)
            .service(delete_item)
            .service(patched)
            .service(below)
            .service(track_metrics::actix::metrics),
    )
    .await;
    let calls = [
        (Method::GET, "/users/7", StatusCode::OK),
        (Method::GET, "/users/8", StatusCode::OK),
        (Method::GET, "/users/101", StatusCode::NOT_FOUND),
        (Method::POST, "/users", StatusCode::CREATED),
        (Method::GET, "/both", StatusCode::OK),
        (Method::HEAD, "/both", StatusCode::OK),
        (Method::PUT, "/items/3", StatusCode::OK),
        (Method::DELETE, "/items/3", StatusCode::NO_CONTENT),
        (Method::PATCH, "/really/1", StatusCode::ACCEPTED),
        (Method::GET, "/below", StatusCode::OK),
    ];
    for (method, path, status) in calls {
        let req = TestRequest::default()
            .method(method.clone())
            .uri(path)
            .to_request();
        let res = call_service(&app, req).await;
        assert_eq!(res.status(), status, "{method} {path}");
    }

    assert_counted("get_user", "GET", "/users/{id}", "200", 2);
    assert_counted("get_user", "GET", "/users/{id}", "404", 1);
    assert_counted("create_user", "POST", "/users", "201", 1);
    assert_counted("both", "GET,HEAD", "/both", "200", 2);
    assert_counted("put_item", "PUT", "/items/{id}", "200", 1);
    assert_counted("delete_item", "DELETE", "/items/{id}", "204", 1);
    assert_counted("patched", "PATCH", "/patched", "202", 1);
    assert_counted("below", "", "", "200", 1);

    let req = TestRequest::get().uri("/metrics").to_request();
    let res = call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::OK);
}
