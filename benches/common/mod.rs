//! Helpers shared by the benches: free ports, a 1000-probe config, starting the real binary.

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
    let mut text = format!(
        "[server]\nlisten = \"{listen}\"\ndatabase = \"sqlite://{}\"\n\n[[component]]\nid = \"edge-api\"\nname = \"Edge API\"\n\n[[region]]\nid = \"eu-west-2\"\n\n[[target]]\ncomponent = \"edge-api\"\nregion = \"eu-west-2\"\nbase_url = \"http://127.0.0.1:{emu_port}/eu-west-2/api/v1/\"\nvars = {{ environment_key = \"test-env-key\" }}\n\n",
        dir.join("bench.db").display()
    );
    for i in 0..PROBES {
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

/// Starts the real binary with `args`, output discarded.
pub fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_mimic"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            eprintln!("cannot start mimic: {e}");
            std::process::exit(1)
        })
}
