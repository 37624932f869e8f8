//! HTTP as a client: one agent for every test, which reads any status as an answer.

use std::sync::OnceLock;
use std::time::Duration;

use ureq::http::Response as Answer;

/// An HTTP response: status, the headers we look at, body.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// `Content-Type`, if any.
    pub content_type: Option<String>,
    /// Body as text (invalid UTF-8 replaced).
    pub body: String,
    /// Body as sent.
    pub bytes: Vec<u8>,
}

impl Response {
    /// The body as JSON, `null` if it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .allow_non_standard_methods(true)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into()
    })
}

fn read(answer: Result<Answer<ureq::Body>, ureq::Error>) -> Result<Response, ureq::Error> {
    let mut answer = answer?;
    let content_type = answer
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = answer.body_mut().read_to_vec()?;
    Ok(Response {
        status: answer.status().as_u16(),
        content_type,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
    })
}

/// `GET url` with optional headers; fails the test if nothing answers.
pub fn get(url: &str, headers: &[(&str, &str)]) -> Response {
    let mut request = agent().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    read(request.call()).expect("HTTP request")
}

/// `GET url?query`, `None` if nothing answers (yet).
pub fn try_get(url: &str, query: &[(&str, &str)]) -> Option<Response> {
    let mut request = agent().get(url);
    for (key, value) in query {
        request = request.query(*key, *value);
    }
    read(request.call()).ok()
}

/// `POST url` with a body of the given content type; fails the test if nothing answers.
pub fn post(url: &str, content_type: &str, body: &str) -> Response {
    let request = agent().post(url).header("content-type", content_type);
    read(request.send(body)).expect("HTTP request")
}

/// `METHOD url` without a body, any method (`DELETE`, a made-up `BREW`); fails the test if
/// nothing answers.
pub fn send(method: &str, url: &str) -> Response {
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .body(())
        .expect("a valid request");
    read(agent().run(request)).expect("HTTP request")
}
