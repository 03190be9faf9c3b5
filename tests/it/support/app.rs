//! The whole daemon in the test process (the same `App::build`/`run` path as `mimic serve`),
//! with typed helpers for the admin API.

use super::config::{TestConfig, ADMIN_TOKEN};
use mimic::app::App;
use serde_json::Value;
use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// A running daemon.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its config (and the folder with its database).
    pub cfg: TestConfig,
    cancel: CancellationToken,
    handle: tokio::task::JoinHandle<anyhow::Result<u64>>,
    client: reqwest::Client,
}

/// An HTTP answer: status and JSON body (`Null` when not JSON).
#[derive(Debug)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Body.
    pub json: Value,
}

impl TestApp {
    /// Builds and starts the daemon for `cfg`.
    pub async fn spawn(cfg: TestConfig) -> Self {
        let app = App::build(cfg.load())
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        let addr = app.addr();
        let cancel = CancellationToken::new();
        let handle = tokio::spawn(app.run(cancel.clone()));
        TestApp {
            addr,
            cfg,
            cancel,
            handle,
            client: reqwest::Client::new(),
        }
    }

    /// The daemon's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Any request, with an optional bearer token and raw body.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> Answer {
        let mut req = self.client.request(method, format!("{}{path}", self.url()));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap_or_default();
        Answer {
            status,
            json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    /// An admin request with the right token.
    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Answer {
        self.request(method, path, Some(ADMIN_TOKEN), body.map(|b| b.to_string()))
            .await
    }

    /// Every incident, newest first.
    pub async fn incidents(&self) -> Vec<Value> {
        let a = self
            .admin(reqwest::Method::GET, "/api/admin/incidents", None)
            .await;
        assert_eq!(a.status, 200, "{:?}", a.json);
        a.json["incidents"].as_array().cloned().unwrap_or_default()
    }

    /// Probe states from the admin API.
    pub async fn probes(&self) -> Vec<Value> {
        let a = self
            .admin(reqwest::Method::GET, "/api/admin/probes", None)
            .await;
        assert_eq!(a.status, 200, "{:?}", a.json);
        a.json["probes"].as_array().cloned().unwrap_or_default()
    }

    /// Polls the incidents until `check` returns something, or panics after `within`.
    pub async fn wait_for<T>(
        &self,
        what: &str,
        within: Duration,
        check: impl Fn(&[Value]) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + within;
        loop {
            let incidents = self.incidents().await;
            if let Some(t) = check(&incidents) {
                return t;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; incidents: {incidents:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the daemon and waits for it to flush; returns its config (keeping its folder).
    pub async fn stop(self) -> TestConfig {
        self.cancel.cancel();
        self.handle
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("{e:#}"));
        self.cfg
    }
}

/// Polls `probe` until it yields something, or panics after `within`.
pub async fn eventually<T, F: Future<Output = Option<T>>>(
    what: &str,
    within: Duration,
    mut probe: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(t) = probe().await {
            return t;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The status of an incident JSON.
pub fn status(inc: &Value) -> &str {
    inc["status"].as_str().unwrap_or("")
}

/// The bodies of an incident's updates, oldest first.
pub fn bodies(inc: &Value) -> Vec<String> {
    inc["updates"]
        .as_array()
        .map(|u| {
            u.iter()
                .map(|x| x["body"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

impl TestApp {
    /// GET a public path; returns status, headers and body text.
    pub async fn get(&self, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
        let resp = self
            .client
            .get(format!("{}{path}", self.url()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        (status, headers, text)
    }

    /// Polls `path` until its body satisfies `check`; returns the body.
    pub async fn page_until(&self, path: &str, what: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let (status, _, body) = self.get(path).await;
            if status == 200 && check(&body) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {path} to show {what}; last body:\n{body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl TestApp {
    /// Waits (up to 10 s) until every probe's newest run in every region passed.
    pub async fn wait_until_every_probe_passes(&self) {
        eventually("every probe to pass", Duration::from_secs(10), || async {
            let probes = self.probes().await;
            probes
                .iter()
                .all(|p| p["last_run"]["outcome"] == "ok")
                .then_some(())
        })
        .await;
    }

    /// Waits (up to 10 s) for the first incident and returns its number.
    pub async fn first_incident_id(&self) -> i64 {
        self.wait_for("an incident", Duration::from_secs(10), |l| {
            l.first().and_then(|i| i["id"].as_i64())
        })
        .await
    }
}
