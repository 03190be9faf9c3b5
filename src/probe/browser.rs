//! A browser shape's exchange: the CORS preflight (when its request needs one) sent the way a
//! browser sends it, never following a redirect, and both answers judged as a browser judges
//! them before the page's code sees anything (SPEC §11). A refusal is outcome `cors`, with a
//! message naming what the browser would refuse.

use super::cors::{self, BrowserRequest};
use super::request::{BrowserPrepared, Prepared};
use super::runner::{exchange as send, Failure};
use crate::domain::RunOutcome;
use std::sync::OnceLock;
use std::time::Duration;

/// The client for preflights: like the probes' client, but a browser never follows a redirect
/// of a preflight, so neither does this one.
fn preflight_client() -> Result<&'static reqwest::Client, Failure> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .tcp_nodelay(true)
                .pool_idle_timeout(Duration::from_secs(30))
                .connect_timeout(Duration::from_secs(10))
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Failure {
            outcome: RunOutcome::Connect,
            status: None,
            message: format!("preflight client could not be built: {e}"),
        })
}

/// Sends the preflight (if any) and the request; returns the request's status, headers and
/// body when a browser would hand them to the page.
pub(super) async fn exchange(
    client: &reqwest::Client,
    req: &Prepared,
    browser: &BrowserPrepared,
    cap: usize,
) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), Failure> {
    let facts = &browser.facts;
    let page = BrowserRequest {
        origin: &facts.origin,
        method: &facts.method,
        unsafe_headers: &facts.unsafe_headers,
        credentials: false,
    };
    if let Some(preflight) = &browser.preflight {
        let (status, headers, _) = send(preflight_client()?, preflight.request(), cap)
            .await
            .map_err(|f| Failure {
                message: format!("preflight: {}", f.message),
                ..f
            })?;
        // A region that answers everything with an error is an outage, for browsers and
        // servers alike: it groups with the server SDKs' failures, not as a CORS policy.
        if !(200..300).contains(&status) {
            return Err(Failure {
                outcome: RunOutcome::HttpStatus,
                status: Some(status),
                message: format!("preflight answered HTTP {status}; a browser needs 200-299"),
            });
        }
        cors::judge_preflight(&page, status, &headers).map_err(|message| Failure {
            outcome: RunOutcome::Cors,
            status: Some(status),
            message,
        })?;
    }
    let (status, headers, body) = send(client, req.request(), cap).await?;
    cors::judge_response(&page, &headers).map_err(|message| Failure {
        outcome: RunOutcome::Cors,
        status: Some(status),
        message,
    })?;
    Ok((status, headers, body))
}
