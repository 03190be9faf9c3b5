//! Writes test configs: the emulator's regions as targets, short intervals, a fresh SQLite file.

use super::Emulator;
use std::fmt::Write;
use std::path::PathBuf;

/// The admin token every test config sets.
pub const ADMIN_TOKEN: &str = "test-admin-token";

/// The gate token `TestConfig::gate` sets (`server.gate_token`).
pub const GATE_TOKEN: &str = "test-gate-token-0123";

/// Probe variables for identify shapes: a fixed identifier, no traits.
pub const IDENT: &str = "vars = { identifier = \"mimic-probe\" }";

/// A config under construction plus the temporary folder it lives in.
pub struct TestConfig {
    /// The folder holding the config and the database.
    pub dir: tempfile::TempDir,
    text: String,
}

impl TestConfig {
    /// `[server]`, one `edge-api` component and a target per region of the emulator.
    pub fn new(emulator: &Emulator, regions: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let db = dir.path().join("mimic.db");
        let mut text = format!(
            "[server]\nlisten = \"127.0.0.1:0\"\ndatabase = \"sqlite://{}\"\nadmin_token = \"{ADMIN_TOKEN}\"\n\n[[component]]\nid = \"edge-api\"\nname = \"Edge API\"\n\n",
            db.display()
        );
        for r in regions {
            let _ = write!(text, "[[region]]\nid = \"{r}\"\n\n");
        }
        for r in regions {
            let _ = write!(
                text,
                "[[target]]\ncomponent = \"edge-api\"\nregion = \"{r}\"\nbase_url = \"{}\"\nvars = {{ environment_key = \"test-env-key\" }}\n\n",
                emulator.base_url(r)
            );
        }
        Self { dir, text }
    }

    /// Adds a probe of `shape` every `every`, with extra TOML lines (e.g. `vars = {...}`).
    pub fn probe(mut self, id: &str, shape: &str, every: &str, extra: &str) -> Self {
        let _ = write!(
            self.text,
            "[[probe]]\nid = \"{id}\"\ncomponent = \"edge-api\"\nshape = \"{shape}\"\nevery = \"{every}\"\ntimeout = \"2s\"\n{extra}\n\n"
        );
        self
    }

    /// Sets `[detect]`: failures to open, successes to recover, quiet time before resolving.
    pub fn detect(self, failures: u32, successes: u32, quiet: &str) -> Self {
        self.raw(&format!(
            "[detect]\nfailures_to_open = {failures}\nsuccesses_to_recover = {successes}\nresolve_after_quiet = \"{quiet}\"\n"
        ))
    }

    /// Sets `server.gate_token` to [`GATE_TOKEN`] and adds a `[[gate]]` of `body` (its TOML lines).
    pub fn gate(mut self, body: &str) -> Self {
        if !self.text.contains("\ngate_token = ") {
            self.text = self.text.replacen(
                "\nadmin_token = ",
                &format!("\ngate_token = \"{GATE_TOKEN}\"\nadmin_token = "),
                1,
            );
        }
        self.raw(&format!("[[gate]]\n{body}"))
    }

    /// Appends raw TOML.
    pub fn raw(mut self, toml: &str) -> Self {
        self.text.push_str(toml);
        self.text.push('\n');
        self
    }

    /// The config text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Writes `mimic.toml` and returns its path.
    pub fn write(&self) -> PathBuf {
        let path = self.dir.path().join("mimic.toml");
        std::fs::write(&path, &self.text).unwrap_or_else(|e| panic!("write config: {e}"));
        path
    }

    /// Writes the config and loads it the way `mimic serve` does.
    pub fn load(&self) -> mimic::config::Config {
        let path = self.write();
        mimic::config::Config::load(&path).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The SQLite file path.
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("mimic.db")
    }
}
