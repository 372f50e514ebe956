//! P4's S3 Batch Operations task: for each object version of a large disposition, re-check
//! (fresh from OpenText and S3) that no hold applies and retention has ended, then delete
//! that version for good. The job's completion report carries each result string back to
//! the disposition workflow (see `records_aws::batch_operations`).
//!
//! - [`event`]: the invocation schema 2.0 payload and answer;
//! - [`task`]: one task's decision and deletion.
//!
//! One task's failure (or panic) is that task's result only; the invocation always answers
//! every task it could read.

pub mod event;
pub mod task;

use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use records_aws::audit_log::AuditLog;
use records_aws::batch_operations::{BATCH_ID_ARGUMENT, BatchItems};
use records_aws::object_lock::ObjectLock;
use records_aws::policy_handle::PolicyHandle;
use records_domain::{Actor, AuditAction, AuditEvent, Outcome};
use sha2::{Digest, Sha256};

use event::{BatchInvocation, BatchResponse, EventError, ResultCode, Task, TaskResult};
use task::Done;

/// What the handler needs, built once per sandbox.
pub struct Deps {
    pub s3: aws_sdk_s3::Client,
    pub lock: ObjectLock,
    pub items: BatchItems,
    pub audit: AuditLog,
    pub opentext: opentext_client::Client,
    pub policy: PolicyHandle,
    pub actor: Actor,
}

/// Answers one invocation. Err only when the payload is not a schema-2.0 invocation.
pub async fn handle(
    deps: &Deps,
    payload: serde_json::Value,
    request_id: &str,
) -> Result<BatchResponse, EventError> {
    let inv = BatchInvocation::parse(payload)?;
    deps.policy.refresh_if_due().await;
    let event_statuses = deps.policy.get().business_events.event_statuses();
    let batch_id = inv
        .job
        .user_arguments
        .as_ref()
        .and_then(|a| a.get(BATCH_ID_ARGUMENT))
        .filter(|b| !b.trim().is_empty())
        .cloned();
    let mut results = Vec::with_capacity(inv.tasks.len());
    for raw in &inv.tasks {
        // A task without an id cannot be answered; `treatMissingKeysAs` fails it.
        let Some(task_id) = raw.get("taskId").and_then(|t| t.as_str()) else {
            tracing::warn!(job = %inv.job.id, "task without a taskId skipped");
            continue;
        };
        let ctx = Context {
            job_id: &inv.job.id,
            invocation_id: &inv.invocation_id,
            task_id,
            request_id,
            batch_id: batch_id.as_deref(),
        };
        let done = AssertUnwindSafe(one(deps, &ctx, raw, &event_statuses))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Done {
                code: ResultCode::TemporaryFailure,
                message: "internal error while checking this task (logged); nothing deleted".into(),
                version: None,
                node_id: None,
                sha256: None,
            });
        audit(deps, &ctx, &done).await;
        results.push(TaskResult {
            task_id: task_id.to_string(),
            result_code: done.code,
            result_string: done.message,
        });
    }
    Ok(BatchResponse {
        invocation_schema_version: event::SCHEMA_VERSION.into(),
        treat_missing_keys_as: ResultCode::PermanentFailure,
        invocation_id: inv.invocation_id,
        results,
    })
}

struct Context<'a> {
    job_id: &'a str,
    invocation_id: &'a str,
    task_id: &'a str,
    request_id: &'a str,
    batch_id: Option<&'a str>,
}

async fn one(
    deps: &Deps,
    ctx: &Context<'_>,
    raw: &serde_json::Value,
    event_statuses: &BTreeSet<String>,
) -> Done {
    let fail = |why: String| Done {
        code: ResultCode::PermanentFailure,
        message: why,
        version: None,
        node_id: None,
        sha256: None,
    };
    let task: Task = match serde_json::from_value(raw.clone()) {
        Ok(t) => t,
        Err(e) => return fail(format!("malformed task: {e}")),
    };
    let version = match task::version_of(&task) {
        Ok(v) => v,
        Err(why) => return fail(why),
    };
    let Some(batch_id) = ctx.batch_id else {
        return Done {
            version: Some(version),
            ..fail(format!(
                "the job carries no {BATCH_ID_ARGUMENT} in its UserArguments"
            ))
        };
    };
    let mut done = task::run(deps, batch_id, &version, event_statuses).await;
    done.version = Some(version);
    done
}

/// One audit event per outcome (the event id is fixed per task attempt, so a retried
/// write is a no-op). A failed audit write is logged; the result stands.
async fn audit(deps: &Deps, ctx: &Context<'_>, done: &Done) {
    let (outcome, kind) = match done.code {
        ResultCode::Succeeded => (Outcome::Succeeded, "succeeded"),
        ResultCode::PermanentFailure => (Outcome::Skipped, "refused"),
        ResultCode::TemporaryFailure => (Outcome::Failed, "retry"),
    };
    let id = hex::encode(Sha256::digest(
        format!(
            "{}\n{}\n{}\n{kind}",
            ctx.job_id, ctx.task_id, ctx.invocation_id
        )
        .as_bytes(),
    ));
    let mut event = AuditEvent::new(
        &id[..32],
        &records_workflows::now_rfc3339(),
        deps.actor.clone(),
        AuditAction::Dispose,
        outcome,
    )
    .with_reason(&done.message)
    .with_correlation_id(ctx.request_id)
    .with_detail("batch_operations_job", ctx.job_id)
    .with_detail("task_id", ctx.task_id)
    .with_detail("result_code", format!("{:?}", done.code));
    if let Some(b) = ctx.batch_id {
        event = event.with_detail("disposition_batch", b);
    }
    if let Some(v) = &done.version {
        event = event.with_object(v.clone());
    }
    if let Some(n) = done.node_id {
        event = event.with_record(n, None);
    }
    if let Some(sha) = &done.sha256 {
        event = event.with_sha256(sha);
    }
    if let Err(e) = deps.audit.append(&event).await {
        tracing::error!(error = %e, task = ctx.task_id, "audit event not written");
    }
}
