//! opentext-sim: a local OpenText Content Server / Extended ECM Records Management simulator.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let sim = opentext_sim::SimServer::start(opentext_sim::SimConfig::default()).await?;
//! println!("{}", sim.base_url()); // http://127.0.0.1:PORT/otcs/cs.exe
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

pub mod admin;
pub mod audit;
pub mod auth;
pub mod categories;
pub mod config;
pub mod conn;
pub mod content;
pub mod dates;
pub mod disposition;
pub mod envelope;
pub mod error;
pub mod faults;
pub mod holds;
pub mod info;
pub mod model;
pub mod multipart;
pub mod node_view;
pub mod nodes;
pub mod otds_oauth;
pub mod permissions;
pub mod perms;
pub mod request;
pub mod rm;
pub mod routes;
pub mod rsis;
pub mod search;
pub mod seed;
pub mod state;
pub mod store;
pub mod versions;
pub mod well_known;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{Faults, MultipartSettings, SimConfig};
pub use faults::OneShot;

use crate::conn::{ConnHandle, KillListener};
use crate::faults::FaultState;
use crate::state::{AppState, Sim};

/// A running simulator. Dropping it stops the server (and removes a temp data dir).
pub struct SimServer {
    addr: SocketAddr,
    sim: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    _tmp: Option<tempfile::TempDir>,
}

impl SimServer {
    pub async fn start(cfg: SimConfig) -> anyhow::Result<SimServer> {
        let (root, tmp) = match &cfg.data_dir {
            Some(d) => (d.clone(), None),
            None => {
                let t = tempfile::Builder::new().prefix("opentext-sim-").tempdir()?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        let dir = |name: &str| -> anyhow::Result<PathBuf> {
            let p = root.join(name);
            std::fs::create_dir_all(&p).with_context(|| format!("creating {}", p.display()))?;
            Ok(p)
        };
        let (blob_dir, tmp_dir, upload_dir) = (dir("blobs")?, dir("tmp")?, dir("uploads")?);
        let store = seed::load(cfg.seed.as_deref(), &blob_dir)?;
        let sim = Arc::new(Sim {
            store: RwLock::new(store),
            tickets: Mutex::new(auth::Tickets::default()),
            otds_tokens: Mutex::new(HashMap::new()),
            otds_oauth: Mutex::default(),
            faults: Mutex::new(FaultState {
                standing: cfg.faults.clone(),
                next: Vec::new(),
            }),
            requests: Mutex::new(Vec::new()),
            uploads: Mutex::new(HashMap::new()),
            multipart: cfg.multipart.clone(),
            ticket_idle: cfg.ticket_idle_timeout,
            time_zone: cfg.time_zone,
            blob_dir,
            tmp_dir,
            upload_dir,
        });
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .with_context(|| format!("binding {}", cfg.listen))?;
        let addr = listener.local_addr()?;
        let app = routes::app(sim.clone()).into_make_service_with_connect_info::<ConnHandle>();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve =
                axum::serve(KillListener(listener), app).with_graceful_shutdown(async move {
                    let _ = stopped.await;
                });
            if let Err(e) = serve.await {
                tracing::error!("server error: {e}");
            }
        });
        Ok(SimServer {
            addr,
            sim,
            stop: Some(stop),
            task: Some(task),
            _tmp: tmp,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/otcs/cs.exe`
    pub fn base_url(&self) -> String {
        format!("http://{}/otcs/cs.exe", self.addr)
    }

    /// `http://127.0.0.1:PORT/sim/admin`
    pub fn admin_url(&self) -> String {
        format!("http://{}/sim/admin", self.addr)
    }

    /// Shared state, for in-process assertions.
    pub fn state(&self) -> &AppState {
        &self.sim
    }

    /// Stops accepting, lets in-flight requests finish (up to 5 s), then stops.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
