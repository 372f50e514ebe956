//! The local S3 Batch Operations engine's refusals (S3 Control error codes), suspended
//! jobs, failed-tasks-only reports, and jobs that fail: as AWS answers them.

mod batch_operations_support;

use batch_operations_support::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_sdk_s3control::error::ProvideErrorMetadata;
use aws_sdk_s3control::operation::create_job::CreateJobError;
use aws_sdk_s3control::types as ctl;
use local_stack::batch_operations::{FnInvoker, JobStatus, LocalBatchOperations, TaskInvoker};
use records_aws::batch_operations::{
    BatchOpsError, JobState, ManifestLocation, create_job, describe_job, manifest_csv,
    write_manifest,
};
use records_domain::ObjectVersion;
use serde_json::{Value, json};

#[tokio::test]
async fn refused_requests_surface_s3_control_error_codes() {
    let (_moto, sdk) = test_support::stack::moto().await;
    let s3 = local_stack::s3_client(&sdk);
    s3.create_bucket().bucket("audit").send().await.unwrap();
    versioned_bucket(&s3, "gov").await;
    let v = put_version(&s3, "gov", "a.pdf").await;
    let manifest = write_manifest(&s3, "audit", "m.csv", &manifest_csv(&[v]).unwrap())
        .await
        .unwrap();
    let script = Arc::new(Script::default());
    let server = LocalBatchOperations::start(s3.clone(), invoker(&script))
        .await
        .unwrap();
    let control = control(&sdk, server.url());
    let control_error = |e: BatchOpsError| match e {
        BatchOpsError::Control { code, message, .. } => (code, message),
        other => panic!("{other:?}"),
    };

    let wrong_etag = ManifestLocation {
        etag: "0123456789abcdef0123456789abcdef".into(),
        ..manifest.clone()
    };
    let err = create_job(&control, &spec("b-etag", wrong_etag, "audit"))
        .await
        .unwrap_err();
    let (code, message) = control_error(err);
    assert_eq!(code, "InvalidManifest");
    assert!(
        message.starts_with("HTTP 400: ") && message.contains("does not match"),
        "{message}"
    );
    let absent = ManifestLocation {
        key: "no-such.csv".into(),
        ..manifest.clone()
    };
    let (code, _) = control_error(
        create_job(&control, &spec("b-absent", absent, "audit"))
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "InvalidManifest");

    // Same token, other parameters: refused rather than silently the first job.
    let job_id = create_job(&control, &spec("b-1", manifest.clone(), "audit"))
        .await
        .unwrap();
    let mut other = spec("b-1", manifest.clone(), "audit");
    other.priority = 99;
    let (code, message) = control_error(create_job(&control, &other).await.unwrap_err());
    assert_eq!(code, "IdempotencyException", "{message}");
    assert_eq!(server.jobs().len(), 1);
    assert_eq!(wait_done(&control, &job_id).await.state, JobState::Complete);

    let (code, message) = control_error(
        describe_job(&control, ACCOUNT, "no-such-job")
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "NoSuchJobException");
    assert!(message.starts_with("HTTP 404: "), "{message}");
    let (code, _) = control_error(
        describe_job(&control, "210987654321", &job_id)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        code, "NoSuchJobException",
        "another account's job is not found"
    );

    // What the local engine does not run is refused by name.
    let lambda = lambda_invoke(Some("2.0"));
    let job_manifest = csv_manifest(&manifest.etag);
    let no_report = ctl::JobReport::builder().enabled(false).build();
    let request = || {
        control
            .create_job()
            .account_id(ACCOUNT)
            .priority(1)
            .role_arn(ROLE)
            .operation(lambda.clone())
            .manifest(job_manifest.clone())
            .report(no_report.clone())
    };
    let refused = |e: aws_sdk_s3control::error::SdkError<CreateJobError>| {
        let e = e.into_service_error();
        (
            e.code().unwrap_or_default().to_string(),
            e.message().unwrap_or_default().to_string(),
        )
    };
    let (code, message) = refused(request().set_role_arn(None).send().await.unwrap_err());
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("InvalidRequest", "RoleArn is required")
    );
    let (code, message) = refused(request().set_operation(None).send().await.unwrap_err());
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("InvalidRequest", "Operation is required")
    );
    let tagging = ctl::JobOperation::builder()
        .s3_delete_object_tagging(ctl::S3DeleteObjectTaggingOperation::builder().build())
        .build();
    let (code, message) = refused(request().operation(tagging).send().await.unwrap_err());
    assert_eq!(code, "InvalidRequest");
    assert!(
        message.contains("S3DeleteObjectTagging is not supported"),
        "{message}"
    );
    let schema_1 = lambda_invoke(None);
    let (_, message) = refused(request().operation(schema_1).send().await.unwrap_err());
    assert!(
        message.contains("InvocationSchemaVersion \"1.0\""),
        "{message}"
    );
    let inventory = ctl::JobManifest::builder()
        .spec(
            ctl::JobManifestSpec::builder()
                .format(ctl::JobManifestFormat::S3InventoryReportCsv20161130)
                .build()
                .unwrap(),
        )
        .location(job_manifest.location().unwrap().clone())
        .build();
    let (_, message) = refused(request().manifest(inventory).send().await.unwrap_err());
    assert!(
        message.contains("S3InventoryReport_CSV_20161130 is not supported"),
        "{message}"
    );
    // A job without a report runs and writes none.
    let quiet = request()
        .send()
        .await
        .expect("no report")
        .job_id()
        .unwrap()
        .to_string();
    assert_eq!(wait_done(&control, &quiet).await.state, JobState::Complete);

    // Off the SDK's path: broken bodies, a missing account header, other operations.
    let http = reqwest::Client::new();
    let jobs_url = format!("{}/v20180820/jobs", server.url());
    let r = http
        .post(&jobs_url)
        .header("x-amz-account-id", ACCOUNT)
        .body("<CreateJobRequest><RoleArn>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("<ErrorResponse><Error><Code>MalformedXML</Code>"),
        "{body}"
    );
    let r = http
        .post(&jobs_url)
        .body("<CreateJobRequest/>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("x-amz-account-id header is required")
    );
    for (method, path) in [
        ("GET", "/v20180820/jobs"),
        ("POST", "/v20180820/jobs/x/status"),
        ("GET", "/"),
    ] {
        let url = format!("{}{path}", server.url());
        let r = http
            .request(method.parse().unwrap(), url)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 501, "{method} {path}");
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("<Code>NotImplemented</Code>")
        );
    }
}

#[tokio::test]
async fn confirmation_suspends_and_failed_tasks_only_reports_just_failures() {
    let (_moto, sdk) = test_support::stack::moto().await;
    let s3 = local_stack::s3_client(&sdk);
    versioned_bucket(&s3, "gov").await;
    s3.create_bucket().bucket("audit").send().await.unwrap();
    let versions = vec![
        put_version(&s3, "gov", "ok a.pdf").await,
        put_version(&s3, "gov", "legal/held.pdf").await,
    ];
    let manifest = write_manifest(&s3, "audit", "m.csv", &manifest_csv(&versions).unwrap())
        .await
        .unwrap();
    let script = Arc::new(Script::default());
    let server = LocalBatchOperations::start(s3.clone(), invoker(&script))
        .await
        .unwrap();
    let control = control(&sdk, server.url());
    // The ETag as S3 answers it, in quotes: accepted too.
    let job_manifest = csv_manifest(&format!("\"{}\"", manifest.etag));
    let create = |confirm: bool, scope: ctl::JobReportScope| {
        control
            .create_job()
            .account_id(ACCOUNT)
            .confirmation_required(confirm)
            .priority(5)
            .role_arn(ROLE)
            .operation(lambda_invoke(Some("2.0")))
            .manifest(job_manifest.clone())
            .report(
                ctl::JobReport::builder()
                    .bucket("arn:aws:s3:::audit")
                    .prefix(PREFIX)
                    .format(ctl::JobReportFormat::ReportCsv20180820)
                    .enabled(true)
                    .report_scope(scope)
                    .build(),
            )
            .send()
    };

    let suspended = create(true, ctl::JobReportScope::AllTasks).await.unwrap();
    let suspended = suspended.job_id().unwrap();
    let status = describe_job(&control, ACCOUNT, suspended).await.unwrap();
    assert_eq!(
        (status.state, status.status.as_str()),
        (JobState::Waiting, "Suspended")
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        script.payloads.lock().unwrap().is_empty(),
        "a suspended job runs nothing"
    );

    // The SDK made up its own ClientRequestToken: a second job.
    let failed_only = create(false, ctl::JobReportScope::FailedTasksOnly)
        .await
        .unwrap();
    let failed_only = failed_only.job_id().unwrap();
    assert_ne!(failed_only, suspended);
    let status = wait_done(&control, failed_only).await;
    assert_eq!((status.succeeded, status.failed), (Some(1), Some(1)));
    let (rows, statuses) = report_rows(&s3, "audit", failed_only).await;
    assert_eq!(statuses, ["failed"]);
    assert_eq!(rows.keys().collect::<Vec<_>>(), ["legal/held.pdf"]);
    let jobs = server.jobs();
    assert_eq!(
        jobs.iter().map(|j| j.status).collect::<Vec<_>>(),
        [JobStatus::Suspended, JobStatus::Complete]
    );
    assert_eq!(jobs[1].report.scope.as_deref(), Some("FailedTasksOnly"));
}

/// A job fails as AWS fails one: when its report cannot be written, and when more than
/// half of at least 1,000 tasks failed (then it stops invoking, and still reports).
#[tokio::test]
async fn jobs_fail_on_an_unwritable_report_and_past_the_failure_threshold() {
    let (_moto, sdk) = test_support::stack::moto().await;
    let s3 = local_stack::s3_client(&sdk);
    s3.create_bucket().bucket("audit").send().await.unwrap();
    // 1,200 versions (never read: the task below refuses every one at once).
    let versions: Vec<ObjectVersion> = (0..1200)
        .map(|i| ObjectVersion::new("gov", &format!("k/{i}"), Some("v1")))
        .collect();
    let manifest = write_manifest(&s3, "audit", "big.csv", &manifest_csv(&versions).unwrap())
        .await
        .unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let refuse_all: Arc<dyn TaskInvoker> = Arc::new(FnInvoker(move |p: Value| {
        counted.fetch_add(1, Ordering::SeqCst);
        async move {
            Ok(
                json!({"invocationSchemaVersion": "2.0", "invocationId": p["invocationId"],
                "results": [{"taskId": p["tasks"][0]["taskId"],
                    "resultCode": "PermanentFailure", "resultString": "refused: hold"}]}),
            )
        }
    }));
    let server = LocalBatchOperations::start(s3.clone(), refuse_all)
        .await
        .unwrap();
    let control = control(&sdk, server.url());

    let job_id = create_job(&control, &spec("b-big", manifest.clone(), "audit"))
        .await
        .unwrap();
    let status = wait_done(&control, &job_id).await;
    assert_eq!(
        (status.state, status.status.as_str()),
        (JobState::Ended, "Failed")
    );
    assert!(
        status.reasons[0].starts_with("TaskFailureThresholdExceeded: "),
        "{:?}",
        status.reasons
    );
    let failed = status.failed.unwrap();
    assert_eq!(status.total, Some(1200));
    assert!((1000..1004).contains(&failed), "{failed} tasks ran");
    assert_eq!(calls.load(Ordering::SeqCst) as i64, failed);
    let (rows, statuses) = report_rows(&s3, "audit", &job_id).await;
    assert_eq!(
        (statuses, rows.len() as i64),
        (vec!["failed".to_string()], failed)
    );

    let empty = write_manifest(&s3, "audit", "empty.csv", "").await.unwrap();
    let empty = create_job(&control, &spec("b-empty", empty, "audit"))
        .await
        .unwrap();
    let status = wait_done(&control, &empty).await;
    assert_eq!(
        (status.state, status.total, status.reasons.len()),
        (JobState::Ended, Some(0), 1)
    );
    assert!(status.reasons[0].starts_with("EmptyManifest: "));

    let small = manifest_csv(&versions[..2]).unwrap();
    let small = write_manifest(&s3, "audit", "small.csv", &small)
        .await
        .unwrap();
    let nowhere = create_job(&control, &spec("b-nowhere", small, "nowhere"))
        .await
        .unwrap();
    let status = wait_done(&control, &nowhere).await;
    assert_eq!(status.state, JobState::Ended);
    assert_eq!(status.failed, Some(2));
    let reason = status.reasons.join("; ");
    assert_eq!(status.reasons.len(), 1, "{reason}");
    assert!(
        reason.starts_with("ReportWriteFailed: Writing the report s3://nowhere/")
            && reason.contains("NoSuchBucket"),
        "{reason}"
    );
}
