//! mimic's integration tests: one binary, one user story per file, through public surfaces
//! (the CLI binary, HTTP over loopback, a real SQLite file).

mod shapes;
mod support;
