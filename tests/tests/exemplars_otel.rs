//! Exemplars from the current OpenTelemetry span (cargo feature `opentelemetry`), with a
//! real SDK tracer and no exporter: a tracked call inside a sampled span leaves the span's
//! trace on its bucket; inside an unsampled one, nothing; a `tracing` span through
//! tracing-opentelemetry works the same; under the middleware the span wins over the
//! request's `traceparent`.

use actix_web::test as actix_test;
use actix_web::{App, HttpResponse};
use metrics_tests::scrape;
use opentelemetry::trace::{TraceContextExt, Tracer, TracerProvider};
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use track_metrics::track_metrics;

#[track_metrics]
fn otel_sampled() -> u32 {
    1
}

#[track_metrics]
fn otel_unsampled() -> u32 {
    2
}

#[track_metrics]
fn otel_through_tracing() -> u32 {
    3
}

// The order the guide shows: the attribute above `instrument`, so the call ends inside
// the span.
#[track_metrics]
#[tracing::instrument]
fn otel_instrumented(x: u32) -> u32 {
    x + 1
}

#[track_metrics]
#[actix_web::get("/otel/both")]
async fn otel_both() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn provider(sampler: Sampler) -> SdkTracerProvider {
    SdkTracerProvider::builder().with_sampler(sampler).build()
}

/// The `(trace_id, span_id)` of every exemplar on `handler`'s duration buckets, in a
/// valid OpenMetrics exposition of the registry now.
fn exemplars(handler: &str) -> Vec<(String, String)> {
    scrape::exemplars(&track_metrics::render_openmetrics(), handler)
        .into_iter()
        .map(|e| (e.trace_id, e.span_id))
        .collect()
}

#[test]
fn a_call_in_a_sampled_span_leaves_its_trace() {
    let tracer = provider(Sampler::AlwaysOn).tracer("tests");
    let ids = tracer.in_span("checkout", |cx| {
        assert_eq!(otel_sampled(), 1);
        let span = cx.span();
        let context = span.span_context();
        (
            context.trace_id().to_string(),
            context.span_id().to_string(),
        )
    });
    assert_eq!(exemplars("otel_sampled"), [ids]);
}

#[test]
fn a_call_in_an_unsampled_span_or_none_leaves_nothing() {
    let tracer = provider(Sampler::AlwaysOff).tracer("tests");
    tracer.in_span("checkout", |_| assert_eq!(otel_unsampled(), 2));
    assert_eq!(otel_unsampled(), 2);
    assert!(exemplars("otel_unsampled").is_empty());
    assert!(track_metrics::render().contains(
        r#"http_requests_total{handler="otel_unsampled",method="",route="",status="200"} 2"#
    ));
}

#[test]
fn a_tracing_span_through_tracing_opentelemetry_leaves_its_trace() {
    let tracer = provider(Sampler::AlwaysOn).tracer("tests");
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer));
    let ids = tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("consume");
        let _entered = span.enter();
        assert_eq!(otel_through_tracing(), 3);
        let cx = span.context();
        let otel = cx.span();
        let context = otel.span_context();
        assert!(context.is_sampled());
        (
            context.trace_id().to_string(),
            context.span_id().to_string(),
        )
    });
    assert_eq!(exemplars("otel_through_tracing"), [ids]);
}

#[test]
fn a_function_under_tracing_instrument_leaves_its_span() {
    let tracer = provider(Sampler::AlwaysOn).tracer("tests");
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer));
    tracing::subscriber::with_default(subscriber, || assert_eq!(otel_instrumented(1), 2));
    let found = exemplars("otel_instrumented");
    assert_eq!(found.len(), 1, "{found:?}");
    let (trace, span) = &found[0];
    assert!(trace.len() == 32 && span.len() == 16 && trace != &"0".repeat(32));
}

#[actix_web::test]
async fn under_the_middleware_the_current_span_wins_over_traceparent() {
    let app = actix_test::init_service(
        App::new()
            .wrap(track_metrics::actix::RequestMetrics::default())
            .service(otel_both),
    )
    .await;
    let tracer = provider(Sampler::AlwaysOn).tracer("tests");
    let span = tracer.start("request");
    let cx = opentelemetry::Context::current_with_span(span);
    let ids = {
        let span = cx.span();
        let context = span.span_context();
        (
            context.trace_id().to_string(),
            context.span_id().to_string(),
        )
    };
    let request = actix_test::TestRequest::get()
        .uri("/otel/both")
        .insert_header((
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ))
        .to_request();
    {
        // The test runtime polls on this thread: the span is current throughout.
        let _attached = cx.clone().attach();
        let response = actix_test::call_service(&app, request).await;
        assert_eq!(response.status(), 200);
    }
    assert_eq!(exemplars("otel_both"), [ids]);
}
