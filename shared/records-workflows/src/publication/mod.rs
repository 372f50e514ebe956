//! P7 controlled publication (OpenText → S3 → CloudFront). A request to publish (a move into a
//! publish folder, the approval set, an API call through the intake) and every later change
//! of the document (a new version, a hold, the approval taken back, a withdrawal, its
//! disposition) are handled the same way: OpenText is asked what holds now, every gate is
//! checked (classified, approved, declared, not held, the latest approved version), and the
//! publication bucket is made to match: the approved version written once, a replaced or
//! withdrawn copy removed with all its S3 versions and invalidated on the distribution.
//! Every refusal and every removal is audited with its reason and kept on the item.
//!
//! One workflow item per node (`publication#{node}`) on the one runner: claimed, leased,
//! saved before each effect (`writing`, `removing`), and resting between events in
//! `published`, `refused` or `withdrawn`.

mod facts;
mod run;

use records_aws::cdn::Invalidations;
use records_aws::publication_bucket::PublicationBucket;
use records_aws::workflow_store::WorkflowStore;
use records_domain::publication::{
    PublicationProgress, PublicationState, publication_workflow_key,
};
use records_domain::workflow::WorkflowState;
use records_domain::{AuditAction, AuditEvent, LifecycleEvent, LifecycleEventType, Outcome};

use crate::lifecycle::{Deps, Handled};
use crate::runner::{Claimed, Lease};
use crate::{Invocation, StepError};
use run::{Cause, Run};

/// The stack's publication bucket and distribution, built once per cold start.
#[derive(Clone)]
pub struct PublicationDeps {
    pub bucket: PublicationBucket,
    /// Invalidations of the distribution serving `public/` (None: no distribution).
    pub cdn: Option<Invalidations>,
    /// `https://<distribution domain>`: public copies' URLs start here.
    pub base_url: Option<String>,
}

/// The environment's publication settings: `PUBLICATION_BUCKET`, and with a distribution
/// `PUBLICATION_DISTRIBUTION_ID` and `PUBLICATION_BASE_URL`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicationConfig {
    pub bucket: String,
    pub distribution_id: Option<String>,
    pub base_url: Option<String>,
}

impl PublicationConfig {
    pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Option<Self> {
        let set = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        Some(PublicationConfig {
            bucket: set("PUBLICATION_BUCKET")?,
            distribution_id: set("PUBLICATION_DISTRIBUTION_ID"),
            base_url: set("PUBLICATION_BASE_URL"),
        })
    }
}

fn workflow_store(deps: &Deps) -> WorkflowStore {
    // Never finished: every state is claimed again by the node's next event.
    WorkflowStore::new(
        deps.dynamodb.clone(),
        deps.workflow_table.clone(),
        PublicationState::Claimed.as_str(),
        &[],
    )
}

/// A lifecycle event, as far as publication is concerned.
pub async fn on_event(
    deps: &Deps,
    event: &LifecycleEvent,
    inv: &Invocation,
) -> Result<Handled, StepError> {
    let records_policy = deps.policy.get();
    let Some(policy) = records_policy.publication.as_ref() else {
        return Ok(Handled::Nothing(
            "the policy has no publication section".into(),
        ));
    };
    let cause = if event.event_type == LifecycleEventType::PublicationWithdrawn {
        Cause::Withdrawal
    } else if policy.requested_by(event) {
        Cause::Request
    } else if event.event_type == LifecycleEventType::PublicationRequested {
        return refuse_request(deps, event, inv).await;
    } else {
        Cause::Change
    };
    if matches!(cause, Cause::Change | Cause::Withdrawal)
        && publication_of(deps, event.node_id).await?.is_none()
    {
        // Nothing was ever asked for this node: no item, nothing to do.
        return Ok(Handled::Nothing(format!(
            "node {} has no publication",
            event.node_id
        )));
    }
    let Some(publish) = deps.publication.as_ref() else {
        return Err(StepError::Permanent(
            "PUBLICATION_BUCKET is not configured; cannot publish".into(),
        ));
    };
    let key = publication_workflow_key(event.node_id);
    let owner = format!("lifecycle-worker/{}/{}", inv.request_id, event.event_id);
    let (lease, claimed) = Lease::claim(
        workflow_store(deps),
        key.as_str(),
        owner,
        inv.lease(),
        PublicationState::Claimed.as_str(),
        "{}",
    )
    .await?;
    let item = match claimed {
        Claimed::Acquired { item, .. } | Claimed::Done(item) | Claimed::Ended(item) => item,
    };
    let mut run = Run {
        deps,
        publish,
        policy,
        inv,
        ot: deps.opentext.with_deadline(inv.opentext_deadline()),
        lease: lease.clone(),
        key,
        node_id: event.node_id,
        state: PublicationState::Claimed,
        progress: PublicationProgress::default(),
    };
    let result = match (
        PublicationState::parse(&item.state),
        progress_of(&item.detail),
    ) {
        (Some(state), Ok(progress)) => {
            run.state = state;
            run.progress = progress;
            run.drive(event, cause).await
        }
        (None, _) => Err(StepError::Permanent(format!(
            "unknown publication state {:?}",
            item.state
        ))),
        (_, Err(e)) => Err(e),
    };
    lease
        .settle(result, |reason| async move { run.fail(&reason).await })
        .await
}

/// `publication.requested` where the policy takes no requests through the intake: refused
/// and audited; whatever else stands for the node is left as it is.
async fn refuse_request(
    deps: &Deps,
    event: &LifecycleEvent,
    inv: &Invocation,
) -> Result<Handled, StepError> {
    let reason = "publication.requested is not a trigger of the policy's publication section \
                  (add `request` to its triggers to take requests through the intake)";
    let ev = AuditEvent::new(
        &format!(
            "{}-request-refused-{}",
            publication_workflow_key(event.node_id).external_identity(),
            event.event_id
        ),
        &crate::now_rfc3339(),
        deps.actor.clone(),
        AuditAction::Publish,
        Outcome::Denied,
    )
    .with_record(event.node_id, event.version)
    .with_correlation_id(inv.request_id.clone())
    .with_reason(reason);
    deps.audit.append(&ev).await?;
    Ok(Handled::Nothing(format!(
        "node {}: {reason}",
        event.node_id
    )))
}

/// P4: a record whose content was destroyed under a disposition certificate loses its
/// published copy too (nothing of a destroyed record stays readable).
pub async fn take_down_disposed(
    deps: &Deps,
    node_id: u64,
    reason: &str,
    inv: &Invocation,
) -> Result<Handled, StepError> {
    let event = LifecycleEvent {
        schema: records_domain::lifecycle::LIFECYCLE_SCHEMA,
        event_id: format!("disposed-{node_id}"),
        event_type: LifecycleEventType::PublicationWithdrawn,
        node_id,
        version: None,
        occurred_at: crate::now_rfc3339(),
        actor: records_domain::lifecycle::LifecycleActor {
            user_id: None,
            name: None,
        },
        data: [("reason".to_string(), serde_json::Value::from(reason))].into(),
        source: None,
    };
    on_event(deps, &event, inv).await
}

/// The node's publication item (state as stored, progress), if there is one.
pub async fn publication_of(
    deps: &Deps,
    node_id: u64,
) -> Result<Option<(String, PublicationProgress)>, StepError> {
    let key = publication_workflow_key(node_id);
    let Some(item) = workflow_store(deps).get(key.as_str()).await? else {
        return Ok(None);
    };
    Ok(Some((item.state, progress_of(&item.detail)?)))
}

fn progress_of(detail: &str) -> Result<PublicationProgress, StepError> {
    if detail.trim().is_empty() || detail.trim() == "{}" {
        return Ok(PublicationProgress::default());
    }
    serde_json::from_str(detail)
        .map_err(|e| StepError::Permanent(format!("publication detail is unreadable: {e}")))
}
