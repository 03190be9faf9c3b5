//! The demo: an emulated multi-region Edge API that can inject the 2024-01-18 fault.

pub mod emulator;
