//! The real `mimic` binary, as a user or a CI pipeline runs it.

use std::process::{Command, Output};

/// A command for the built binary.
pub fn mimic() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mimic"))
}

/// Runs the binary with `args` off the async runtime and returns its output.
pub async fn run(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || mimic().args(&args).output())
        .await
        .unwrap_or_else(|e| panic!("join: {e}"))
        .unwrap_or_else(|e| panic!("running mimic: {e}"))
}

/// stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
