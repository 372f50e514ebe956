//! P2 archive tier (OpenText → S3). To be built: see the lifecycle issue.

use records_domain::LifecycleEvent;

use crate::{Deps, Handled, Invocation, WorkerError};

/// Archive settings from the environment (bucket, defaults).
#[derive(Debug, Clone, Default)]
pub struct ArchiveConfig {
    pub bucket: Option<String>,
}

impl ArchiveConfig {
    pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            bucket: get("ARCHIVE_BUCKET").filter(|v| !v.is_empty()),
        }
    }
}

pub async fn on_event(
    _deps: &Deps,
    event: &LifecycleEvent,
    _inv: &Invocation,
) -> Result<Handled, WorkerError> {
    Ok(Handled::Nothing(format!(
        "{} not handled yet",
        event.event_type.as_str()
    )))
}
