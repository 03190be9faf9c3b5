//! A tiny raw HTTP/1.1 client and fixtures shared by the emulator's tests, so
//! the tests see exactly the bytes on the wire.

use std::error::Error;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{Emulator, EmulatorConfig};

pub(super) type TestResult = Result<(), Box<dyn Error>>;

pub(super) const KEY: &str = "test-env-key";
pub(super) const SERVER_KEY: &str = "ser.test-server-key";

/// A parsed HTTP response.
#[derive(Debug)]
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

impl Reply {
    pub(super) fn json(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    pub(super) fn header(&self, name: &str) -> Option<&str> {
        let found = self
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name));
        found.map(|(_, v)| v.as_str())
    }
}

/// Writes one request (with `Connection: close`) on a fresh connection.
pub(super) async fn open(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    Ok(stream)
}

/// Sends one request and reads the whole response, giving up after five seconds.
pub(super) async fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Reply, Box<dyn Error>> {
    let mut stream = open(addr, method, target, headers, body).await?;
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut raw)).await??;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or("empty response")?;
    let status = status_line.split(' ').nth(1).ok_or("no status")?.parse()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Ok(Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    })
}

/// A JSON request with the client key.
pub(super) async fn post_json(
    addr: SocketAddr,
    target: &str,
    body: &Value,
) -> Result<Reply, Box<dyn Error>> {
    let headers = [
        ("X-Environment-Key", KEY),
        ("Content-Type", "application/json"),
    ];
    send(addr, "POST", target, &headers, body.to_string().as_bytes()).await
}

pub(super) async fn start(regions: &[&str]) -> std::io::Result<Emulator> {
    let listen = SocketAddr::from(([127, 0, 0, 1], 0));
    Emulator::start(listen, EmulatorConfig::with_regions(regions)).await
}
