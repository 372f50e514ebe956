//! P4, second half: an approved disposition destroys the S3 content of its records, with a
//! signed certificate.
//!
//! A `disposition.approved` event (a callback through the intake, or the poller reading the
//! snapshot) names an RM disposition search and its snapshot (`qdate`). The batch is one
//! claimed, leased, resumable workflow item (the one runner), its progress saved after each
//! step ([`progress`]):
//! 1. the snapshot's approved items whose action destroys content are frozen as the batch;
//! 2. per record, [`checks`] re-reads OpenText's holds, the RSI's disposition date and each
//!    linked version's legal hold and retention, and the domain's `decide` says destroy or
//!    refuse (every reason). Destroy deletes each version (`DeleteObject` with its version
//!    id), saving its deletion time at once; a refusal deletes nothing and is audited;
//! 3. the certificate (records, RSIs, every bucket/key/version id with SHA-256 and size,
//!    the approval, the deletion times, the refusals) is canonicalised, signed with the
//!    stack's KMS key and written once to the WORM audit bucket;
//! 4. OpenText is told: the destroyed records' disposition actions are performed, each
//!    refusal goes back to the review as a rejection with its reason.
//!
//! A dry run (`data.dry_run`) makes the same plan and a certificate draft (`dry_run: true`
//! in the signed document) and deletes and reports nothing.
//!
//! A batch of more records than the stack's threshold hands step 2's deletions to an S3
//! Batch Operations job ([`job`]) and certifies from its completion report.

pub mod checks;
mod job;
mod opentext_report;
mod progress;
mod run;

pub use job::{DispositionJobs, JobProgress, JobsConfig, MANIFEST_PREFIX, REPORT_PREFIX};
pub use progress::{BatchRecord, DispositionProgress, RecordOutcome};

use records_aws::certificate_signer::CertificateSigner;
use records_aws::certificate_store::CertificateStore;
use records_domain::{IdempotencyKey, LifecycleEvent};

use crate::lifecycle::{Deps, Handled};
use crate::runner::{Claimed, Lease};
use crate::{Invocation, StepError};

/// The disposition's own clients, built once per cold start (`None` in a stack deployed
/// without the signing key and audit bucket: dispositions are then refused, never run
/// without a certificate).
pub struct DispositionDeps {
    pub signer: CertificateSigner,
    pub store: CertificateStore,
    /// Large batches through S3 Batch Operations (None: the worker deletes every batch).
    pub jobs: Option<DispositionJobs>,
}

/// RM action codes that destroy content: 32 Destroy, 12 Delete Electronic Format.
pub const DESTROYING_ACTIONS: [i64; 2] = [32, 12];

/// The batch's certificate id: the search and its snapshot (`disp-7100-20261201T093000`);
/// a dry run's draft carries its event id, so every dry run is a draft of its own.
pub fn certificate_id(search_id: u64, qdate: &str, dry_run_event: Option<&str>) -> String {
    let mut id = format!("disp-{search_id}-{}", snapshot_stamp(qdate));
    if let Some(event_id) = dry_run_event {
        let tail: String = event_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .take(64)
            .collect();
        id.push_str("-draft-");
        id.push_str(&tail);
    }
    id
}

/// A snapshot's date as an id part (`2026-12-01T09:30:00` → `20261201T093000`): the same
/// for the batch's certificate and the poller's event, whatever form the server wrote.
pub fn snapshot_stamp(qdate: &str) -> String {
    qdate
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(32)
        .collect()
}

pub async fn on_approved(
    deps: &Deps,
    event: &LifecycleEvent,
    inv: &Invocation,
) -> Result<Handled, StepError> {
    let Some(disposition) = deps.disposition.as_ref() else {
        return Err(StepError::Permanent(
            "dispositions need CERTIFICATE_KEY_ID and AUDIT_BUCKET: nothing is destroyed without a signed certificate".into(),
        ));
    };
    let qdate = event
        .data
        .get("qdate")
        .and_then(|v| v.as_str())
        .ok_or_else(|| StepError::Permanent("disposition.approved without data.qdate".into()))?
        .to_string();
    let dry_run = event
        .data
        .get("dry_run")
        .is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("true"));
    let id = certificate_id(
        event.node_id,
        &qdate,
        dry_run.then_some(event.event_id.as_str()),
    );
    let key = IdempotencyKey::from_parts("disposition", &[&id]);
    let owner = format!("lifecycle-worker/{}/{}", inv.request_id, event.event_id);
    let (lease, claimed) = Lease::claim(
        run::workflow_store(deps),
        key.as_str(),
        owner,
        inv.lease(),
        run::states::CLAIMED,
        "{}",
    )
    .await?;
    let item = match claimed {
        Claimed::Acquired { item, .. } => item,
        Claimed::Done(_) => {
            return Ok(Handled::Nothing(format!(
                "disposition {id} is already done"
            )));
        }
        Claimed::Ended(item) => {
            return Err(StepError::Permanent(format!(
                "disposition {id} failed earlier: {}",
                item.detail
            )));
        }
    };
    let mut run = run::Run {
        deps,
        disposition,
        inv,
        event,
        lease: lease.clone(),
        key,
        state: item.state.clone(),
        progress: serde_json::from_str(&item.detail).ok(),
        qdate,
        dry_run,
        certificate_id: id,
    };
    let result = run.drive().await;
    lease
        .settle(result, |reason| async move { run.fail(&reason).await })
        .await
}
