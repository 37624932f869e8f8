//! Handler names: two different functions under one `handler` name are reported, once per
//! name, by a warning naming both (module path, function, file and line) and the fix
//! (`name = "…"`), whether their first call counts on its own or names a request under
//! the middleware; the same function called again, a generic function's instantiations,
//! different explicit names and the same explicit name given twice on purpose are not.
//! Each case runs in a fresh process (`metrics_tests::rerun`), with the log captured.

use actix_web::test::{TestRequest, call_service, init_service};
use actix_web::{App, web};
use metrics_tests::rerun::{capture_logs, in_child, logs};
use metrics_tests::scrape::Scrape;
use track_metrics::track_metrics;

/// The warnings logged so far.
fn warnings() -> Vec<String> {
    logs()
        .into_iter()
        .filter(|line| line.starts_with("WARN"))
        .collect()
}

/// How the warning names a function: `module::function (file:line)`.
fn named(function: &str, line: u32) -> String {
    format!("`names::{function}` ({}:{line})", file!())
}

/// Three functions called `handler`, in three modules.
mod users {
    use track_metrics::track_metrics;

    pub const LINE: u32 = line!() + 1;
    #[track_metrics]
    pub fn handler() -> u32 {
        1
    }
}

mod items {
    use track_metrics::track_metrics;

    pub const LINE: u32 = line!() + 1;
    #[track_metrics]
    pub fn handler() -> u32 {
        2
    }
}

mod orders {
    use track_metrics::track_metrics;

    #[track_metrics]
    pub fn handler() -> u32 {
        3
    }
}

#[test]
fn two_functions_of_one_default_name_warn_once() {
    if !in_child("two_functions_of_one_default_name_warn_once", &[&[]]) {
        return;
    }
    capture_logs();
    for _ in 0..3 {
        assert_eq!(users::handler(), 1);
    }
    assert!(warnings().is_empty(), "one function: {:?}", warnings());
    assert_eq!(items::handler(), 2);
    assert_eq!(orders::handler(), 3);
    assert_eq!(items::handler(), 2);

    let warnings = warnings();
    assert_eq!(warnings.len(), 1, "one warning per name: {warnings:?}");
    let warning = &warnings[0];
    assert!(
        warning.contains("handler=\"handler\"")
            && warning.contains(&named("users::handler", users::LINE))
            && warning.contains(&named("items::handler", items::LINE))
            && warning.contains("#[track_metrics(name = \"…\")]"),
        "{warning}"
    );
    // Reported, and still counted as before: one series.
    let scrape = Scrape::parse(&track_metrics::render());
    assert_eq!(scrape.requests("handler", "", "", "200"), 6.0);
}

/// Methods of one name in two `impl` blocks of one module: the file and line tell
/// them apart.
struct Users;
struct Items;

const USERS_GET: u32 = line!() + 2;
impl Users {
    #[track_metrics]
    fn get() -> &'static str {
        "user"
    }
}

const ITEMS_GET: u32 = line!() + 2;
impl Items {
    #[track_metrics]
    fn get() -> &'static str {
        "item"
    }
}

/// A helper whose explicit name is another function's default one.
mod db {
    use track_metrics::track_metrics;

    pub const LINE: u32 = line!() + 1;
    #[track_metrics(name = "load")]
    pub fn fetch() -> u8 {
        0
    }
}

const LOAD: u32 = line!() + 1;
#[track_metrics]
fn load() -> u8 {
    1
}

#[test]
fn methods_and_an_explicit_name_equal_to_a_default_one_warn() {
    if !in_child(
        "methods_and_an_explicit_name_equal_to_a_default_one_warn",
        &[&[]],
    ) {
        return;
    }
    capture_logs();
    assert_eq!((Users::get(), Items::get()), ("user", "item"));
    assert_eq!((db::fetch(), load()), (0, 1));
    let warnings = warnings();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].contains("handler=\"get\"")
            && warnings[0].contains(&named("get", USERS_GET))
            && warnings[0].contains(&named("get", ITEMS_GET)),
        "{warnings:?}"
    );
    assert!(
        warnings[1].contains("handler=\"load\"")
            && warnings[1].contains(&named("db::fetch", db::LINE))
            && warnings[1].contains(&named("load", LOAD)),
        "{warnings:?}"
    );
}

/// Two handlers called `show`, registered under the middleware: their first calls name
/// requests (no call site counts on its own), and are checked all the same.
mod pages {
    use actix_web::HttpResponse;
    use track_metrics::track_metrics;

    pub const LINE: u32 = line!() + 1;
    #[track_metrics]
    pub async fn show() -> HttpResponse {
        HttpResponse::Ok().body("page")
    }
}

mod posts {
    use actix_web::HttpResponse;
    use track_metrics::track_metrics;

    pub const LINE: u32 = line!() + 1;
    #[track_metrics]
    pub async fn show() -> HttpResponse {
        HttpResponse::Ok().body("post")
    }
}

#[actix_web::test]
async fn handlers_of_one_name_under_the_middleware_warn() {
    if !in_child("handlers_of_one_name_under_the_middleware_warn", &[&[]]) {
        return;
    }
    capture_logs();
    let app = init_service(
        App::new()
            .wrap(track_metrics::actix::RequestMetrics::default())
            .route("/pages/{id}", web::get().to(pages::show))
            .route("/posts/{id}", web::get().to(posts::show)),
    )
    .await;
    for uri in ["/pages/1", "/posts/1", "/pages/2", "/posts/2"] {
        let resp = call_service(&app, TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(resp.status(), 200);
    }
    let warnings = warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("handler=\"show\"")
            && warnings[0].contains(&named("pages::show", pages::LINE))
            && warnings[0].contains(&named("posts::show", posts::LINE)),
        "{warnings:?}"
    );
    // The requests are counted by route, as before.
    let scrape = Scrape::parse(&track_metrics::render());
    assert_eq!(scrape.requests("show", "GET", "/pages/{id}", "200"), 2.0);
    assert_eq!(scrape.requests("show", "GET", "/posts/{id}", "200"), 2.0);
}

#[track_metrics]
fn once(x: u32) -> u32 {
    x
}

#[track_metrics]
fn generic<T: Default>() -> T {
    T::default()
}

struct Left;
struct Right;

impl Left {
    #[track_metrics(name = "Left::get")]
    fn get() -> u8 {
        1
    }
}

impl Right {
    #[track_metrics(name = "Right::get")]
    fn get() -> u8 {
        2
    }
}

/// The same explicit name on two functions: merged on purpose.
mod merged {
    use track_metrics::track_metrics;

    #[track_metrics(name = "db::query")]
    pub fn read() -> u8 {
        1
    }

    #[track_metrics(name = "db::query")]
    pub async fn write() -> u8 {
        2
    }
}

#[actix_web::test]
async fn one_function_and_names_given_on_purpose_do_not_warn() {
    if !in_child(
        "one_function_and_names_given_on_purpose_do_not_warn",
        &[&[]],
    ) {
        return;
    }
    capture_logs();
    // One function, called many times and from several threads.
    std::thread::scope(|scope| {
        for t in 0..4 {
            scope.spawn(move || {
                for i in 0..10 {
                    assert_eq!(once(t * 10 + i), t * 10 + i);
                }
            });
        }
    });
    // One generic function, three instantiations: one call site.
    assert_eq!(
        (generic::<u8>(), generic::<String>(), generic::<()>()),
        (0, String::new(), ())
    );
    // Methods of one name with names of their own.
    assert_eq!((Left::get(), Right::get()), (1, 2));
    // The same explicit name twice.
    assert_eq!((merged::read(), merged::write().await), (1, 2));
    assert!(warnings().is_empty(), "no warning: {:?}", warnings());

    let scrape = Scrape::parse(&track_metrics::render());
    assert_eq!(scrape.requests("once", "", "", "200"), 40.0);
    assert_eq!(scrape.requests("generic", "", "", "200"), 3.0);
    assert_eq!(scrape.requests("Left::get", "", "", "200"), 1.0);
    assert_eq!(scrape.requests("db::query", "", "", "200"), 2.0);
}

/// What a user sees: the whole warning, with the two functions of the first case.
#[test]
fn the_warning_text() {
    if !in_child("the_warning_text", &[&[]]) {
        return;
    }
    capture_logs();
    users::handler();
    items::handler();
    assert_eq!(
        warnings(),
        [format!(
            "WARN track-metrics: two functions count as handler=\"handler\", in one series: \
             {} and {}; give one of them a name of its own with #[track_metrics(name = \"…\")] \
             (or both the same name = \"handler\" to count them together)",
            named("users::handler", users::LINE),
            named("items::handler", items::LINE),
        )]
    );
}
