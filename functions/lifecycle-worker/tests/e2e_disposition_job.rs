//! P4 at scale, end to end: a disposition batch above `DISPOSITION_JOB_THRESHOLD` is handed
//! by the real `lifecycle-worker` binary to an S3 Batch Operations job: batch items,
//! a manifest in the audit bucket and one CreateJob over S3 Control's wire protocol. The job
//! runs in local-stack's job engine (moto serves no job API), which invokes the real
//! `disposition-batch-task` binary per version and writes AWS's completion report; the
//! worker, through its own delayed "look again" messages, folds that report into one signed
//! certificate. A hold placed after the plan, before the job runs, is caught by the task's
//! re-check: that version stays, and the certificate and OpenText say why.

mod disposition_support;
mod governance_support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::types::{ObjectLockLegalHold, ObjectLockLegalHoldStatus};
use disposition_support::*;
use governance_support::*;
use local_stack::batch_operations::LocalBatchOperations;
use local_stack::function::FunctionProcess;
use local_stack::stack::Stack;
use records_domain::disposition::{RefusalReason, VersionDisposal, verify};

/// The `disposition-batch-task` binary beside this package's (`make test` builds every
/// function before any test runs; Cargo exposes only a package's own binaries).
fn task_binary() -> PathBuf {
    let worker = PathBuf::from(env!("CARGO_BIN_EXE_lifecycle-worker"));
    let task = worker.with_file_name(format!(
        "disposition-batch-task{}",
        std::env::consts::EXE_SUFFIX
    ));
    assert!(
        task.exists(),
        "{} is not built: run `cargo build --workspace` (make test builds it)",
        task.display()
    );
    task
}

/// The worker with a job threshold of one record, the task function beside it, and the
/// local job engine invoking that task.
async fn scale_stack() -> (Stack, LocalBatchOperations, FunctionProcess) {
    let mut stack = stack().await;
    let task = stack
        .companion(&task_binary(), "DispositionBatchTaskFunction", false)
        .await
        .expect("the task function starts");
    let engine = LocalBatchOperations::start(stack.s3(), Arc::new(task.runtime))
        .await
        .expect("job engine");
    stack
        .restart_function(BTreeMap::from([
            ("DISPOSITION_JOB_THRESHOLD".to_string(), "1".to_string()),
            ("DISPOSITION_JOB_CHECK_SECONDS".to_string(), "1".to_string()),
            ("AWS_ENDPOINT_URL_S3_CONTROL".to_string(), engine.url()),
        ]))
        .await
        .expect("worker restarts");
    (stack, engine, task.function)
}

/// Drains the lifecycle queue (the worker's delayed checks included) until a certificate is
/// written, or a minute has passed.
async fn drain_until_certified(stack: &Stack) -> Vec<String> {
    let started = Instant::now();
    let mut failed = Vec::new();
    while started.elapsed() < Duration::from_secs(60) {
        for r in stack.drain(5).await.expect("drain") {
            failed.extend(r.failed_ids);
        }
        if !certificates(stack).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    failed
}

#[tokio::test]
async fn a_batch_above_the_threshold_goes_to_one_job_whose_report_makes_the_certificate() {
    let (stack, engine, _task) = scale_stack().await;
    let (a, a_versions) = expired_record(&stack, "ledger-a-2010", 2).await;
    let (b, b_versions) = expired_record(&stack, "ledger-b-2010", 1).await;
    let qdate = approved_snapshot(&stack, &[a, b], "2026-12-01T11:00:00").await;

    // The job is created but waits (as AWS's do in Preparing).
    engine.hold_jobs();
    let failed = send(&stack, &approved("disp-job-1", &qdate, false)).await;
    assert!(failed.is_empty(), "{}", failed_logs(&stack, &failed));
    let jobs = engine.jobs();
    assert_eq!(jobs.len(), 1, "one job: {jobs:#?}");
    let job = &jobs[0];
    assert_eq!(
        job.function_arn,
        stack.resource_arn("DispositionBatchTaskFunction")
    );
    assert_eq!(
        job.role_arn,
        stack.resource_arn("DispositionBatchOperationsRole")
    );
    assert_eq!(job.invocation_schema_version, "2.0");
    let batch_id = job
        .user_arguments
        .get("dispositionBatchId")
        .expect("the batch id")
        .clone();
    assert!(
        job.manifest
            .object_arn
            .contains("/batch-operations/manifests/")
    );
    assert!(
        job.report
            .prefix
            .as_deref()
            .is_some_and(|p| p.starts_with("batch-operations/reports/"))
    );
    assert!(!job.confirmation_required);
    // The worker itself deleted nothing.
    for v in a_versions.iter().chain(&b_versions) {
        assert!(!gone(&stack, v).await, "{} still there", v.version_id);
    }

    // After the plan, before the tasks: an S3 legal hold on one of A's versions.
    let held = &a_versions[1];
    stack
        .s3()
        .put_object_legal_hold()
        .bucket(&held.bucket)
        .key(&held.key)
        .version_id(&held.version_id)
        .legal_hold(
            ObjectLockLegalHold::builder()
                .status(ObjectLockLegalHoldStatus::On)
                .build(),
        )
        .send()
        .await
        .unwrap();
    engine.release_jobs();

    let failed = drain_until_certified(&stack).await;
    assert!(failed.is_empty(), "{}", failed_logs(&stack, &failed));
    assert!(gone(&stack, &a_versions[0]).await);
    assert!(gone(&stack, &b_versions[0]).await);
    assert!(!gone(&stack, held).await, "the held version stays");

    let certs = certificates(&stack).await;
    assert_eq!(certs.len(), 1, "one certificate");
    let cert = verify(&certs[0].1, &public_key(&stack).await)
        .expect("it verifies")
        .certificate;
    assert_eq!(cert.certificate_id, batch_id);
    let deleted: Vec<(&str, bool)> = cert
        .records
        .iter()
        .flat_map(|r| r.versions.iter())
        .map(|v| {
            (
                v.version_id.as_str(),
                matches!(v.disposal, VersionDisposal::Deleted { .. }),
            )
        })
        .collect();
    assert!(deleted.contains(&(a_versions[0].version_id.as_str(), true)));
    assert!(deleted.contains(&(b_versions[0].version_id.as_str(), true)));
    assert!(
        !deleted.iter().any(|(v, _)| *v == held.version_id),
        "the held version is not certified as destroyed: {deleted:?}"
    );
    let refused = cert
        .refused
        .iter()
        .find(|r| r.node_id == a)
        .expect("A is refused in part");
    assert!(
        refused.reasons.iter().any(|n| matches!(
            &n.reason,
            RefusalReason::BatchTaskDidNotDelete { version, detail, .. }
                if version.version_id == held.version_id && detail.contains("legal hold")
        )),
        "{refused:?}"
    );
    // OpenText: B's disposition action performed; A not.
    let b_view = stack.sim_admin(&format!("nodes/{b}")).await.unwrap();
    assert_eq!(b_view["deleted"], true, "{b_view}");
    let a_view = stack.sim_admin(&format!("nodes/{a}")).await.unwrap();
    assert_ne!(a_view["deleted"], true, "{a_view}");

    // Delivered again: no second job, no second certificate.
    let failed = send(&stack, &approved("disp-job-2", &qdate, false)).await;
    assert!(failed.is_empty(), "{}", failed_logs(&stack, &failed));
    assert_eq!(engine.jobs().len(), 1);
    assert_eq!(certificates(&stack).await.len(), 1);
}
