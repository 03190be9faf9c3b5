//! Helpers shared by the stories: the emulator, configs, the daemon, the real binary.

pub mod app;
pub mod binary;
pub mod browser;
pub mod config;
pub mod controllers;
pub mod daemon;
pub mod lock;
pub mod receiver;
pub mod shapes;
pub mod smtp;
pub mod store;

pub use mimic::demo::emulator::{Emulator, EmulatorConfig, Fault};

/// The three regions most stories use.
pub const REGIONS: [&str; 3] = ["eu-west-2", "us-east-2", "ap-southeast-1"];

/// Starts the emulated Edge API on a free loopback port.
pub async fn emulator(regions: &[&str]) -> Emulator {
    Emulator::start(
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        EmulatorConfig::with_regions(regions),
    )
    .await
    .unwrap_or_else(|e| panic!("emulator did not start: {e}"))
}
