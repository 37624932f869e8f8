//! Methods of an `#[async_trait]` impl: the boxed future is timed and counted when
//! it finishes, with the status of its output, not when it is created.

use std::time::Duration;

use async_trait::async_trait;
use track_metrics::track_metrics;

#[async_trait]
trait Store {
    async fn load(&self, id: u32) -> Result<String, actix_web::Error>;
}

struct Memory;

#[async_trait]
impl Store for Memory {
    #[track_metrics(name = "Memory::load")]
    async fn load(&self, id: u32) -> Result<String, actix_web::Error> {
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        if id == 0 {
            return Err(actix_web::error::ErrorNotFound("no such id"));
        }
        Ok(format!("item {id}"))
    }
}

fn counted(status: &str) -> Option<String> {
    let prefix = format!(
        r#"http_requests_total{{handler="Memory::load",method="",route="",status="{status}"}} "#
    );
    track_metrics::render()
        .lines()
        .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
}

fn main() {
    actix_web::rt::System::new().block_on(async {
        let store: Box<dyn Store> = Box::new(Memory);
        let pending = store.load(1);
        assert_eq!(counted("200"), None, "creating the future counts nothing");
        assert_eq!(pending.await.unwrap(), "item 1");
        assert!(store.load(0).await.is_err());
    });
    assert_eq!(counted("200").as_deref(), Some("1"));
    assert_eq!(counted("404").as_deref(), Some("1"));
    let sum = track_metrics::render()
        .lines()
        .find_map(|l| {
            l.strip_prefix(
                r#"http_request_duration_seconds_sum{handler="Memory::load",method="",route=""} "#,
            )
            .map(|v| v.parse::<f64>().unwrap())
        })
        .unwrap();
    assert!(sum >= 0.040, "the awaited sleeps are timed: {sum}");
}
