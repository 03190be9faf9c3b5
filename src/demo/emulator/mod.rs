//! An emulated Flagsmith Edge API with per-region fault injection, for demos
//! and tests: the public API, shared state, and starting/stopping the server.
//!
//! Every region serves `/{region}/api/v1/...`; `/__faults` and `/__requests`
//! control faults and expose the request log over HTTP.

mod api;
mod body;
mod conn;
mod cors;
mod faults;
mod fixtures;
mod flaky;
mod identity;
mod log;
mod router;
#[cfg(test)]
mod test_client;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_cors;
#[cfg(test)]
mod tests_faults;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::SeedableRng;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use cors::{HeaderToken, Origin};
pub use faults::{Fault, FaultError, RegionFaults};
pub use flaky::{FlakyFailure, FlakyRate};
pub use log::RecordedRequest;

/// One emulated region: its path prefix and the latency it adds to every answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionSpec {
    /// The first path segment, e.g. `eu-west-2`.
    pub id: String,
    /// Added before every answer from this region.
    pub latency: Duration,
}

/// What the emulator serves: regions and the environment keys it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmulatorConfig {
    /// The regions served, each under `/{id}/api/v1/`.
    pub regions: Vec<RegionSpec>,
    /// Client-side environment keys, accepted for flags, identities and analytics.
    pub environment_keys: Vec<String>,
    /// Server-side keys (`ser.…`), accepted everywhere, and required for the
    /// environment document and bulk identities.
    pub server_keys: Vec<String>,
}

impl EmulatorConfig {
    /// Zero-latency regions with keys `test-env-key` and `ser.test-server-key`.
    pub fn with_regions(ids: &[&str]) -> Self {
        Self {
            regions: ids
                .iter()
                .map(|id| RegionSpec {
                    id: (*id).to_string(),
                    latency: Duration::ZERO,
                })
                .collect(),
            environment_keys: vec!["test-env-key".to_string()],
            server_keys: vec!["ser.test-server-key".to_string()],
        }
    }
}

/// State shared by the accept loop, every connection and the `Emulator` handle.
#[derive(Debug)]
pub(crate) struct State {
    /// Region id to its configured latency.
    regions: BTreeMap<String, Duration>,
    environment_keys: Vec<String>,
    server_keys: Vec<String>,
    faults: Mutex<BTreeMap<String, RegionFaults>>,
    /// Draws `flaky` failures; seeded from entropy unless `Emulator::seed_random` is called.
    rng: Mutex<StdRng>,
    log: log::RequestLog,
}

impl State {
    fn new(config: EmulatorConfig) -> Self {
        let regions: BTreeMap<String, Duration> = config
            .regions
            .into_iter()
            .map(|r| (r.id, r.latency))
            .collect();
        let faults = regions
            .keys()
            .map(|id| (id.clone(), RegionFaults::default()))
            .collect();
        Self {
            regions,
            environment_keys: config.environment_keys,
            server_keys: config.server_keys,
            faults: Mutex::new(faults),
            rng: Mutex::new(StdRng::from_entropy()),
            log: log::RequestLog::default(),
        }
    }

    fn lock_faults(&self) -> MutexGuard<'_, BTreeMap<String, RegionFaults>> {
        // The map is always whole between statements, so a poisoned lock is still usable.
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The faults currently set for a region (healthy if unknown).
    fn fault(&self, region: &str) -> RegionFaults {
        self.lock_faults().get(region).cloned().unwrap_or_default()
    }

    /// Every region's faults.
    fn faults_snapshot(&self) -> BTreeMap<String, RegionFaults> {
        self.lock_faults().clone()
    }

    /// Draws whether one request of a region with this rate fails, and how.
    fn draw_flaky(&self, rate: FlakyRate) -> Option<FlakyFailure> {
        if rate.is_zero() {
            return None;
        }
        // The generator is always whole between draws, so a poisoned lock is still usable.
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        rate.draw(&mut *rng)
    }

    /// Changes one region's faults, or every region's with `None`.
    fn set_fault(
        &self,
        region: Option<&str>,
        change: faults::FaultChange,
    ) -> Result<(), FaultError> {
        let mut faults = self.lock_faults();
        match region {
            None => faults.values_mut().for_each(|f| f.apply(&change)),
            Some(id) => match faults.get_mut(id) {
                Some(f) => f.apply(&change),
                None => return Err(FaultError::UnknownRegion(id.to_string())),
            },
        }
        tracing::info!(
            region = region.unwrap_or("*"),
            ?change,
            "emulator: fault set"
        );
        Ok(())
    }
}

/// A running emulator; serving stops on `shutdown()` or when this is dropped.
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<State>,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Binds `listen` (port 0 picks a free port) and serves in a background task.
    pub async fn start(listen: SocketAddr, config: EmulatorConfig) -> std::io::Result<Emulator> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::new(config));
        let stop = CancellationToken::new();
        let task = tokio::spawn(conn::accept_loop(listener, state.clone(), stop.clone()));
        Ok(Emulator {
            addr,
            state,
            stop,
            task: Some(task),
        })
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The SDK base URL for a region, e.g. `http://127.0.0.1:41234/eu-west-2/api/v1/`.
    pub fn base_url(&self, region: &str) -> String {
        // A wildcard bind address is not something a client can connect to.
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let host = SocketAddr::new(ip, self.addr.port());
        format!("http://{host}/{region}/api/v1/")
    }

    /// Sets a region's fault (`None` = every region); an unknown region is an error.
    /// `Fault::Flaky` sets only the noise rate, `Fault::None` clears both layers,
    /// any other fault replaces only the behaviour fault.
    pub fn set_fault(&self, region: Option<&str>, fault: Fault) -> Result<(), FaultError> {
        self.state.set_fault(region, fault.into())
    }

    /// Every region's current behaviour fault (its flaky rate is in `region_faults`).
    pub fn faults(&self) -> BTreeMap<String, Fault> {
        let all = self.state.faults_snapshot();
        all.into_iter().map(|(id, f)| (id, f.fault)).collect()
    }

    /// Every region's flaky rate and behaviour fault.
    pub fn region_faults(&self) -> BTreeMap<String, RegionFaults> {
        self.state.faults_snapshot()
    }

    /// Reseeds the generator behind `flaky` so a run's failures can be replayed.
    pub fn seed_random(&self, seed: u64) {
        let mut rng = self.state.rng.lock().unwrap_or_else(|e| e.into_inner());
        *rng = StdRng::seed_from_u64(seed);
    }

    /// The recorded requests (at most the last 1000), newest last.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.log.snapshot()
    }

    /// How many requests other than CORS preflights arrived since start or the
    /// last clear (the log keeps only 1000), i.e. one per SDK call.
    pub fn request_count(&self) -> u64 {
        self.state.log.total()
    }

    /// How many CORS preflights arrived since start or the last clear; they are
    /// in `requests()` too (as `OPTIONS`), but not in `request_count()`.
    pub fn preflight_count(&self) -> u64 {
        self.state.log.preflights()
    }

    /// Forgets all recorded requests.
    pub fn clear_requests(&self) {
        self.state.log.clear();
    }

    /// Stops accepting, cuts hanging connections, and waits for the server to finish.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            if let Err(e) = task.await {
                tracing::warn!(error = %e, "emulator: server task failed");
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Dropping without shutdown() still stops the background task promptly.
        self.stop.cancel();
    }
}
