//! What the local S3 Batch Operations engine's suites share: a scripted task, buckets
//! (versioned, WORM), the job spec, and reading jobs and reports back.

#![allow(dead_code)] // each test file uses its own part

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketVersioningStatus, DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled,
    ObjectLockRetentionMode, ObjectLockRule, VersioningConfiguration,
};
use aws_sdk_s3control::types as ctl;
use local_stack::batch_operations::{FnInvoker, TaskInvoker};
use records_aws::batch_operations::{
    JobSpec, JobState, ManifestLocation, ReportRow, decode_key, describe_job, parse_report_csv,
    parse_report_manifest, report_manifest_key,
};
use records_domain::ObjectVersion;
use serde_json::{Value, json};

pub const ACCOUNT: &str = "123456789012";
pub const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:disposition-batch-task";
pub const ROLE: &str = "arn:aws:iam::123456789012:role/rb-batch-ops";
pub const PREFIX: &str = "batch-ops/reports";

pub const UNICODE_KEY: &str = "legal/ünï côde €/x+y=z 1%.pdf";
pub const BUSY_MESSAGE: &str = "OpenText unreachable, \"busy\"";

/// A stand-in for disposition-batch-task: answers by key, counts attempts and how many
/// invocations overlap.
#[derive(Default)]
pub struct Script {
    pub payloads: Mutex<Vec<Value>>,
    pub attempts: Mutex<HashMap<String, usize>>,
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
}

impl Script {
    pub async fn answer(&self, payload: Value) -> anyhow::Result<Value> {
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

pub fn invoker(script: &Arc<Script>) -> Arc<dyn TaskInvoker> {
    let script = script.clone();
    Arc::new(FnInvoker(move |payload| {
        let script = script.clone();
        async move { script.answer(payload).await }
    }))
}

pub fn control(sdk: &aws_config::SdkConfig, url: String) -> aws_sdk_s3control::Client {
    aws_sdk_s3control::Client::from_conf(
        aws_sdk_s3control::config::Builder::from(sdk)
            .endpoint_resolver(records_aws::config::VerbatimEndpoint(url))
            .build(),
    )
}

pub async fn versioned_bucket(s3: &aws_sdk_s3::Client, name: &str) {
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
pub async fn worm_bucket(s3: &aws_sdk_s3::Client, name: &str) {
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

pub async fn put_version(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> ObjectVersion {
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

pub async fn read(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> String {
    let out = s3.get_object().bucket(bucket).key(key).send().await;
    let body = out.unwrap_or_else(|e| panic!("s3://{bucket}/{key}: {e:?}"));
    String::from_utf8(body.body.collect().await.unwrap().to_vec()).unwrap()
}

pub fn spec(batch_id: &str, manifest: ManifestLocation, report_bucket: &str) -> JobSpec {
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
pub fn csv_manifest(etag: &str) -> ctl::JobManifest {
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
pub fn lambda_invoke(schema: Option<&str>) -> ctl::JobOperation {
    let op = ctl::LambdaInvokeOperation::builder()
        .function_arn(FUNCTION)
        .set_invocation_schema_version(schema.map(str::to_string))
        .user_arguments("dispositionBatchId", "b-9")
        .build();
    ctl::JobOperation::builder().lambda_invoke(op).build()
}

/// Polls DescribeJob (through records-aws) until the job is no longer running, checking
/// that its status only moves forward (New, Preparing, Active, Completing, Complete).
pub async fn wait_done(
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
pub async fn report_rows(
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
