//! A real SMTP server on loopback (aiosmtpd, from tests/smtp_sink.py) that writes each mail it
//! accepts as JSON; it can be stopped and started again on the same port.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One accepted mail.
#[derive(Debug, Clone)]
pub struct Mail {
    /// Envelope recipients.
    pub to: Vec<String>,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// Decoded text part.
    pub text: String,
    /// Decoded HTML part, if any.
    pub html: Option<String>,
}

impl Mail {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The subject.
    pub fn subject(&self) -> &str {
        self.header("Subject").unwrap_or("")
    }
}

/// The running server.
pub struct SmtpSink {
    /// Its port.
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

impl SmtpSink {
    /// Starts a server on a free port.
    pub fn start() -> SmtpSink {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut sink = SmtpSink {
            port: free_port(),
            dir,
            child: None,
        };
        sink.resume();
        sink
    }

    /// The `[smtp]` table pointing at this server.
    pub fn config(&self) -> String {
        format!(
            "[smtp]\nurl = \"smtp://127.0.0.1:{}\"\nfrom = \"Example Status <status@example.com>\"\n",
            self.port
        )
    }

    /// Stops the server (connections are refused until [`SmtpSink::resume`]).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same port.
    pub fn resume(&mut self) {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(self.port.to_string())
            .arg(self.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("python3 tests/smtp_sink.py: {e} (pip install aiosmtpd)"));
        let out = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let mut line = String::new();
        let _ = BufReader::new(out).read_line(&mut line);
        assert!(
            line.starts_with("READY"),
            "SMTP sink did not start (is aiosmtpd installed?)"
        );
        self.child = Some(child);
    }

    /// Every mail accepted so far, in arrival order.
    pub fn mails(&self) -> Vec<Mail> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "json"));
        files.sort();
        files
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter_map(|t| serde_json::from_str::<Value>(&t).ok())
            .map(|v| Mail {
                to: v["rcpt_tos"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                headers: v["headers"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|h| {
                                (
                                    h[0].as_str().unwrap_or("").to_owned(),
                                    h[1].as_str().unwrap_or("").to_owned(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                text: v["text"].as_str().unwrap_or("").to_owned(),
                html: v["html"].as_str().map(str::to_owned),
            })
            .collect()
    }

    /// How many mails were accepted so far (counts files, reads none).
    pub fn count(&self) -> usize {
        std::fs::read_dir(self.dir.path())
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                    .count()
            })
            .unwrap_or(0)
    }

    /// Mails to `addr`.
    pub fn mails_to(&self, addr: &str) -> Vec<Mail> {
        self.mails()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == addr))
            .collect()
    }

    /// Waits until `check` holds for the mails, or panics after `within`.
    pub async fn wait_for(
        &self,
        what: &str,
        within: Duration,
        check: impl Fn(&[Mail]) -> bool,
    ) -> Vec<Mail> {
        let deadline = Instant::now() + within;
        loop {
            let mails = self.mails();
            if check(&mails) {
                return mails;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; mail so far: {:#?}",
                mails
                    .iter()
                    .map(|m| (m.to.clone(), m.subject().to_owned()))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}
