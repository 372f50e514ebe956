//! Shared state of one running simulator.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use serde::Serialize;

use crate::auth::Tickets;
use crate::config::MultipartSettings;
use crate::faults::FaultState;
use crate::multipart::UploadSession;
use crate::store::Store;

pub type AppState = Arc<Sim>;

#[derive(Debug, Clone, Serialize)]
pub struct RequestLog {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub user: Option<String>,
}

pub struct Sim {
    pub store: RwLock<Store>,
    pub tickets: Mutex<Tickets>,
    /// OTDS tokens (minted by the admin API or `/otdsws/...`) to user id.
    pub otds_tokens: Mutex<HashMap<String, i64>>,
    /// OTDS OAuth clients, authorization codes and token lifetimes ([`crate::otds_oauth`]).
    pub otds_oauth: Mutex<crate::otds_oauth::OAuthState>,
    pub faults: Mutex<FaultState>,
    pub requests: Mutex<Vec<RequestLog>>,
    pub uploads: Mutex<HashMap<String, UploadSession>>,
    pub multipart: MultipartSettings,
    pub ticket_idle: Duration,
    /// The server clock's offset, for the zone-less RM dates ([`crate::dates`]).
    pub time_zone: time::UtcOffset,
    /// Finished content, one file per version.
    pub blob_dir: PathBuf,
    /// Request bodies while they stream in.
    pub tmp_dir: PathBuf,
    /// Chunked-upload parts, one directory per session.
    pub upload_dir: PathBuf,
}

/// Poisoning only follows a panic elsewhere; keep serving rather than cascade.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Sim {
    pub fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(|e| e.into_inner())
    }
    pub fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(|e| e.into_inner())
    }
}
