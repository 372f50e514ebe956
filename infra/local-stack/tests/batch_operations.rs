//! The local S3 Batch Operations engine against moto, driven by the real S3 Control SDK
//! client and read back with records-aws's own job and report code: what P4's disposition
//! workflow will meet locally.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketVersioningStatus, DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled,
    ObjectLockRetentionMode, ObjectLockRule, VersioningConfiguration,
};
use aws_sdk_s3control::error::ProvideErrorMetadata;
use aws_sdk_s3control::operation::create_job::CreateJobError;
use aws_sdk_s3control::types as ctl;
use local_stack::batch_operations::{FnInvoker, JobStatus, LocalBatchOperations, TaskInvoker};
use records_aws::batch_operations::{
    BatchOpsError, JobSpec, JobState, ManifestLocation, ReportRow, TaskOutcome, create_job,
    decode_key, describe_job, encode_key, manifest_csv, parse_report_csv, parse_report_manifest,
    report_manifest_key, write_manifest,
};
use records_domain::ObjectVersion;
use serde_json::{Value, json};

const ACCOUNT: &str = "123456789012";
const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:disposition-batch-task";
const ROLE: &str = "arn:aws:iam::123456789012:role/rb-batch-ops";
const PREFIX: &str = "batch-ops/reports";

const UNICODE_KEY: &str = "legal/ünï côde €/x+y=z 1%.pdf";
const BUSY_MESSAGE: &str = "OpenText unreachable, \"busy\"";

/// A stand-in for disposition-batch-task: answers by key, counts attempts and how many
/// invocations overlap.
#[derive(Default)]
struct Script {
    payloads: Mutex<Vec<Value>>,
    attempts: Mutex<HashMap<String, usize>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Script {
    async fn answer(&self, payload: Value) -> anyhow::Result<Value> {
        self.payloads.lock().unwrap().push(payload.clone());
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);

        let task = &payload["tasks"][0];
        let task_id = task["taskId"].as_str().unwrap_or_default();
        let key = decode_key(task["s3Key"].as_str().unwrap_or_default())?;
        let attempt = {
            let mut a = self.attempts.lock().unwrap();
            let n = a.entry(key.clone()).or_default();
            *n += 1;
            *n
        };
        let (code, text) = match key.as_str() {
            "boom.pdf" => anyhow::bail!(r#"{{"errorType":"Panic","errorMessage":"boom"}}"#),
            "missing.pdf" => {
                return Ok(json!({"invocationSchemaVersion": "2.0",
                    "treatMissingKeysAs": "PermanentFailure",
                    "invocationId": payload["invocationId"], "results": []}));
            }
            "legal/held.pdf" => ("PermanentFailure", "refused: record 101 is under hold 6100"),
            "flaky/retry.pdf" if attempt == 1 => ("TemporaryFailure", "OpenText unreachable"),
            "always/busy.pdf" => ("TemporaryFailure", BUSY_MESSAGE),
            UNICODE_KEY => ("Succeeded", "already gone"),
            _ => ("Succeeded", "deleted"),
        };
        Ok(
            json!({"invocationSchemaVersion": "2.0", "treatMissingKeysAs": "PermanentFailure",
            "invocationId": payload["invocationId"],
            "results": [{"taskId": task_id, "resultCode": code, "resultString": text}]}),
        )
    }
}

fn invoker(script: &Arc<Script>) -> Arc<dyn TaskInvoker> {
    let script = script.clone();
    Arc::new(FnInvoker(move |payload| {
        let script = script.clone();
        async move { script.answer(payload).await }
    }))
}

fn control(sdk: &aws_config::SdkConfig, url: String) -> aws_sdk_s3control::Client {
    aws_sdk_s3control::Client::from_conf(
        aws_sdk_s3control::config::Builder::from(sdk)
            .endpoint_resolver(records_aws::config::VerbatimEndpoint(url))
            .build(),
    )
}

async fn versioned_bucket(s3: &aws_sdk_s3::Client, name: &str) {
    s3.create_bucket().bucket(name).send().await.unwrap();
    s3.put_bucket_versioning()
        .bucket(name)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// A report bucket with Object Lock and a default retention, as the template's audit
/// bucket is: every PUT into it needs a checksum.
async fn worm_bucket(s3: &aws_sdk_s3::Client, name: &str) {
    s3.create_bucket()
        .bucket(name)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
    let rule = ObjectLockRule::builder()
        .default_retention(
            DefaultRetention::builder()
                .mode(ObjectLockRetentionMode::Governance)
                .days(1)
                .build(),
        )
        .build();
    s3.put_object_lock_configuration()
        .bucket(name)
        .object_lock_configuration(
            ObjectLockConfiguration::builder()
                .object_lock_enabled(ObjectLockEnabled::Enabled)
                .rule(rule)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

async fn put_version(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> ObjectVersion {
    let out = s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from_static(b"record"))
        .send()
        .await
        .unwrap();
    ObjectVersion::new(bucket, key, out.version_id())
}

async fn read(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> String {
    let out = s3.get_object().bucket(bucket).key(key).send().await;
    let body = out.unwrap_or_else(|e| panic!("s3://{bucket}/{key}: {e:?}"));
    String::from_utf8(body.body.collect().await.unwrap().to_vec()).unwrap()
}

fn spec(batch_id: &str, manifest: ManifestLocation, report_bucket: &str) -> JobSpec {
    JobSpec {
        account_id: ACCOUNT.into(),
        batch_id: batch_id.into(),
        function_arn: FUNCTION.into(),
        manifest,
        report_bucket: report_bucket.into(),
        report_prefix: PREFIX.into(),
        role_arn: ROLE.into(),
        priority: 10,
    }
}

/// A CSV manifest of versions at `arn:aws:s3:::audit/m.csv`, as the SDK types spell it.
fn csv_manifest(etag: &str) -> ctl::JobManifest {
    let spec = ctl::JobManifestSpec::builder()
        .format(ctl::JobManifestFormat::S3BatchOperationsCsv20180820)
        .fields(ctl::JobManifestFieldName::Bucket)
        .fields(ctl::JobManifestFieldName::Key)
        .fields(ctl::JobManifestFieldName::VersionId)
        .build()
        .unwrap();
    let location = ctl::JobManifestLocation::builder()
        .object_arn("arn:aws:s3:::audit/m.csv")
        .e_tag(etag)
        .build()
        .unwrap();
    ctl::JobManifest::builder()
        .spec(spec)
        .location(location)
        .build()
}

/// LambdaInvoke of the task with this schema version (`None`: the element left out).
fn lambda_invoke(schema: Option<&str>) -> ctl::JobOperation {
    let op = ctl::LambdaInvokeOperation::builder()
        .function_arn(FUNCTION)
        .set_invocation_schema_version(schema.map(str::to_string))
        .user_arguments("dispositionBatchId", "b-9")
        .build();
    ctl::JobOperation::builder().lambda_invoke(op).build()
}

/// Polls DescribeJob (through records-aws) until the job is no longer running, checking
/// that its status only moves forward (New, Preparing, Active, Completing, Complete).
async fn wait_done(
    control: &aws_sdk_s3control::Client,
    job_id: &str,
) -> records_aws::batch_operations::JobStatus {
    const ORDER: [&str; 6] = [
        "New",
        "Preparing",
        "Active",
        "Completing",
        "Complete",
        "Failed",
    ];
    let mut last = 0;
    for _ in 0..400 {
        let s = describe_job(control, ACCOUNT, job_id)
            .await
            .expect("describe");
        let at = ORDER.iter().position(|o| *o == s.status);
        assert!(
            at.is_some_and(|at| at >= last),
            "{} after {}",
            s.status,
            ORDER[last]
        );
        last = at.unwrap_or(last);
        if s.state != JobState::Running {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("job {job_id} did not finish");
}

/// Every row of the job's report, by decoded key, and the result files' statuses.
async fn report_rows(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    job_id: &str,
) -> (BTreeMap<String, ReportRow>, Vec<String>) {
    let manifest = read(s3, bucket, &report_manifest_key(PREFIX, job_id)).await;
    let files = parse_report_manifest(&manifest).expect("report manifest");
    let mut rows = BTreeMap::new();
    let mut statuses = Vec::new();
    for f in files {
        assert_eq!(f.bucket, bucket);
        let results = format!("{PREFIX}/job-{job_id}/results/");
        assert!(
            f.key.starts_with(&results) && f.key.ends_with(".csv"),
            "{}",
            f.key
        );
        statuses.push(f.task_execution_status.clone());
        for row in parse_report_csv(&read(s3, &f.bucket, &f.key).await).expect("report csv") {
            assert_eq!(row.task_status, f.task_execution_status);
            rows.insert(row.key.clone().expect("decodable key"), row);
        }
    }
    (rows, statuses)
}

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
