//! `mimic emulate`: only the emulated Edge API, with its fault control.

use super::*;

pub(super) async fn emulate(listen: std::net::SocketAddr, regions: Vec<String>) -> ExitCode {
    use crate::demo::emulator::{Emulator, EmulatorConfig};
    let ids: Vec<&str> = regions
        .iter()
        .map(String::as_str)
        .filter(|r| !r.is_empty())
        .collect();
    if ids.is_empty() {
        return bad_input("--regions needs at least one region id");
    }
    let emulator = match Emulator::start(listen, EmulatorConfig::with_regions(&ids)).await {
        Ok(e) => e,
        Err(e) => return bad_input(format!("cannot listen on {listen}: {e}")),
    };
    println!("emulated Edge API on http://{}", emulator.addr());
    for r in &ids {
        println!("  {r}: {}", emulator.base_url(r));
    }
    println!("environment key: test-env-key   server key: ser.test-server-key");
    println!(
        "faults: POST http://{}/__faults {{\"region\": \"*\", \"fault\": \"require_traits_key\"}} (also flaky:<percent>)",
        emulator.addr()
    );
    shutdown_signal().await;
    emulator.shutdown().await;
    ExitCode::SUCCESS
}
