//! The Prometheus HTTP query API, as Prometheus and VictoriaMetrics answer it.

use serde_json::Value as Json;

use crate::http::try_get;

/// A server answering `/api/v1/*` the way Prometheus does.
pub trait QueryApi {
    /// `http://127.0.0.1:PORT`.
    fn base_url(&self) -> &str;

    /// The `data` of a successful API answer, or the error the server gave.
    fn api(&self, path: &str, query: &[(&str, &str)]) -> Result<Json, String> {
        let answer = try_get(&format!("{}{path}", self.base_url()), query)
            .ok_or_else(|| format!("no answer from {}{path}", self.base_url()))?;
        let body = answer.json();
        if body["status"] == "success" {
            Ok(body["data"].clone())
        } else {
            Err(format!(
                "{} {}: {}",
                answer.status, body["errorType"], body["error"]
            ))
        }
    }

    /// The value of an instant query with at most one series.
    fn value(&self, expr: &str) -> Result<Option<String>, String> {
        match self.query(expr)?.as_slice() {
            [] => Ok(None),
            [one] => Ok(one["value"][1].as_str().map(str::to_owned)),
            more => Err(format!("{expr}: {more:?}")),
        }
    }

    /// An instant query: its result vector.
    fn query(&self, expr: &str) -> Result<Vec<Json>, String> {
        let data = self.api("/api/v1/query", &[("query", expr)])?;
        Ok(data["result"].as_array().cloned().unwrap_or_default())
    }
}
