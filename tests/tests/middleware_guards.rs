//! `RequestMetrics` (CONTRACT §8) when guards decide the route: a request counts under
//! the route actix truly routed it to, `""` when every candidate's guard refused it
//! (actix's own `match_pattern()` then names the guarded pattern); `exclude` follows
//! that route only, whatever the worker served before.
//!
//! The tests of this binary run at once in one registry: each uses routes of its own
//! under `/gd/…`, and its requests that match no route (`route=""`) a method (and
//! status) no other test here uses: GET 404 the left-out `/metrics`, PUT the scopes,
//! PATCH the default services, POST the resource guards, DELETE the prefix
//! services, OPTIONS the route cache.

use actix_web::body::BoxBody;
use actix_web::dev::{
    AppService, HttpServiceFactory, ResourceDef, Service, ServiceRequest, ServiceResponse,
    fn_service,
};
use actix_web::guard::{self, Guard};
use actix_web::http::Method;
use actix_web::test::{TestRequest, call_service, init_service, read_body};
use actix_web::{App, HttpResponse, get, web};
use metrics_tests::scrape::Scrape;
use track_metrics::actix::{RequestMetrics, metrics_handler};
use track_metrics::track_metrics;

fn scrape() -> Scrape {
    Scrape::parse(&track_metrics::render())
}

// Sends `req` through `app`; the status actix sends.
async fn send<S>(app: &S, req: TestRequest) -> u16
where
    S: Service<actix_http::Request, Response = ServiceResponse<BoxBody>, Error = actix_web::Error>,
{
    match app.call(req.to_request()).await {
        Ok(res) => res.status().as_u16(),
        Err(err) => err.error_response().status().as_u16(),
    }
}

fn request(method: &str, uri: &str) -> TestRequest {
    TestRequest::default()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(uri)
}

fn with(req: TestRequest, header: &'static str, value: &'static str) -> TestRequest {
    req.insert_header((header, value))
}

// The `http_requests_in_flight` series (as `handler|method|route|`) whose route starts
// with `prefix`.
fn in_flight_under(s: &Scrape, prefix: &str) -> Vec<String> {
    s.label_sets("http_requests_in_flight")
        .into_iter()
        .filter(|set| set.split('|').nth(2).is_some_and(|r| r.starts_with(prefix)))
        .collect()
}

fn version(v: &'static str) -> impl Guard {
    guard::Header("x-api-version", v)
}

// ----------------------------------------------------------------- guards on scopes

#[track_metrics]
async fn v1_items() -> &'static str {
    "v1"
}

#[track_metrics]
async fn v2_items() -> &'static str {
    "v2"
}

// Two `/gd/api` scopes told apart by a header: the one that accepts counts; when
// neither does, no route matched (not the first scope's pattern, as actix's
// `match_pattern()` says).
#[actix_web::test]
async fn scopes_told_apart_by_a_header_count_under_the_one_that_accepted() {
    let app = init_service(
        App::new()
            .wrap(RequestMetrics::default())
            .service(
                web::scope("/gd/api")
                    .guard(version("1"))
                    .route("/items", web::to(v1_items)),
            )
            .service(
                web::scope("/gd/api")
                    .guard(version("2"))
                    .route("/items", web::to(v2_items)),
            ),
    )
    .await;
    let items = || request("PUT", "/gd/api/items");
    assert_eq!(send(&app, with(items(), "x-api-version", "1")).await, 200);
    assert_eq!(send(&app, with(items(), "x-api-version", "2")).await, 200);
    assert_eq!(send(&app, with(items(), "x-api-version", "2")).await, 200);
    // Neither accepts; the first accepts but has nothing at that path.
    assert_eq!(send(&app, items()).await, 404);
    assert_eq!(send(&app, with(items(), "x-api-version", "3")).await, 404);
    let nope = request("PUT", "/gd/api/nope");
    assert_eq!(send(&app, with(nope, "x-api-version", "1")).await, 404);

    let s = scrape();
    let route = "/gd/api/items";
    assert_eq!(s.requests("v1_items", "PUT", route, "200"), 1.0);
    assert_eq!(s.requests("v2_items", "PUT", route, "200"), 2.0);
    assert_eq!(s.requests("", "PUT", route, "404"), 0.0, "{}", s.text);
    assert_eq!(s.requests("", "PUT", "", "404"), 3.0);
    assert_eq!(s.total_under("/gd/api"), 3.0);
    assert_eq!(
        in_flight_under(&s, "/gd/api"),
        ["v1_items|PUT|/gd/api/items|", "v2_items|PUT|/gd/api/items|"],
        "one in-flight series per handler"
    );
    s.assert_counted_once("/gd/api");
    assert_eq!(s.in_flight("", "PUT", ""), 0.0);
}

#[track_metrics]
async fn dft_items() -> &'static str {
    "items"
}

// The same with default services (they answer 404, as actix's own does): the app's,
// and one of a scope's own.
#[actix_web::test]
async fn what_default_services_answer_counts_under_no_route() {
    let not_found =
        |body: &'static str| web::to(move || async move { HttpResponse::NotFound().body(body) });
    let app = init_service(
        App::new()
            .wrap(RequestMetrics::default())
            .service(
                web::scope("/gd/dft")
                    .guard(version("1"))
                    .route("/items", web::to(dft_items))
                    .default_service(not_found("scope")),
            )
            .service(
                web::scope("/gd/dft")
                    .guard(version("2"))
                    .route("/items", web::to(dft_items)),
            )
            .default_service(not_found("app")),
    )
    .await;
    let at = |path| request("PATCH", path);
    let answered = async |req: TestRequest| {
        let res = call_service(&app, req.to_request()).await;
        (res.status().as_u16(), read_body(res).await)
    };
    assert_eq!(answered(at("/gd/dft/items")).await, (404, "app".into()));
    let v1 = with(at("/gd/dft/nope"), "x-api-version", "1");
    assert_eq!(answered(v1).await, (404, "scope".into()));
    let v2 = with(at("/gd/dft/nope"), "x-api-version", "2");
    assert_eq!(answered(v2).await, (404, "app".into()));
    for v in ["1", "2"] {
        let items = with(at("/gd/dft/items"), "x-api-version", v);
        assert_eq!(answered(items).await.0, 200);
    }

    let s = scrape();
    assert_eq!(
        s.requests("dft_items", "PATCH", "/gd/dft/items", "200"),
        2.0
    );
    assert_eq!(s.requests("", "PATCH", "", "404"), 3.0);
    assert_eq!(s.total_under("/gd/dft"), 2.0, "{}", s.text);
    assert_eq!(
        in_flight_under(&s, "/gd/dft"),
        ["dft_items|PATCH|/gd/dft/items|"]
    );
    s.assert_counted_once("/gd/dft");
}

// ----------------------------------------------------------------- guards on resources and methods

#[track_metrics]
async fn keyed() -> &'static str {
    "keyed"
}

#[track_metrics]
#[get("/gd/r/got")]
async fn got() -> &'static str {
    "got"
}

#[track_metrics]
#[get("/x")]
async fn scoped_got() -> &'static str {
    "scoped"
}

#[track_metrics]
async fn only_get() -> &'static str {
    "get"
}

// A resource's guard refusing is no route (404); a resource whose routes all refuse the
// method answers 405 itself, under its route.
#[actix_web::test]
async fn a_resource_guard_refusing_is_no_route_a_405_keeps_its_route() {
    let app = init_service(
        App::new()
            .wrap(RequestMetrics::default())
            .service(
                web::resource("/gd/r/keyed")
                    .guard(guard::Header("x-key", "k"))
                    .route(web::to(keyed)),
            )
            .service(got)
            .service(web::scope("/gd/r/sc").service(scoped_got))
            .service(web::resource("/gd/r/method").route(web::get().to(only_get))),
    )
    .await;
    let post = |path| request("POST", path);
    assert_eq!(
        send(&app, with(post("/gd/r/keyed"), "x-key", "k")).await,
        200
    );
    assert_eq!(send(&app, post("/gd/r/keyed")).await, 404);
    assert_eq!(send(&app, TestRequest::get().uri("/gd/r/got")).await, 200);
    assert_eq!(send(&app, post("/gd/r/got")).await, 404);
    assert_eq!(send(&app, TestRequest::get().uri("/gd/r/sc/x")).await, 200);
    assert_eq!(send(&app, post("/gd/r/sc/x")).await, 404);
    assert_eq!(
        send(&app, TestRequest::get().uri("/gd/r/method")).await,
        200
    );
    assert_eq!(send(&app, post("/gd/r/method")).await, 405);

    let s = scrape();
    assert_eq!(s.requests("keyed", "POST", "/gd/r/keyed", "200"), 1.0);
    assert_eq!(s.requests("got", "GET", "/gd/r/got", "200"), 1.0);
    assert_eq!(s.requests("scoped_got", "GET", "/gd/r/sc/x", "200"), 1.0);
    assert_eq!(s.requests("only_get", "GET", "/gd/r/method", "200"), 1.0);
    assert_eq!(s.requests("", "POST", "/gd/r/method", "405"), 1.0);
    assert_eq!(s.requests("", "POST", "", "404"), 3.0, "{}", s.text);
    assert_eq!(s.total_under("/gd/r/"), 5.0);
    let mut expected = vec![
        "|POST|/gd/r/method|",
        "got|GET|/gd/r/got|",
        "keyed|POST|/gd/r/keyed|",
        "only_get|GET|/gd/r/method|",
        "scoped_got|GET|/gd/r/sc/x|",
    ];
    expected.sort_unstable();
    assert_eq!(in_flight_under(&s, "/gd/r/"), expected);
    for prefix in ["/gd/r/keyed", "/gd/r/got", "/gd/r/sc/", "/gd/r/method"] {
        s.assert_counted_once(prefix);
    }
}

// ----------------------------------------------------------------- prefix services

// A service mounted at a prefix, as actix-files' `Files` is: it matches with the rest of
// the path left over.
struct Prefixed {
    path: &'static str,
    key: Option<&'static str>,
}

impl HttpServiceFactory for Prefixed {
    fn register(self, config: &mut AppService) {
        let rdef = if config.is_root() {
            ResourceDef::root_prefix(self.path)
        } else {
            ResourceDef::prefix(self.path)
        };
        let guards = self
            .key
            .map(|key| vec![Box::new(guard::Header("x-key", key)) as Box<dyn Guard>]);
        let answer = fn_service(|req: ServiceRequest| async {
            Ok(req.into_response(HttpResponse::Ok().finish()))
        });
        config.register_service(rdef, guards, answer, None);
    }
}

#[actix_web::test]
async fn prefix_services_count_under_their_prefix() {
    let prefixed = |path, key| Prefixed { path, key };
    let app = init_service(
        App::new()
            .wrap(RequestMetrics::default())
            .service(prefixed("/gd/static", None))
            .service(web::scope("/gd/assets").service(prefixed("/files", None)))
            .service(prefixed("/gd/prefixed", Some("k"))),
    )
    .await;
    let delete = |path| request("DELETE", path);
    for path in ["/gd/static/a/b.css", "/gd/static", "/gd/static/"] {
        assert_eq!(send(&app, delete(path)).await, 200, "{path}");
    }
    assert_eq!(send(&app, delete("/gd/assets/files/x.js")).await, 200);
    assert_eq!(send(&app, delete("/gd/assets/other")).await, 404);
    let keyed = with(delete("/gd/prefixed/a"), "x-key", "k");
    assert_eq!(send(&app, keyed).await, 200);
    assert_eq!(send(&app, delete("/gd/prefixed/a")).await, 404);

    let s = scrape();
    assert_eq!(s.requests("", "DELETE", "/gd/static", "200"), 3.0);
    assert_eq!(s.requests("", "DELETE", "/gd/assets/files", "200"), 1.0);
    assert_eq!(s.requests("", "DELETE", "/gd/prefixed", "200"), 1.0);
    assert_eq!(s.requests("", "DELETE", "", "404"), 2.0, "{}", s.text);
    for prefix in ["/gd/static", "/gd/assets", "/gd/prefixed"] {
        s.assert_counted_once(prefix);
    }
}

// ----------------------------------------------------------------- exclude follows the route

// `/metrics` left out, but served at `/gd/internal/metrics`: a request to `/metrics`
// matches no route, so it counts (under `route=""`), also on a worker that has served
// requests (its path alone left it out).
#[actix_web::test]
async fn exclude_leaves_out_a_route_not_a_path() {
    let app = init_service(
        App::new()
            .wrap(RequestMetrics::default().exclude("/metrics"))
            .route("/gd/internal/metrics", web::get().to(metrics_handler))
            .default_service(web::to(HttpResponse::NotFound)),
    )
    .await;
    let internal = TestRequest::get().uri("/gd/internal/metrics");
    assert_eq!(send(&app, internal).await, 200);
    for _ in 0..3 {
        assert_eq!(send(&app, TestRequest::get().uri("/metrics")).await, 404);
    }
    let s = scrape();
    assert_eq!(s.requests("", "GET", "", "404"), 3.0, "{}", s.text);
    assert_eq!(s.in_flight("", "GET", ""), 0.0);
    assert_eq!(s.requests("", "GET", "/gd/internal/metrics", "200"), 1.0);
}

#[track_metrics]
async fn scrape_like() -> HttpResponse {
    HttpResponse::Ok().finish()
}

// One method and path, routed by a header to a route left out or to no route at all:
// the route each request took decides, not the one its path took before on the worker.
#[actix_web::test]
async fn exclude_does_not_depend_on_what_the_worker_served_before() {
    let app = || {
        init_service(
            App::new()
                .wrap(RequestMetrics::default().exclude("/gd/scrape"))
                .service(
                    web::resource("/gd/scrape")
                        .guard(guard::Header("x-scrape", "1"))
                        .route(web::to(scrape_like)),
                ),
        )
    };
    let excluded = || with(request("OPTIONS", "/gd/scrape"), "x-scrape", "1");
    let miss = || request("OPTIONS", "/gd/scrape");
    // Left out first, then missed; and the reverse, each on a worker of its own.
    let first = app().await;
    for _ in 0..2 {
        assert_eq!(send(&first, excluded()).await, 200);
        assert_eq!(send(&first, miss()).await, 404);
    }
    let s = scrape();
    assert_eq!(s.requests("", "OPTIONS", "", "404"), 2.0, "{}", s.text);
    let second = app().await;
    for _ in 0..2 {
        assert_eq!(send(&second, miss()).await, 404);
        assert_eq!(send(&second, excluded()).await, 200);
    }
    let s = scrape();
    assert_eq!(s.requests("", "OPTIONS", "", "404"), 4.0, "{}", s.text);
    assert_eq!(s.observed("", "OPTIONS", ""), 4.0);
    // Those left out: nothing, not even in flight, in either order.
    assert_eq!(s.in_flight("", "OPTIONS", ""), 0.0);
    assert!(!s.text.contains("/gd/scrape"), "{}", s.text);
    assert!(!s.text.contains(r#"handler="scrape_like""#), "{}", s.text);
}

// ----------------------------------------------------------------- a default service's 405

#[track_metrics]
#[get("/gd/m/got")]
async fn method_got() -> &'static str {
    "got"
}

// actix-web's guide mounts a default service answering 405 for the methods no route
// takes: a POST to a `#[get]` route (its `Get` guard refused it) matched no route.
#[actix_web::test]
async fn a_default_service_s_405_counts_under_no_route() {
    let app = init_service(
        App::new()
            .wrap(RequestMetrics::default())
            .service(method_got)
            .default_service(
                web::route()
                    .guard(guard::Not(guard::Get()))
                    .to(HttpResponse::MethodNotAllowed),
            ),
    )
    .await;
    assert_eq!(send(&app, request("GET", "/gd/m/got")).await, 200);
    assert_eq!(send(&app, request("POST", "/gd/m/got")).await, 405);

    let s = scrape();
    assert_eq!(s.requests("method_got", "GET", "/gd/m/got", "200"), 1.0);
    assert_eq!(s.requests("", "POST", "", "405"), 1.0, "{}", s.text);
    assert_eq!(s.total_under("/gd/m"), 1.0, "{}", s.text);
    s.assert_counted_once("/gd/m");
}
