//! `track_metrics::actix::RequestMetrics` (CONTRACT §8), through actix-web's real
//! service stack: every request counted once, with the route actix matched, the status
//! it sent and the tracked handler that answered; helpers on their own.
//!
//! Each test uses routes of its own under `/mw/…`, so that the tests of this binary can
//! run at once and still read exact counts from one registry. Requests that match no
//! route (`route=""`) are in `middleware_bounds.rs`.

use std::rc::Rc;
use std::time::Duration;

use actix_web::body::BoxBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::test::{TestRequest, call_service, init_service};
use actix_web::{App, Either, HttpResponse, Responder, get, web};
use metrics_tests::scrape::Scrape;
use serde::Deserialize;
use tokio::sync::oneshot;
use track_metrics::actix::RequestMetrics;
use track_metrics::track_metrics;

fn scrape() -> Scrape {
    Scrape::parse(&track_metrics::render())
}

// Sends `req` through `app` and returns the status actix sends: the response's, or the
// error response of an error a middleware returned.
async fn send<S>(app: &S, req: TestRequest) -> u16
where
    S: Service<actix_http::Request, Response = ServiceResponse<BoxBody>, Error = actix_web::Error>,
{
    match app.call(req.to_request()).await {
        Ok(res) => res.status().as_u16(),
        Err(err) => err.error_response().status().as_u16(),
    }
}

// ----------------------------------------------------------------- scopes and registration

#[track_metrics]
#[get("/users/{id}")]
async fn scoped_user(id: web::Path<u32>) -> HttpResponse {
    HttpResponse::Ok().body(format!("user {id}"))
}

#[track_metrics]
async fn routed_item(id: web::Path<u32>) -> String {
    format!("item {id}")
}

#[track_metrics]
async fn resource_create() -> HttpResponse {
    HttpResponse::Created().finish()
}

#[track_metrics]
async fn tenant_item(path: web::Path<(String, u32)>) -> String {
    let (tenant, id) = path.into_inner();
    format!("{tenant} {id}")
}

async fn untracked_plain() -> &'static str {
    "plain"
}

#[track_metrics]
async fn any_method() -> &'static str {
    "any"
}

#[actix_web::test]
async fn the_full_route_pattern_and_the_handler_that_answered() {
    let app = init_service(
        App::new()
            .wrap(RequestMetrics::default())
            .service(web::scope("/mw/v1").service(scoped_user))
            .service(web::scope("/mw/v2").service(scoped_user))
            .route("/mw/items/{id}", web::get().to(routed_item))
            .service(web::resource("/mw/things").route(web::post().to(resource_create)))
            .route("/mw/plain", web::get().to(untracked_plain))
            .service(web::resource("/mw/any").route(web::route().to(any_method)))
            .service(
                web::scope("/mw/outer/{tenant}")
                    .service(web::scope("/inner").route("/x/{id}", web::get().to(tenant_item))),
            ),
    )
    .await;
    for id in 1..=3 {
        assert_eq!(
            send(&app, TestRequest::get().uri(&format!("/mw/v1/users/{id}"))).await,
            200
        );
    }
    assert_eq!(
        send(&app, TestRequest::get().uri("/mw/v2/users/7")).await,
        200
    );
    assert_eq!(send(&app, TestRequest::get().uri("/mw/items/5")).await, 200);
    assert_eq!(send(&app, TestRequest::post().uri("/mw/things")).await, 201);
    assert_eq!(
        send(&app, TestRequest::get().uri("/mw/outer/acme/inner/x/3")).await,
        200
    );
    assert_eq!(
        send(&app, TestRequest::get().uri("/mw/outer/b/inner/x/4")).await,
        200
    );
    assert_eq!(send(&app, TestRequest::get().uri("/mw/plain")).await, 200);
    for method in ["HEAD", "DELETE", "BREW", "M-SEARCH"] {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        assert_eq!(
            send(&app, TestRequest::default().method(method).uri("/mw/any")).await,
            200
        );
    }

    let s = scrape();
    assert_eq!(
        s.requests("scoped_user", "GET", "/mw/v1/users/{id}", "200"),
        3.0
    );
    assert_eq!(
        s.requests("scoped_user", "GET", "/mw/v2/users/{id}", "200"),
        1.0
    );
    assert_eq!(
        s.requests("routed_item", "GET", "/mw/items/{id}", "200"),
        1.0
    );
    assert_eq!(s.requests("any_method", "HEAD", "/mw/any", "200"), 1.0);
    assert_eq!(s.requests("any_method", "DELETE", "/mw/any", "200"), 1.0);
    assert_eq!(
        s.requests("any_method", "_OTHER", "/mw/any", "200"),
        2.0,
        "no raw method"
    );
    assert_eq!(
        s.requests("resource_create", "POST", "/mw/things", "201"),
        1.0
    );
    assert_eq!(s.requests("", "GET", "/mw/plain", "200"), 1.0);
    // Nested scopes, with a dynamic segment in a scope's own prefix.
    let nested = "/mw/outer/{tenant}/inner/x/{id}";
    assert_eq!(s.requests("tenant_item", "GET", nested, "200"), 2.0);
    // The tracked handlers recorded no series of their own (their attribute's labels).
    assert_eq!(s.requests("scoped_user", "GET", "/users/{id}", "200"), 0.0);
    assert!(
        !s.text.contains(r#"route="/users/{id}""#),
        "a series of the handler's own:\n{}",
        s.text
    );
    assert!(
        !s.text
            .contains(r#"handler="routed_item",method="",route="""#)
    );
    assert_eq!(s.observed("scoped_user", "GET", "/mw/v1/users/{id}"), 3.0);
    s.assert_counted_once("/mw/v1/");
    s.assert_counted_once("/mw/v2/");
    s.assert_counted_once("/mw/items/");
    s.assert_counted_once("/mw/things");
    s.assert_counted_once("/mw/plain");
    s.assert_counted_once("/mw/any");
    s.assert_counted_once("/mw/outer/");
}

// ----------------------------------------------------------------- statuses actix sends

#[derive(Deserialize)]
struct NewThing {
    #[allow(dead_code)]
    name: String,
}

#[track_metrics]
async fn json_body(_body: web::Json<NewThing>) -> HttpResponse {
    HttpResponse::Created().finish()
}

#[track_metrics]
async fn path_number(id: web::Path<u32>) -> String {
    id.to_string()
}

#[track_metrics]
async fn either(n: web::Path<u32>) -> Either<HttpResponse, &'static str> {
    if *n == 0 {
        Either::Left(HttpResponse::Accepted().finish())
    } else {
        Either::Right("right")
    }
}

#[track_metrics]
async fn redirect() -> impl Responder {
    web::Redirect::to("/elsewhere")
}

#[track_metrics]
async fn customized() -> impl Responder {
    "made".customize().with_status(StatusCode::CREATED)
}

#[track_metrics]
async fn fails() -> Result<String, actix_web::Error> {
    Err(actix_web::error::ErrorConflict("taken"))
}

#[actix_web::test]
async fn the_status_actix_sent_rejections_and_hidden_statuses_included() {
    let app = init_service(
        App::new()
            .wrap(RequestMetrics::default())
            .service(web::resource("/mw/json").route(web::post().to(json_body)))
            .service(web::resource("/mw/number/{id}").route(web::get().to(path_number)))
            .route("/mw/either/{n}", web::get().to(either))
            .route("/mw/redirect", web::get().to(redirect))
            .route("/mw/customized", web::get().to(customized))
            .route("/mw/fails", web::get().to(fails)),
    )
    .await;
    let json = |body: &'static str| {
        TestRequest::post()
            .uri("/mw/json")
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload(body)
    };
    let cases: Vec<(TestRequest, u16)> = vec![
        (json(r#"{"name":"a"}"#), 201),
        (json(r#"{"name":"#), 400),
        (json(r#"{"nom":"a"}"#), 400),
        (
            TestRequest::post()
                .uri("/mw/json")
                .set_payload(r#"{"name":"a"}"#),
            400,
        ),
        (TestRequest::get().uri("/mw/json"), 405),
        (TestRequest::get().uri("/mw/number/12"), 200),
        (TestRequest::get().uri("/mw/number/abc"), 404),
        (TestRequest::get().uri("/mw/either/0"), 202),
        (TestRequest::get().uri("/mw/either/1"), 200),
        (TestRequest::get().uri("/mw/redirect"), 307),
        (TestRequest::get().uri("/mw/customized"), 201),
        (TestRequest::get().uri("/mw/fails"), 409),
    ];
    for (req, expected) in cases {
        assert_eq!(send(&app, req).await, expected);
    }
    let brew = Method::from_bytes(b"BREW").unwrap();
    assert_eq!(
        send(
            &app,
            TestRequest::default().method(brew).uri("/mw/number/1")
        )
        .await,
        405
    );

    let s = scrape();
    assert_eq!(s.requests("json_body", "POST", "/mw/json", "201"), 1.0);
    // Rejected by the extractor: the handler never ran, the request still counts.
    assert_eq!(s.requests("", "POST", "/mw/json", "400"), 3.0);
    assert_eq!(s.requests("", "GET", "/mw/json", "405"), 1.0);
    assert_eq!(
        s.requests("path_number", "GET", "/mw/number/{id}", "200"),
        1.0
    );
    assert_eq!(s.requests("", "GET", "/mw/number/{id}", "404"), 1.0);
    assert_eq!(s.requests("", "_OTHER", "/mw/number/{id}", "405"), 1.0);
    assert_eq!(s.requests("either", "GET", "/mw/either/{n}", "202"), 1.0);
    assert_eq!(s.requests("either", "GET", "/mw/either/{n}", "200"), 1.0);
    assert_eq!(s.requests("redirect", "GET", "/mw/redirect", "307"), 1.0);
    assert_eq!(
        s.requests("customized", "GET", "/mw/customized", "201"),
        1.0
    );
    assert_eq!(s.requests("fails", "GET", "/mw/fails", "409"), 1.0);
    for prefix in [
        "/mw/json",
        "/mw/number/",
        "/mw/either/",
        "/mw/redirect",
        "/mw/customized",
        "/mw/fails",
    ] {
        s.assert_counted_once(prefix);
    }
}

// An auth middleware inside ours that answers early, with an error or a response.
#[track_metrics]
async fn secret() -> &'static str {
    "secret"
}

#[actix_web::test]
async fn what_an_inner_middleware_answers_is_counted() {
    use actix_web::middleware::from_fn;
    let app = init_service(
        App::new().wrap(RequestMetrics::default()).service(
            web::scope("/mw/auth")
                .wrap(from_fn(
                    |req: actix_web::dev::ServiceRequest,
                     next: actix_web::middleware::Next<BoxBody>| async move {
                        match req.headers().get("x-key").map(|v| v.as_bytes()) {
                            Some(b"ok") => next.call(req).await,
                            Some(_) => Ok(req.into_response(HttpResponse::Forbidden().finish())),
                            None => Err(actix_web::error::ErrorUnauthorized("no key")),
                        }
                    },
                ))
                .route("/secret", web::get().to(secret)),
        ),
    )
    .await;
    let with_key = |key: &'static str| {
        TestRequest::get()
            .uri("/mw/auth/secret")
            .insert_header(("x-key", key))
    };
    assert_eq!(
        send(&app, TestRequest::get().uri("/mw/auth/secret")).await,
        401
    );
    assert_eq!(
        send(&app, TestRequest::get().uri("/mw/auth/secret")).await,
        401
    );
    assert_eq!(send(&app, with_key("bad")).await, 403);
    assert_eq!(send(&app, with_key("ok")).await, 200);

    let s = scrape();
    assert_eq!(s.requests("", "GET", "/mw/auth/secret", "401"), 2.0);
    assert_eq!(s.requests("", "GET", "/mw/auth/secret", "403"), 1.0);
    assert_eq!(s.requests("secret", "GET", "/mw/auth/secret", "200"), 1.0);
    s.assert_counted_once("/mw/auth/");
}

// ----------------------------------------------------------------- helpers on their own

#[derive(Debug)]
struct DbError;

struct User {
    name: String,
}

#[track_metrics(name = "db::load_user")]
async fn load_user(id: u32) -> Result<User, DbError> {
    if id == 0 {
        return Err(DbError);
    }
    Ok(User {
        name: format!("user{id}"),
    })
}

#[track_metrics(name = "render")]
fn render(user: &User) -> HttpResponse {
    HttpResponse::Ok().body(user.name.clone())
}

#[track_metrics]
async fn tracked_with_helper(id: web::Path<u32>) -> HttpResponse {
    match load_user(*id).await {
        Ok(user) => HttpResponse::Ok().body(user.name),
        Err(_) => HttpResponse::NotFound().finish(),
    }
}

// Untracked: the helper starts first but is no response, so it names nothing; the
// response-returning `render` is inside nothing tracked, so it names the request.
async fn untracked_with_helpers(id: web::Path<u32>) -> HttpResponse {
    match load_user(*id).await {
        Ok(user) => render(&user),
        Err(_) => HttpResponse::NotFound().finish(),
    }
}

async fn untracked_with_helper_only(id: web::Path<u32>) -> HttpResponse {
    let _ = load_user(*id).await;
    HttpResponse::NoContent().finish()
}

#[actix_web::test]
async fn tracked_helpers_count_on_their_own_exactly_once() {
    let app = init_service(
        App::new()
            .wrap(RequestMetrics::default())
            .route(
                "/mw/helper/tracked/{id}",
                web::get().to(tracked_with_helper),
            )
            .route(
                "/mw/helper/untracked/{id}",
                web::get().to(untracked_with_helpers),
            )
            .route(
                "/mw/helper/only/{id}",
                web::get().to(untracked_with_helper_only),
            ),
    )
    .await;
    assert_eq!(
        send(&app, TestRequest::get().uri("/mw/helper/tracked/1")).await,
        200
    );
    assert_eq!(
        send(&app, TestRequest::get().uri("/mw/helper/tracked/0")).await,
        404
    );
    assert_eq!(
        send(&app, TestRequest::get().uri("/mw/helper/untracked/2")).await,
        200
    );
    assert_eq!(
        send(&app, TestRequest::get().uri("/mw/helper/only/3")).await,
        204
    );

    let s = scrape();
    let r = "/mw/helper/tracked/{id}";
    assert_eq!(s.requests("tracked_with_helper", "GET", r, "200"), 1.0);
    assert_eq!(s.requests("tracked_with_helper", "GET", r, "404"), 1.0);
    assert_eq!(
        s.requests("render", "GET", "/mw/helper/untracked/{id}", "200"),
        1.0
    );
    assert_eq!(s.requests("", "GET", "/mw/helper/only/{id}", "204"), 1.0);
    // The helper: its own series, as without the middleware, once per call.
    assert_eq!(s.requests("db::load_user", "", "", "200"), 3.0);
    assert_eq!(s.requests("db::load_user", "", "", "500"), 1.0);
    assert_eq!(s.observed("db::load_user", "", ""), 4.0);
    assert_eq!(
        s.requests("render", "", "", "200"),
        0.0,
        "render named a request"
    );
    s.assert_counted_once("/mw/helper/");
}

// ----------------------------------------------------------------- in flight, panics, drops

// A handler that tells the test it runs, then waits until the test releases it.
#[derive(Default)]
struct Waiter(std::sync::Mutex<Option<(oneshot::Sender<()>, oneshot::Receiver<()>)>>);

async fn wait_for_release(state: web::Data<Waiter>) -> HttpResponse {
    let (started, release) = state.0.lock().unwrap().take().expect("one call");
    let _ = started.send(());
    let _ = release.await;
    HttpResponse::Ok().finish()
}

#[track_metrics]
async fn waits(state: web::Data<Waiter>) -> HttpResponse {
    wait_for_release(state).await
}

#[track_metrics]
async fn waits_too(state: web::Data<Waiter>) -> HttpResponse {
    wait_for_release(state).await
}

async fn warm() -> &'static str {
    "warm"
}

// Serves `GET {waiting}` (routed to `handler` at `route`) with `/mw/warm-up` answered
// first when `warm_up`, and checks the request is in flight under the handler's labels
// while it waits, and counted once it is released.
async fn in_flight_while_waiting(
    waiting: &'static str,
    route: &'static str,
    handler: &'static str,
    warm_up: bool,
) {
    let (started_tx, started_rx) = oneshot::channel();
    let (release_tx, release_rx) = oneshot::channel();
    let waiter = web::Data::new(Waiter(std::sync::Mutex::new(Some((
        started_tx, release_rx,
    )))));
    let app = Rc::new(
        init_service(
            App::new()
                .wrap(RequestMetrics::default())
                .app_data(waiter)
                .route("/mw/warm-up", web::get().to(warm))
                .route("/mw/waits", web::get().to(waits))
                .route("/mw/late/{id}", web::get().to(waits_too)),
        )
        .await,
    );
    if warm_up {
        // The worker has answered a request before: a new path is not matched up front.
        assert_eq!(
            send(&*app, TestRequest::get().uri("/mw/warm-up")).await,
            200
        );
    }
    let call = {
        let app = Rc::clone(&app);
        actix_web::rt::spawn(async move {
            call_service(&*app, TestRequest::get().uri(waiting).to_request())
                .await
                .status()
        })
    };
    started_rx.await.unwrap();
    let s = scrape();
    assert_eq!(s.in_flight(handler, "GET", route), 1.0);
    assert_eq!(
        s.in_flight("", "GET", route),
        0.0,
        "in the handler's series"
    );
    assert_eq!(s.in_flight(handler, "GET", ""), 0.0, "under its route");
    assert_eq!(s.requests(handler, "GET", route, "200"), 0.0);
    release_tx.send(()).unwrap();
    assert_eq!(call.await.unwrap(), StatusCode::OK);
    let s = scrape();
    assert_eq!(s.in_flight(handler, "GET", route), 0.0);
    assert_eq!(s.requests(handler, "GET", route, "200"), 1.0);
    s.assert_counted_once(route);
}

#[actix_web::test]
async fn in_flight_while_served_under_the_handlers_labels() {
    in_flight_while_waiting("/mw/waits", "/mw/waits", "waits", false).await;
}

// A path new to the worker starts in flight under `route=""` (actix has not routed it
// yet); once it waits, it is in flight under its route and handler.
#[actix_web::test]
async fn a_new_path_is_in_flight_under_its_route_once_it_waits() {
    in_flight_while_waiting("/mw/late/1", "/mw/late/{id}", "waits_too", true).await;
}

#[track_metrics]
async fn panics() -> HttpResponse {
    panic!("the handler fails")
}

async fn untracked_panics() -> HttpResponse {
    panic!("the handler fails")
}

#[track_metrics]
async fn sleeps() -> HttpResponse {
    actix_web::rt::time::sleep(Duration::from_secs(30)).await;
    HttpResponse::Ok().finish()
}

#[actix_web::test]
async fn a_panic_counts_500_and_a_dropped_request_499() {
    let app = Rc::new(
        init_service(
            App::new()
                .wrap(RequestMetrics::default())
                .route("/mw/panics", web::get().to(panics))
                .route("/mw/untracked-panics", web::get().to(untracked_panics))
                .route("/mw/sleeps", web::get().to(sleeps))
                .route("/mw/warm-too", web::get().to(warm)),
        )
        .await,
    );
    // Answered one request: the paths below are new to the worker, so their route is
    // learnt as they panic (first poll) or wait.
    assert_eq!(
        send(&*app, TestRequest::get().uri("/mw/warm-too")).await,
        200
    );
    for uri in ["/mw/panics", "/mw/untracked-panics"] {
        let app = Rc::clone(&app);
        let outcome = actix_web::rt::spawn(async move {
            call_service(&*app, TestRequest::get().uri(uri).to_request()).await
        })
        .await;
        assert!(
            outcome.unwrap_err().is_panic(),
            "{uri}: the panic kept unwinding"
        );
    }
    let dropped = actix_web::rt::time::timeout(
        Duration::from_millis(100),
        call_service(&*app, TestRequest::get().uri("/mw/sleeps").to_request()),
    )
    .await;
    assert!(dropped.is_err(), "timed out, the request future dropped");

    let s = scrape();
    assert_eq!(s.requests("panics", "GET", "/mw/panics", "500"), 1.0);
    assert_eq!(s.requests("", "GET", "/mw/untracked-panics", "500"), 1.0);
    assert_eq!(s.requests("sleeps", "GET", "/mw/sleeps", "499"), 1.0);
    assert_eq!(
        s.requests("panics", "", "", "500"),
        0.0,
        "no series of its own"
    );
    for prefix in ["/mw/panics", "/mw/untracked-panics", "/mw/sleeps"] {
        s.assert_counted_once(prefix);
    }
}

// ----------------------------------------------------------------- interleaved on one thread

#[track_metrics(name = "mix::lookup")]
async fn mix_lookup(n: u32) -> Result<u32, DbError> {
    actix_web::rt::task::yield_now().await;
    Ok(n)
}

#[track_metrics]
async fn mix_a(n: web::Path<u32>) -> HttpResponse {
    for _ in 0..3 {
        actix_web::rt::task::yield_now().await;
    }
    let n = mix_lookup(*n).await.unwrap_or_default();
    HttpResponse::Ok().body(n.to_string())
}

#[track_metrics]
async fn mix_b(n: web::Path<u32>) -> HttpResponse {
    let n = mix_lookup(*n).await.unwrap_or_default();
    actix_web::rt::task::yield_now().await;
    HttpResponse::Created().body(n.to_string())
}

// Many requests at once on one thread (an actix worker), each suspending several
// times: every request sees its own request context, so each is named by its own
// handler, and the helper they share counts on its own once per call.
#[actix_web::test]
async fn requests_interleaved_on_one_thread_each_see_their_own() {
    let app = Rc::new(
        init_service(
            App::new()
                .wrap(RequestMetrics::default())
                .route("/mw/mix/a/{n}", web::get().to(mix_a))
                .route("/mw/mix/b/{n}", web::get().to(mix_b)),
        )
        .await,
    );
    let calls: Vec<_> = (0..200u32)
        .map(|i| {
            let app = Rc::clone(&app);
            let uri = format!("/mw/mix/{}/{i}", if i % 2 == 0 { "a" } else { "b" });
            actix_web::rt::spawn(async move {
                call_service(&*app, TestRequest::get().uri(&uri).to_request())
                    .await
                    .status()
                    .as_u16()
            })
        })
        .collect();
    for (i, call) in calls.into_iter().enumerate() {
        let expected = if i % 2 == 0 { 200 } else { 201 };
        assert_eq!(call.await.unwrap(), expected);
    }
    let s = scrape();
    assert_eq!(s.requests("mix_a", "GET", "/mw/mix/a/{n}", "200"), 100.0);
    assert_eq!(s.requests("mix_b", "GET", "/mw/mix/b/{n}", "201"), 100.0);
    assert_eq!(s.requests("mix_a", "GET", "/mw/mix/b/{n}", "201"), 0.0);
    assert_eq!(s.requests("mix_b", "GET", "/mw/mix/a/{n}", "200"), 0.0);
    assert_eq!(s.requests("", "GET", "/mw/mix/a/{n}", "200"), 0.0);
    assert_eq!(s.requests("mix::lookup", "", "", "200"), 200.0);
    assert_eq!(s.observed("mix::lookup", "", ""), 200.0);
    s.assert_counted_once("/mw/mix/");
}

// ----------------------------------------------------------------- left out; outside the request

#[track_metrics]
async fn health() -> &'static str {
    "ok"
}

#[track_metrics(name = "spawned_job")]
async fn spawned_job() -> &'static str {
    "done"
}

#[track_metrics]
async fn spawns() -> HttpResponse {
    // A tracked call in a spawned task is outside the request: it counts on its own.
    let job = actix_web::rt::spawn(spawned_job()).await.unwrap();
    HttpResponse::Ok().body(job)
}

#[actix_web::test]
async fn left_out_routes_and_spawned_tasks() {
    let app = init_service(
        App::new()
            .wrap(RequestMetrics::default().exclude("/mw/health"))
            .route("/mw/health", web::get().to(health))
            .route("/mw/spawns", web::get().to(spawns)),
    )
    .await;
    for _ in 0..3 {
        assert_eq!(send(&app, TestRequest::get().uri("/mw/health")).await, 200);
    }
    assert_eq!(send(&app, TestRequest::get().uri("/mw/spawns")).await, 200);

    let s = scrape();
    assert!(!s.text.contains("/mw/health"), "left out:\n{}", s.text);
    assert!(
        !s.text.contains(r#"handler="health""#),
        "nor its handler:\n{}",
        s.text
    );
    assert_eq!(s.requests("spawns", "GET", "/mw/spawns", "200"), 1.0);
    assert_eq!(s.requests("spawned_job", "", "", "200"), 1.0);
    s.assert_counted_once("/mw/spawns");
}

// ----------------------------------------------------------------- wrapped twice

#[track_metrics]
async fn twice_wrapped(id: web::Path<u32>) -> HttpResponse {
    HttpResponse::Ok().body(format!("{id}"))
}

#[actix_web::test]
async fn wrapped_twice_each_request_is_counted_once() {
    // The app and one of its scopes both wrapped: the inner middleware sees a request
    // the outer one counts already, and only forwards.
    let app = init_service(
        App::new().wrap(RequestMetrics::default()).service(
            web::scope("/mw/twice")
                .wrap(RequestMetrics::default())
                .route("/{id}", web::get().to(twice_wrapped)),
        ),
    )
    .await;
    for id in 1..=5 {
        let uri = format!("/mw/twice/{id}");
        assert_eq!(send(&app, TestRequest::get().uri(&uri)).await, 200);
    }
    let s = scrape();
    assert_eq!(
        s.requests("twice_wrapped", "GET", "/mw/twice/{id}", "200"),
        5.0
    );
    assert_eq!(s.observed("twice_wrapped", "GET", "/mw/twice/{id}"), 5.0);
    let total = s.total_under("/mw/twice");
    assert_eq!(total, 5.0, "once each, under any labels:\n{}", s.text);
    s.assert_counted_once("/mw/twice");
}
