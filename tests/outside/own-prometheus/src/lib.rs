//! A user's actix-web shop: its requests counted by `RequestMetrics`, and metrics of its
//! own (a counter and a histogram) made with its own `prometheus` dependency and
//! registered in `track_metrics::registry()`, so that `/metrics` serves both.

use std::sync::LazyLock;

use actix_web::{HttpResponse, post, web};
use prometheus::{Histogram, HistogramOpts, IntCounter};
use serde::Deserialize;
use track_metrics::actix::RequestMetrics;
use track_metrics::track_metrics;

/// Orders taken: the user's own counter.
pub static ORDERS: LazyLock<IntCounter> = LazyLock::new(|| {
    let counter = IntCounter::new("shop_orders_created_total", "Orders taken.").unwrap();
    // The user's `prometheus::Registry` is the one track-metrics exposes: one crate.
    let registry: &prometheus::Registry = track_metrics::registry();
    registry.register(Box::new(counter.clone())).unwrap();
    counter
});

/// What the orders were worth: the user's own histogram.
pub static ORDER_AMOUNT: LazyLock<Histogram> = LazyLock::new(|| {
    let opts = HistogramOpts::new("shop_order_amount_dollars", "What an order is worth.")
        .buckets(vec![10.0, 50.0, 100.0]);
    let histogram = Histogram::with_opts(opts).unwrap();
    track_metrics::registry()
        .register(Box::new(histogram.clone()))
        .unwrap();
    histogram
});

/// The body of `POST /orders`.
#[derive(Deserialize)]
pub struct Order {
    /// What it is worth, in dollars.
    pub amount: f64,
}

#[track_metrics]
#[post("/orders")]
async fn create_order(order: web::Json<Order>) -> HttpResponse {
    ORDERS.inc();
    ORDER_AMOUNT.observe(order.amount);
    HttpResponse::Created().finish()
}

/// The app: every request counted once by `RequestMetrics`, `/metrics` left out.
pub fn app() -> actix_web::App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    // Registered before the first request, as a program's `main` would.
    LazyLock::force(&ORDERS);
    LazyLock::force(&ORDER_AMOUNT);
    actix_web::App::new()
        .wrap(RequestMetrics::default().exclude("/metrics"))
        .service(create_order)
        .service(track_metrics::actix::metrics)
}
