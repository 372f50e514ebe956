//! The completion report (`Report_CSV_20180820`) as AWS documents it: under
//! `<prefix>/job-<id>/`, one result CSV for succeeded and one for failed tasks
//! (`results/<id>.csv`, omitted when empty, the succeeded one also when the scope is
//! `FailedTasksOnly`), then `manifest.json` naming them.
//!
//! Rows follow AWS's own examples, the HTTP status before the error code
//! (`succeeded,200,,"msg"`, `failed,200,PermanentFailure,"msg"`), no header line, the
//! message always CSV-quoted. The manifest's `MD5Checksum` is left out: no MD5
//! implementation is a dependency of this crate, and the field is informational.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ChecksumAlgorithm;
use serde_json::json;
use time::OffsetDateTime;

use super::request::REPORT_FORMAT;
use super::runner::TaskResult;
use super::{JobRecord, iso8601};

const REPORT_SCHEMA: &str =
    "Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage";

/// Quotes a CSV field, doubling `"`.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// A plain field, quoted only when it must be (manifest fields rarely need it).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        quoted(s)
    } else {
        s.to_string()
    }
}

pub(super) fn csv_row(r: &TaskResult) -> String {
    format!(
        "{},{},{},{},200,{},{}\n",
        field(&r.row.bucket),
        field(&r.row.key),
        field(&r.row.version_id),
        if r.succeeded { "succeeded" } else { "failed" },
        r.error_code,
        quoted(&r.message)
    )
}

/// The key prefix of a job's report: `<prefix>/job-<id>` (`job-<id>` without a prefix).
pub(super) fn job_prefix(prefix: Option<&str>, job_id: &str) -> String {
    match prefix
        .map(|p| p.trim_end_matches('/'))
        .filter(|p| !p.is_empty())
    {
        Some(p) => format!("{p}/job-{job_id}"),
        None => format!("job-{job_id}"),
    }
}

/// Writes the result CSVs and then `manifest.json` (last, so a reader that finds the
/// manifest finds every file it names).
pub(super) async fn write(
    s3: &aws_sdk_s3::Client,
    job: &JobRecord,
    results: &[TaskResult],
) -> Result<(), String> {
    let bucket = job
        .report
        .bucket
        .as_deref()
        .ok_or("the report has no bucket")?;
    let base = job_prefix(job.report.prefix.as_deref(), &job.job_id);
    let failed_only = job.report.scope.as_deref() == Some("FailedTasksOnly");
    let mut files = Vec::new();
    for (status, succeeded) in [("succeeded", true), ("failed", false)] {
        if failed_only && succeeded {
            continue;
        }
        let csv: String = results
            .iter()
            .filter(|r| r.succeeded == succeeded)
            .map(csv_row)
            .collect();
        if csv.is_empty() {
            continue;
        }
        let key = format!("{base}/results/{}.csv", uuid::Uuid::new_v4().simple());
        put(s3, bucket, &key, "text/csv", csv.into_bytes()).await?;
        files.push(json!({"TaskExecutionStatus": status, "Bucket": bucket, "Key": key}));
    }
    let manifest = json!({
        "Format": REPORT_FORMAT,
        "ReportCreationDate": iso8601(OffsetDateTime::now_utc()),
        "Results": files,
        "ReportSchema": REPORT_SCHEMA,
    });
    let body = serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?;
    put(
        s3,
        bucket,
        &format!("{base}/manifest.json"),
        "application/json",
        body,
    )
    .await
}

async fn put(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Result<(), String> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        // Report buckets are often Object Lock buckets, which refuse a PUT without a
        // checksum (as moto does too).
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .body(ByteStream::from(body))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            format!(
                "Writing the report s3://{bucket}/{key} failed: {}",
                aws_sdk_s3::error::DisplayErrorContext(e)
            )
        })
}

#[cfg(test)]
mod tests {
    use super::super::runner::Row;
    use super::*;

    #[test]
    fn rows_follow_aws_examples() {
        let r = |succeeded, code: &str, msg: &str| TaskResult {
            row: Row {
                bucket: "gov".into(),
                key: "a%20b.pdf".into(),
                version_id: "v1".into(),
            },
            succeeded,
            error_code: code.into(),
            message: msg.into(),
        };
        assert_eq!(
            csv_row(&r(true, "", "deleted")),
            "gov,a%20b.pdf,v1,succeeded,200,,\"deleted\"\n"
        );
        assert_eq!(
            csv_row(&r(false, "PermanentFailure", "say \"no\", twice\n")),
            "gov,a%20b.pdf,v1,failed,200,PermanentFailure,\"say \"\"no\"\", twice\n\"\n"
        );
        assert_eq!(job_prefix(Some("reports/x/"), "j"), "reports/x/job-j");
        assert_eq!(job_prefix(Some(""), "j"), "job-j");
        assert_eq!(job_prefix(None, "j"), "job-j");
    }
}
