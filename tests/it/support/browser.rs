//! Headless Chromium (Debian's package), driven from its command line: the DOM after load, the
//! console log, and screenshots.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Chromium is, if installed.
pub fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn base(bin: &Path, profile: &Path) -> Command {
    let mut c = Command::new(bin);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// Loads `url`; returns the serialised DOM and Chromium's log (console messages included).
pub fn dump_dom(bin: &Path, profile: &Path, url: &str) -> (String, String) {
    let out = base(bin, profile)
        .args(["--dump-dom", url])
        .output()
        .unwrap_or_else(|e| panic!("chromium: {e}"));
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Saves a screenshot of `url` at `width`×`height` to `path`.
pub fn screenshot(bin: &Path, profile: &Path, url: &str, width: u32, height: u32, path: &Path) {
    let out = base(bin, profile)
        .arg(format!("--screenshot={}", path.display()))
        .arg(format!("--window-size={width},{height}"))
        .arg("--hide-scrollbars")
        .arg(url)
        .output()
        .unwrap_or_else(|e| panic!("chromium: {e}"));
    assert!(
        path.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Console messages and page errors in a Chromium log.
pub fn console_errors(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| {
            l.contains("CONSOLE") || l.contains("Uncaught") || l.contains("Failed to load resource")
        })
        .map(str::to_owned)
        .collect()
}
