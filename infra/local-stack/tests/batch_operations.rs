//! The local S3 Batch Operations engine against moto, driven by the real S3 Control SDK
//! client and read back with records-aws's own job and report code: what P4's disposition
//! workflow will meet locally. Refusals and failing jobs: `batch_operations_refusals.rs`.

mod batch_operations_support;

use batch_operations_support::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use aws_sdk_s3control::types as ctl;
use local_stack::batch_operations::{JobStatus, LocalBatchOperations, TaskInvoker};
use records_aws::batch_operations::{
    JobState, TaskOutcome, create_job, encode_key, manifest_csv, write_manifest,
};
use serde_json::{Value, json};

#[tokio::test]
async fn a_job_invokes_the_task_per_version_and_reports_every_outcome() {
    let (_moto, sdk) = test_support::stack::moto().await;
    let s3 = local_stack::s3_client(&sdk);
    versioned_bucket(&s3, "gov").await;
    s3.create_bucket().bucket("audit").send().await.unwrap();
    worm_bucket(&s3, "reports").await;
    let mut keys = vec![
        "finance/a.pdf",
        UNICODE_KEY,
        "legal/held.pdf",
        "flaky/retry.pdf",
        "always/busy.pdf",
        "boom.pdf",
        "missing.pdf",
    ];
    let bulk: Vec<String> = (0..8).map(|i| format!("bulk/{i}.pdf")).collect();
    keys.extend(bulk.iter().map(String::as_str));
    let mut versions = Vec::new();
    for k in &keys {
        versions.push(put_version(&s3, "gov", k).await);
    }
    let csv = manifest_csv(&versions).unwrap();
    let manifest = write_manifest(&s3, "audit", "batch-ops/manifests/b-1.csv", &csv)
        .await
        .unwrap();

    let script = Arc::new(Script::default());
    let server = LocalBatchOperations::start(s3.clone(), invoker(&script))
        .await
        .unwrap();
    let control = control(&sdk, server.url());
    let spec = spec("b-1", manifest.clone(), "reports");
    let job_id = create_job(&control, &spec).await.expect("create");
    let again = create_job(&control, &spec).await.expect("create again");
    assert_eq!(again, job_id, "same ClientRequestToken, same job");

    let status = wait_done(&control, &job_id).await;
    assert_eq!(status.state, JobState::Complete, "{status:?}");
    assert_eq!(status.status, "Complete");
    assert_eq!(
        (status.total, status.succeeded, status.failed),
        (Some(15), Some(11), Some(4))
    );
    assert!(status.reasons.is_empty(), "{:?}", status.reasons);

    // CreateJob's request as the server read it off the wire.
    let jobs = server.jobs();
    assert_eq!(jobs.len(), 1, "one job for two CreateJob calls");
    let job = &jobs[0];
    assert_eq!(job.job_id, job_id);
    assert_eq!(job.account_id, ACCOUNT);
    assert_eq!(
        job.client_request_token,
        records_aws::batch_operations::client_request_token("b-1")
    );
    assert_eq!(job.function_arn, FUNCTION);
    assert_eq!(job.invocation_schema_version, "2.0");
    assert_eq!(
        job.user_arguments,
        BTreeMap::from([("dispositionBatchId".to_string(), "b-1".to_string())])
    );
    assert_eq!(
        job.manifest.object_arn,
        "arn:aws:s3:::audit/batch-ops/manifests/b-1.csv"
    );
    assert_eq!(job.manifest.etag, manifest.etag);
    assert_eq!(job.manifest.version_id, manifest.version_id);
    assert_eq!(job.manifest.fields, ["Bucket", "Key", "VersionId"]);
    assert_eq!(
        job.report.bucket_arn.as_deref(),
        Some("arn:aws:s3:::reports")
    );
    assert_eq!(job.report.prefix.as_deref(), Some(PREFIX));
    assert_eq!(job.report.scope.as_deref(), Some("AllTasks"));
    assert_eq!((job.role_arn.as_str(), job.priority), (ROLE, 10));
    assert!(!job.confirmation_required);
    assert_eq!(job.status, JobStatus::Complete);
    assert!(job.termination_date.is_some());

    // The invocation events: schema 2.0, keys exactly as in the manifest.
    let payloads = script.payloads.lock().unwrap().clone();
    for p in &payloads {
        assert_eq!(p["invocationSchemaVersion"], "2.0");
        assert!(!p["invocationId"].as_str().unwrap().is_empty());
        assert_eq!(
            p["job"],
            json!({"id": job_id, "userArguments": {"dispositionBatchId": "b-1"}})
        );
        assert_eq!(p["tasks"].as_array().unwrap().len(), 1);
    }
    let unicode = versions.iter().find(|v| v.key == UNICODE_KEY).unwrap();
    let sent = payloads
        .iter()
        .map(|p| &p["tasks"][0])
        .find(|t| t["s3Key"] == encode_key(UNICODE_KEY).as_str())
        .expect("the unicode key's task");
    assert_eq!(sent["s3Bucket"], "gov");
    assert_eq!(sent["s3VersionId"], unicode.version_id.as_str());
    assert_eq!(
        encode_key(UNICODE_KEY),
        "legal/%C3%BCn%C3%AF%20c%C3%B4de%20%E2%82%AC/x%2By%3Dz%201%25.pdf"
    );
    let attempts = script.attempts.lock().unwrap().clone();
    assert_eq!(
        attempts["flaky/retry.pdf"], 2,
        "a TemporaryFailure is retried"
    );
    assert_eq!(attempts["always/busy.pdf"], 3, "and given up after 3 tries");
    assert_eq!(attempts["legal/held.pdf"], 1, "a PermanentFailure is not");
    assert_eq!(attempts["boom.pdf"], 1);
    assert_eq!(payloads.len(), 15 + 1 + 2);
    let max = script.max_in_flight.load(Ordering::SeqCst);
    assert!((2..=4).contains(&max), "{max} invocations at once");

    // The completion report, read as the workflow reads it.
    let (rows, statuses) = report_rows(&s3, "reports", &job_id).await;
    assert_eq!(statuses, ["succeeded", "failed"]);
    assert_eq!(rows.len(), 15);
    for v in &versions {
        let row = &rows[&v.key];
        assert_eq!(
            (row.bucket.as_str(), row.version_id.as_str()),
            ("gov", v.version_id.as_str())
        );
        assert_eq!(row.raw_key, encode_key(&v.key));
        assert_eq!(row.http_status, Some(200));
    }
    assert!(
        matches!(rows["finance/a.pdf"].outcome, TaskOutcome::Deleted { .. }),
        "{:?}",
        rows["finance/a.pdf"]
    );
    assert!(
        matches!(rows["flaky/retry.pdf"].outcome, TaskOutcome::Deleted { .. }),
        "{:?}",
        rows["flaky/retry.pdf"]
    );
    assert!(
        matches!(rows["bulk/7.pdf"].outcome, TaskOutcome::Deleted { .. }),
        "{:?}",
        rows["bulk/7.pdf"]
    );
    assert_eq!(rows[UNICODE_KEY].outcome, TaskOutcome::AlreadyGone);
    assert_eq!(
        rows["legal/held.pdf"].outcome,
        TaskOutcome::Refused("record 101 is under hold 6100".into())
    );
    let failed = |key: &str| match &rows[key].outcome {
        TaskOutcome::Failed {
            error_code,
            message,
        } => (error_code.clone(), message.clone()),
        other => panic!("{key}: {other:?}"),
    };
    assert_eq!(
        failed("always/busy.pdf"),
        ("TemporaryFailure".into(), BUSY_MESSAGE.into())
    );
    let (code, message) = failed("boom.pdf");
    assert_eq!(code, "PermanentFailure");
    assert_eq!(
        message,
        r#"Lambda returned function error: {"errorType":"Panic","errorMessage":"boom"}"#
    );
    let (code, message) = failed("missing.pdf");
    assert_eq!(code, "PermanentFailure");
    assert!(
        message.contains("missing from the Lambda response"),
        "{message}"
    );

    // DescribeJob as the SDK parses it, beyond what records-aws reads.
    let out = control
        .describe_job()
        .account_id(ACCOUNT)
        .job_id(&job_id)
        .send()
        .await
        .unwrap();
    let d = out.job().unwrap();
    assert_eq!(
        d.job_arn(),
        Some(format!("arn:aws:s3:us-east-1:{ACCOUNT}:job/{job_id}").as_str())
    );
    assert_eq!(d.priority(), 10);
    assert_eq!(d.role_arn(), Some(ROLE));
    assert_eq!(d.description(), Some("records-bridge disposition b-1"));
    assert!(d.creation_time().is_some() && d.termination_date().is_some());
    assert!(d.termination_date().unwrap() >= d.creation_time().unwrap());
    let report = d.report().unwrap();
    assert!(report.enabled());
    assert_eq!(report.report_scope(), Some(&ctl::JobReportScope::AllTasks));
    assert_eq!(report.prefix(), Some(PREFIX));
    let lambda = d.operation().unwrap().lambda_invoke().unwrap();
    assert_eq!(
        lambda.user_arguments().unwrap()["dispositionBatchId"],
        "b-1"
    );
    let location = d.manifest().unwrap().location().unwrap();
    assert_eq!(location.e_tag(), manifest.etag);
}

/// The Runtime API emulator as the task: the function's response comes back as the
/// invocation's answer, its error body as the error.
#[tokio::test]
async fn the_runtime_api_is_a_task_invoker() {
    let runtime = Arc::new(
        local_stack::runtime_api::RuntimeApi::start("disposition-batch-task")
            .await
            .unwrap(),
    );
    let base = format!("http://{}/2018-06-01/runtime/invocation", runtime.address());
    // A fake function: answers the first invocation, fails the second.
    let function = tokio::spawn(async move {
        let http = reqwest::Client::new();
        for n in 0..2 {
            let next = http.get(format!("{base}/next")).send().await.unwrap();
            let id = next.headers()["lambda-runtime-aws-request-id"]
                .to_str()
                .unwrap()
                .to_string();
            let event: Value = next.json().await.unwrap();
            let (path, body) = if n == 0 {
                ("response", json!({"echo": event["invocationId"]}))
            } else {
                ("error", json!({"errorType": "Boom", "errorMessage": "no"}))
            };
            http.post(format!("{base}/{id}/{path}"))
                .json(&body)
                .send()
                .await
                .unwrap();
        }
    });
    let task: Arc<dyn TaskInvoker> = runtime.clone();
    let ok = task.invoke(json!({"invocationId": "i-1"})).await.unwrap();
    assert_eq!(ok, json!({"echo": "i-1"}));
    let err = task
        .invoke(json!({"invocationId": "i-2"}))
        .await
        .unwrap_err();
    let body: Value = serde_json::from_str(&err.to_string()).unwrap();
    assert_eq!(body, json!({"errorType": "Boom", "errorMessage": "no"}));
    function.await.unwrap();
}
