//! Running a job as S3 Batch Operations documents it: read the manifest, invoke the
//! function once per line (invocation schema 2.0, a few tasks at once), retry
//! `TemporaryFailure`s, count, then write the completion report.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::task::JoinSet;

use super::{JobFailure, JobRecord, JobStatus, ManifestSpec, Shared, TaskInvoker, report};

/// Tasks in flight at once: small, so a local run stays light and ordering bugs show.
const CONCURRENCY: usize = 4;
/// Invocations of a task answering `TemporaryFailure` before it counts as failed.
const TEMPORARY_TRIES: u32 = 3;
/// First retry delay, doubled each time (50 ms, 100 ms): short enough for tests.
const BACKOFF: Duration = Duration::from_millis(50);
/// AWS fails a job whose tasks fail more than half the time after this many tasks.
const THRESHOLD_MIN_TASKS: i64 = 1000;

/// One manifest line, fields as written (the key stays URL-encoded).
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub bucket: String,
    pub key: String,
    pub version_id: String,
}

/// How one task ended, as the report writes it.
#[derive(Debug, Clone)]
pub(super) struct TaskResult {
    pub row: Row,
    pub succeeded: bool,
    /// `TemporaryFailure` / `PermanentFailure`; empty when succeeded.
    pub error_code: String,
    pub message: String,
}

pub(super) async fn run(shared: Arc<Shared>, job_id: String) {
    let Some(job) = shared.job(&job_id) else {
        return;
    };
    shared.update(&job_id, |j| j.status = JobStatus::Preparing);
    let mut held = shared.held.subscribe();
    let _ = held.wait_for(|h| !*h).await;
    let rows = match read_manifest(&shared.s3, &job.manifest).await {
        Ok(rows) if rows.is_empty() => {
            return fail(
                &shared,
                &job_id,
                "EmptyManifest",
                "The manifest lists no objects",
            );
        }
        Ok(rows) => rows,
        Err(reason) => return fail(&shared, &job_id, "ManifestReadFailed", &reason),
    };
    shared.update(&job_id, |j| {
        j.status = JobStatus::Active;
        j.total_tasks = rows.len() as i64;
        j.active_since = Some(OffsetDateTime::now_utc());
    });
    let (results, threshold_exceeded) = invoke_all(&shared, &job, rows).await;
    shared.update(&job_id, |j| j.status = JobStatus::Completing);
    let mut reasons = Vec::new();
    if threshold_exceeded {
        reasons.push(JobFailure {
            code: "TaskFailureThresholdExceeded".into(),
            reason: "More than 50% of the tasks failed after at least 1000 tasks".into(),
        });
    }
    // A report is written whenever a task ran, a failed job's too.
    if job.report.enabled
        && let Err(reason) = report::write(&shared.s3, &job, &results).await
    {
        reasons.push(JobFailure {
            code: "ReportWriteFailed".into(),
            reason,
        });
    }
    shared.update(&job_id, |j| {
        j.status = if reasons.is_empty() {
            JobStatus::Complete
        } else {
            JobStatus::Failed
        };
        j.termination_date = Some(OffsetDateTime::now_utc());
        j.failure_reasons.extend(reasons);
    });
}

/// Fails the job before any task ran (so there is no report).
fn fail(shared: &Shared, job_id: &str, code: &str, reason: &str) {
    shared.update(job_id, |j| {
        j.status = JobStatus::Failed;
        j.termination_date = Some(OffsetDateTime::now_utc());
        j.failure_reasons.push(JobFailure {
            code: code.into(),
            reason: reason.into(),
        });
    });
}

/// The manifest's rows, from the very version CreateJob named (its ETag re-checked).
async fn read_manifest(s3: &aws_sdk_s3::Client, m: &ManifestSpec) -> Result<Vec<Row>, String> {
    let out = s3
        .get_object()
        .bucket(&m.bucket)
        .key(&m.key)
        .set_version_id(m.version_id.clone())
        .send()
        .await
        .map_err(|e| {
            format!(
                "Reading the manifest failed: {}",
                aws_sdk_s3::error::DisplayErrorContext(e)
            )
        })?;
    let etag = out
        .e_tag()
        .unwrap_or_default()
        .trim_matches('"')
        .to_string();
    if etag != m.etag.trim_matches('"') {
        return Err(format!(
            "The manifest's ETag is now {etag}, not {} as when the job was created",
            m.etag
        ));
    }
    let bytes = out
        .body
        .collect()
        .await
        .map_err(|e| format!("Reading the manifest failed: {e}"))?
        .into_bytes();
    let text =
        std::str::from_utf8(&bytes).map_err(|e| format!("The manifest is not UTF-8: {e}"))?;
    parse_manifest(text)
}

/// `bucket,key,versionId` lines (`\n` or `\r\n`; blank lines skipped). A field wholly in
/// double quotes is unquoted; keys are URL-encoded, so they hold no comma.
pub(super) fn parse_manifest(text: &str) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for (n, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let unquote = |f: &str| {
            f.strip_prefix('"')
                .and_then(|f| f.strip_suffix('"'))
                .unwrap_or(f)
                .to_string()
        };
        let fields: Vec<String> = line.split(',').map(unquote).collect();
        let [bucket, key, version_id] = <[String; 3]>::try_from(fields).map_err(|f| {
            format!(
                "manifest line {}: {} fields, expected Bucket,Key,VersionId",
                n + 1,
                f.len()
            )
        })?;
        if bucket.is_empty() || key.is_empty() {
            return Err(format!("manifest line {}: no bucket or no key", n + 1));
        }
        rows.push(Row {
            bucket,
            key,
            version_id,
        });
    }
    Ok(rows)
}

/// Every row's task, `CONCURRENCY` at a time, counted into the job as they finish. Returns
/// the results in manifest order and whether the failure threshold stopped the job.
async fn invoke_all(
    shared: &Arc<Shared>,
    job: &JobRecord,
    rows: Vec<Row>,
) -> (Vec<TaskResult>, bool) {
    let mut pending = rows.into_iter().enumerate();
    let mut set = JoinSet::new();
    let mut results = Vec::new();
    let (mut attempted, mut failed, mut stop) = (0i64, 0i64, false);
    loop {
        while !stop && set.len() < CONCURRENCY {
            let Some((i, row)) = pending.next() else {
                break;
            };
            let task = shared.task.clone();
            let (id, args) = (job.job_id.clone(), job.user_arguments.clone());
            set.spawn(async move { (i, run_task(task, &id, &args, row).await) });
        }
        let Some(joined) = set.join_next().await else {
            break;
        };
        // `run_task` catches the invoker's panics itself, so a join error is an abort.
        let Ok((i, result)) = joined else {
            continue;
        };
        attempted += 1;
        failed += i64::from(!result.succeeded);
        shared.update(&job.job_id, |j| {
            j.succeeded_tasks = attempted - failed;
            j.failed_tasks = failed;
        });
        results.push((i, result));
        stop = attempted >= THRESHOLD_MIN_TASKS && failed * 2 > attempted;
    }
    results.sort_by_key(|(i, _)| *i);
    (results.into_iter().map(|(_, r)| r).collect(), stop)
}

/// AWS's ids are opaque base64 strings; so are these (`+`, `/` and `=` included).
fn opaque_id() -> String {
    base64::engine::general_purpose::STANDARD.encode(uuid::Uuid::new_v4().as_bytes())
}

enum Verdict {
    Succeeded(String),
    Temporary(String),
    Permanent(String),
}

async fn run_task(
    task: Arc<dyn TaskInvoker>,
    job_id: &str,
    user_arguments: &std::collections::BTreeMap<String, String>,
    row: Row,
) -> TaskResult {
    let task_id = opaque_id();
    let mut tries = 0;
    let verdict = loop {
        tries += 1;
        let invocation_id = opaque_id();
        let payload = json!({
            "invocationSchemaVersion": "2.0",
            "invocationId": invocation_id,
            "job": {"id": job_id, "userArguments": user_arguments},
            "tasks": [{
                "taskId": task_id,
                "s3Bucket": row.bucket,
                "s3Key": row.key,
                "s3VersionId": (!row.version_id.is_empty()).then_some(&row.version_id),
            }],
        });
        let invoker = task.clone();
        // Its own task, so a panicking invoker fails this task, not the job.
        let answer = tokio::spawn(async move { invoker.invoke(payload).await }).await;
        let verdict = match answer {
            Ok(Ok(response)) => interpret(&response, &task_id),
            Ok(Err(e)) => Verdict::Permanent(format!("Lambda returned function error: {e}")),
            Err(e) => Verdict::Permanent(format!("Lambda invocation failed: {e}")),
        };
        match verdict {
            Verdict::Temporary(_) if tries < TEMPORARY_TRIES => {
                tokio::time::sleep(BACKOFF * 2u32.pow(tries - 1)).await;
            }
            v => break v,
        }
    };
    let (succeeded, error_code, message) = match verdict {
        Verdict::Succeeded(m) => (true, "", m),
        Verdict::Temporary(m) => (false, "TemporaryFailure", m),
        Verdict::Permanent(m) => (false, "PermanentFailure", m),
    };
    TaskResult {
        row,
        succeeded,
        error_code: error_code.into(),
        message,
    }
}

/// The task's result in a schema 2.0 response; a result left out is `treatMissingKeysAs`
/// (PermanentFailure unless said otherwise).
fn interpret(response: &Value, task_id: &str) -> Verdict {
    let version = response
        .get("invocationSchemaVersion")
        .and_then(Value::as_str);
    let Some(results) = response.get("results").and_then(Value::as_array) else {
        return Verdict::Permanent(format!(
            "Lambda returned an invalid response (no results array): {response}"
        ));
    };
    if version != Some("2.0") {
        return Verdict::Permanent(format!(
            "Lambda returned invocationSchemaVersion {version:?}, expected \"2.0\""
        ));
    }
    let (code, message) = match results
        .iter()
        .find(|r| r.get("taskId").and_then(Value::as_str) == Some(task_id))
    {
        Some(r) => (
            r.get("resultCode").and_then(Value::as_str).unwrap_or(""),
            r.get("resultString")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        ),
        None => (
            response
                .get("treatMissingKeysAs")
                .and_then(Value::as_str)
                .unwrap_or("PermanentFailure"),
            format!("task {task_id} is missing from the Lambda response's results"),
        ),
    };
    match code {
        "Succeeded" => Verdict::Succeeded(message),
        "TemporaryFailure" => Verdict::Temporary(message),
        "PermanentFailure" => Verdict::Permanent(message),
        other => Verdict::Permanent(format!(
            "Lambda returned an unknown resultCode {other:?}: {message}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_lines_are_read_as_written() {
        let rows =
            parse_manifest("gov,a%20b%2Bc.pdf,v1\r\n\n\"gov\",\"x\",\"v2\"\ngov,k,\n").unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            (rows[0].key.as_str(), rows[0].version_id.as_str()),
            ("a%20b%2Bc.pdf", "v1")
        );
        assert_eq!(
            (rows[1].bucket.as_str(), rows[1].key.as_str()),
            ("gov", "x")
        );
        assert_eq!(rows[2].version_id, "");
        assert!(parse_manifest("gov,k\n").is_err());
        assert!(parse_manifest("gov,k,v,extra\n").is_err());
        assert!(parse_manifest(",k,v\n").is_err());
        assert!(parse_manifest("").unwrap().is_empty());
    }

    #[test]
    fn responses_are_read_per_task() {
        let ok = json!({"invocationSchemaVersion": "2.0", "treatMissingKeysAs": "PermanentFailure",
            "invocationId": "i", "results": [{"taskId": "t", "resultCode": "Succeeded", "resultString": "deleted"}]});
        assert!(matches!(interpret(&ok, "t"), Verdict::Succeeded(m) if m == "deleted"));
        assert!(matches!(interpret(&ok, "other"), Verdict::Permanent(m) if m.contains("missing")));
        let lenient = json!({"invocationSchemaVersion": "2.0", "treatMissingKeysAs": "TemporaryFailure", "results": []});
        assert!(matches!(interpret(&lenient, "t"), Verdict::Temporary(_)));
        for bad in [
            json!(null),
            json!("x"),
            json!({"results": {}}),
            json!({"results": []}),
        ] {
            assert!(
                matches!(interpret(&bad, "t"), Verdict::Permanent(_)),
                "{bad}"
            );
        }
        let odd = json!({"invocationSchemaVersion": "2.0", "results": [{"taskId": "t", "resultCode": "Maybe"}]});
        assert!(matches!(interpret(&odd, "t"), Verdict::Permanent(m) if m.contains("Maybe")));
    }
}
