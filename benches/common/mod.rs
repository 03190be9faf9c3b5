//! Helpers shared by the benches: free ports, a 1000-probe config, starting the real binary,
//! reading a process's CPU time and peak RSS from /proc, percentiles.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::process::{Child, Command, Stdio};

/// Probes in the bench config.
pub const PROBES: usize = 1000;
const SHAPES: [&str; 8] = [
    "flagsmith.go.identify",
    "flagsmith.go.flags",
    "flagsmith.python.identify",
    "flagsmith.python.flags",
    "flagsmith.go@3.3.0.identify",
    "flagsmith.python@3.5.0.identify",
    "flagsmith.go.environment_document",
    "flagsmith.python.environment_document",
];

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18081)
}

/// Writes a config with [`PROBES`] probes every `every` against the emulator on `emu_port`.
pub fn config(
    dir: &std::path::Path,
    emu_port: u16,
    every: &str,
    listen: &str,
) -> std::path::PathBuf {
    config_with(dir, emu_port, every, listen, PROBES, &["eu-west-2"])
}

/// Writes a config with `probes` probes every `every`, each in every one of `regions` (a target
/// per region on the emulator at `emu_port`), and returns its path (`bench.toml` in `dir`).
pub fn config_with(
    dir: &std::path::Path,
    emu_port: u16,
    every: &str,
    listen: &str,
    probes: usize,
    regions: &[&str],
) -> std::path::PathBuf {
    let mut text = format!(
        "[server]\nlisten = \"{listen}\"\ndatabase = \"sqlite://{}\"\n\n[[component]]\nid = \"edge-api\"\nname = \"Edge API\"\n\n",
        dir.join("bench.db").display()
    );
    for r in regions {
        let _ = write!(text, "[[region]]\nid = \"{r}\"\n\n");
    }
    for r in regions {
        let _ = write!(
            text,
            "[[target]]\ncomponent = \"edge-api\"\nregion = \"{r}\"\nbase_url = \"http://127.0.0.1:{emu_port}/{r}/api/v1/\"\nvars = {{ environment_key = \"test-env-key\" }}\n\n"
        );
    }
    for i in 0..probes {
        let shape = SHAPES[i % SHAPES.len()];
        let vars = if shape.ends_with("environment_document") {
            "vars = { environment_key = \"ser.test-server-key\" }\n"
        } else {
            "vars = { identifier = \"bench-user\", traits = { plan = \"pro\" } }\n"
        };
        let _ = write!(
            text,
            "[[probe]]\nid = \"p{i}\"\ncomponent = \"edge-api\"\nshape = \"{shape}\"\nevery = \"{every}\"\ntimeout = \"5s\"\n{vars}\n"
        );
    }
    let path = dir.join("bench.toml");
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("cannot write config: {e}");
        std::process::exit(1);
    }
    path
}

/// Starts the real binary with `args`, output discarded; `MIMIC_BIN` names another build of
/// mimic to measure instead (an older commit's, to compare two builds in one session).
pub fn spawn(args: &[&str]) -> Child {
    let bin = std::env::var_os("MIMIC_BIN")
        .unwrap_or_else(|| std::ffi::OsString::from(env!("CARGO_BIN_EXE_mimic")));
    Command::new(bin)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            eprintln!("cannot start mimic: {e}");
            std::process::exit(1)
        })
}

/// (utime + stime) of a process in microseconds, and its peak RSS (VmHWM) in KiB; zeros once
/// the process is gone.
pub fn cpu_and_peak(pid: u32) -> (u64, u64) {
    let ticks = 100u64; // USER_HZ on Linux
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, a)| a).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
    let stime: u64 = fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    ((utime + stime) * 1_000_000 / ticks, hwm)
}

/// The `p` quantile (0..=1) of sorted microsecond values, in milliseconds (NaN when empty).
pub fn percentile_ms(sorted: &[i64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[idx] as f64 / 1000.0
}

/// An environment variable parsed as `T`, or `default` when unset; exits with a message when set
/// but unparsable (a knob silently ignored would measure something else than asked).
pub fn knob<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Err(_) => default,
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            eprintln!("{name}={v:?} is not a valid value");
            std::process::exit(2)
        }),
    }
}

/// What `wrk --latency` reports.
#[derive(Debug, Clone, Copy, Default)]
pub struct WrkReport {
    /// Requests completed.
    pub requests: u64,
    /// Requests per second.
    pub rps: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Answers that were not 2xx or 3xx.
    pub non_2xx: u64,
    /// Connect, read, write and timeout errors, summed.
    pub socket_errors: u64,
}

/// Parses `wrk --latency` output (missing figures stay 0 or NaN).
pub fn parse_wrk(out: &str) -> WrkReport {
    let ms = |s: &str| -> f64 {
        let s = s.trim();
        if let Some(v) = s.strip_suffix("us") {
            v.parse::<f64>().unwrap_or(f64::NAN) / 1000.0
        } else if let Some(v) = s.strip_suffix("ms") {
            v.parse().unwrap_or(f64::NAN)
        } else if let Some(v) = s.strip_suffix('s') {
            v.parse::<f64>().unwrap_or(f64::NAN) * 1000.0
        } else {
            f64::NAN
        }
    };
    let line = |prefix: &str| out.lines().map(str::trim).find(|l| l.starts_with(prefix));
    let field = |prefix: &str| {
        line(prefix)
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("")
            .to_owned()
    };
    let requests = out
        .lines()
        .map(str::trim)
        .find(|l| l.contains(" requests in "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let socket_errors = line("Socket errors:")
        .map(|l| {
            l.split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    let non_2xx = line("Non-2xx or 3xx responses:")
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    WrkReport {
        requests,
        rps: field("Requests/sec:").parse().unwrap_or(f64::NAN),
        p50_ms: ms(&field("50%")),
        p99_ms: ms(&field("99%")),
        non_2xx,
        socket_errors,
    }
}

/// The benches' rollout gate (over every builtin identify shape: 28 probes) and its token.
pub const GATE: &str = "bench-gate";
/// `server.gate_token` of the benches' configs with a gate.
pub const GATE_TOKEN: &str = "bench-gate-token-0123";

/// Adds `server.gate_token` and [`GATE`] against the emulator's `region` every `every` to the
/// config at `cfg`.
pub fn add_gate(
    cfg: &std::path::Path,
    emu_port: u16,
    region: &str,
    every: &str,
) -> std::io::Result<()> {
    let text = std::fs::read_to_string(cfg)?;
    let text = text.replacen(
        "[server]\n",
        &format!("[server]\ngate_token = \"{GATE_TOKEN}\"\n"),
        1,
    ) + &format!(
        "[[gate]]\nid = \"{GATE}\"\nbase_url = \"http://127.0.0.1:{emu_port}/{region}/api/v1/\"\nvars = {{ environment_key = \"test-env-key\", identifier = \"bench-user\" }}\nprobes = [\"flagsmith.*.identify\"]\nevery = \"{every}\"\n"
    );
    std::fs::write(cfg, text)
}
