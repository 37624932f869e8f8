//! Health checks over a real socket through tonic's transport: each RPC counted once,
//! exactly, with its code, beside the user's own counter, in `render()`.

use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

/// The value of the series `name{labels}` (exactly) in a text exposition.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_checks_are_counted_with_their_codes() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(tonic_server::serve(listener));
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = HealthClient::new(channel);
    let check = |service: &str| HealthCheckRequest {
        service: service.to_owned(),
    };
    for _ in 0..3 {
        let answer = client.check(check(tonic_server::SERVICE)).await.unwrap();
        assert_eq!(answer.into_inner().status, 1, "SERVING");
    }
    let unknown = client.check(check("shop.Nowhere")).await.unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);

    let text = track_metrics::render();
    let handled = |code: &str| {
        format!(
            r#"grpc_server_handled_total{{grpc_code="{code}",grpc_method="Check",grpc_service="grpc.health.v1.Health",grpc_type="unary"}}"#
        )
    };
    assert_eq!(value(&text, &handled("OK")), Some(3.0), "{text}");
    assert_eq!(value(&text, &handled("NotFound")), Some(1.0), "{text}");
    let started = r#"grpc_server_started_total{grpc_method="Check",grpc_service="grpc.health.v1.Health",grpc_type="unary"}"#;
    assert_eq!(value(&text, started), Some(4.0), "{text}");
    assert_eq!(
        value(&text, "shop_server_starts_total"),
        Some(1.0),
        "{text}"
    );
}
