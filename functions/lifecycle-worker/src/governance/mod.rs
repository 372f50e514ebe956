//! P3 governance of S3-resident content (OpenText → S3). To be built: see the lifecycle issue.

use records_domain::LifecycleEvent;

use crate::{Deps, Handled, Invocation, WorkerError};

/// Governance settings from the environment.
#[derive(Debug, Clone, Default)]
pub struct GovernanceConfig {}

impl GovernanceConfig {
    pub fn from_env(_get: &dyn Fn(&str) -> Option<String>) -> Self {
        Self {}
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
