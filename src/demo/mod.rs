//! The demo: an emulated multi-region Edge API that can inject the 2024-01-18 fault, the demo's
//! built-in config, and the scripted replay behind `mimic demo`.

pub mod config;
pub mod emulator;
pub mod replay;
