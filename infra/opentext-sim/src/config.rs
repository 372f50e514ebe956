//! Run-time configuration of the simulator (CLI flags and `SimConfig` for in-process tests).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Everything needed to start a simulator. `Default` listens on 127.0.0.1:0 with the shipped seed.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub listen: SocketAddr,
    /// `None` = the seed shipped in `seed/default.json`.
    pub seed: Option<PathBuf>,
    /// `None` = a temp dir removed when the server is dropped.
    pub data_dir: Option<PathBuf>,
    pub ticket_idle_timeout: Duration,
    pub faults: Faults,
    pub multipart: MultipartSettings,
    /// The server clock's offset: RM dates are written zone-less in it (default UTC).
    pub time_zone: time::UtcOffset,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: None,
            data_dir: None,
            ticket_idle_timeout: Duration::from_secs(30 * 60),
            faults: Faults::default(),
            multipart: MultipartSettings::default(),
            time_zone: time::UtcOffset::UTC,
        }
    }
}

/// Standing fault settings; same JSON shape as `GET/PUT /sim/admin/faults`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Faults {
    pub latency_ms: u64,
    /// HTTP status (as a string key, e.g. "503") to probability 0.0..=1.0.
    pub error_rates: BTreeMap<String, f64>,
    pub drop_rate: f64,
    /// Sent as `Retry-After` on injected errors when set.
    pub retry_after_secs: Option<u64>,
}

impl Faults {
    /// Parses a `--error-rate 503=0.1` flag value into `error_rates`.
    pub fn add_error_rate(&mut self, spec: &str) -> Result<(), String> {
        let (code, rate) = spec
            .split_once('=')
            .ok_or_else(|| format!("expected STATUS=RATE, got {spec:?}"))?;
        let status: u16 = code
            .trim()
            .parse()
            .map_err(|_| format!("bad status {code:?}"))?;
        if !(100..=599).contains(&status) {
            return Err(format!("status {status} out of range"));
        }
        let rate: f64 = rate
            .trim()
            .parse()
            .map_err(|_| format!("bad rate {rate:?}"))?;
        if !(0.0..=1.0).contains(&rate) {
            return Err(format!("rate {rate} must be within 0..=1"));
        }
        self.error_rates.insert(status.to_string(), rate);
        Ok(())
    }
}

/// Large-file (chunked) upload settings, as `GET /api/v2/multipart/settings` reports them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MultipartSettings {
    pub is_enabled: bool,
    pub min_size: u64,
    pub max_size: u64,
    pub part_size: u64,
}

impl Default for MultipartSettings {
    fn default() -> Self {
        const MIB: u64 = 1024 * 1024;
        Self {
            is_enabled: true,
            // Low enough that everyday files (and the suite) go through the chunked API, as
            // on servers that chunk from a few MiB; tests also run with 1 B and 64 MiB minimums.
            min_size: 5 * MIB,
            max_size: 10 * 1024 * MIB,
            part_size: 5 * MIB,
        }
    }
}
