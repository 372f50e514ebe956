//! The job's completion report (`Report_CSV_20180820`, all tasks): a top-level
//! `<prefix>/job-<id>/manifest.json` naming result CSVs, each row
//! `Bucket,Key,VersionId,TaskStatus,ErrorCode,HTTPStatusCode,ResultMessage`.
//!
//! AWS's own examples put the HTTP status before the error code (`failed,200,
//! PermanentFailure,"..."`, `succeeded,200,,"..."`) although `ReportSchema` names them the
//! other way round: the reader takes whichever of the two is numeric as the status.
//! ResultMessage is CSV-quoted (`""` inside) and may hold commas and newlines.

use serde::Deserialize;

use super::{
    BatchOpsError, RESULT_ALREADY_GONE, RESULT_DELETED, RESULT_REFUSED_PREFIX, decode_key,
};

/// The key of a job's top-level report manifest under the report prefix.
pub fn report_manifest_key(prefix: &str, job_id: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        format!("job-{job_id}/manifest.json")
    } else {
        format!("{prefix}/job-{job_id}/manifest.json")
    }
}

/// One result file the report manifest lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFile {
    pub bucket: String,
    pub key: String,
    /// `succeeded` or `failed`: which tasks the file holds.
    pub task_execution_status: String,
    pub md5: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawManifest {
    format: String,
    #[serde(default)]
    results: Vec<RawResult>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawResult {
    task_execution_status: String,
    bucket: String,
    key: String,
    #[serde(rename = "MD5Checksum", default)]
    md5_checksum: Option<String>,
}

/// The result files of a report manifest (`manifest.json`).
pub fn parse_report_manifest(json: &str) -> Result<Vec<ReportFile>, BatchOpsError> {
    let raw: RawManifest = serde_json::from_str(json)
        .map_err(|e| BatchOpsError::Invalid(format!("report manifest: {e}")))?;
    if raw.format != "Report_CSV_20180820" {
        return Err(BatchOpsError::Invalid(format!(
            "report manifest format {:?}, expected Report_CSV_20180820",
            raw.format
        )));
    }
    Ok(raw
        .results
        .into_iter()
        .map(|r| ReportFile {
            bucket: r.bucket,
            key: r.key,
            task_execution_status: r.task_execution_status,
            md5: r.md5_checksum,
        })
        .collect())
}

/// What a task did, read back from its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskOutcome {
    /// Deleted; when, if the task said (`deleted at <RFC 3339>`).
    Deleted {
        at: Option<time::OffsetDateTime>,
    },
    AlreadyGone,
    /// The re-check refused (a hold, retention, the date): nothing deleted.
    Refused(String),
    /// Failed otherwise (ran out of retries, the function errored, access denied...).
    Failed {
        error_code: String,
        message: String,
    },
    /// Succeeded with a result string this bridge does not write.
    Unrecognised(String),
}

/// One row of a result CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub bucket: String,
    /// The key as the report writes it (URL-encoded, as in the manifest).
    pub raw_key: String,
    /// Decoded; `None` when `raw_key` does not decode.
    pub key: Option<String>,
    pub version_id: String,
    /// `succeeded` or `failed`.
    pub task_status: String,
    pub error_code: String,
    pub http_status: Option<u16>,
    pub result_message: String,
    pub outcome: TaskOutcome,
}

/// RFC 4180 records: quoted fields with `""`, commas and line breaks inside quotes.
fn csv_records(text: &str) -> Result<Vec<Vec<String>>, BatchOpsError> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                line += usize::from(c == '\n');
                field.push(c);
            }
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                line += 1;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(BatchOpsError::Invalid(format!(
            "report CSV: unterminated quote (line {line})"
        )));
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

fn outcome(task_status: &str, error_code: &str, message: &str) -> TaskOutcome {
    match task_status {
        "succeeded" if message == RESULT_DELETED => TaskOutcome::Deleted { at: None },
        "succeeded" if message.starts_with(&format!("{RESULT_DELETED} at ")) => {
            TaskOutcome::Deleted {
                at: time::OffsetDateTime::parse(
                    &message[RESULT_DELETED.len() + 4..],
                    &time::format_description::well_known::Rfc3339,
                )
                .ok(),
            }
        }
        "succeeded" if message == RESULT_ALREADY_GONE => TaskOutcome::AlreadyGone,
        "succeeded" => TaskOutcome::Unrecognised(message.to_string()),
        _ => match message.find(RESULT_REFUSED_PREFIX) {
            // The message may carry a prefix of S3's (e.g. "Lambda returned ...").
            Some(at) => {
                TaskOutcome::Refused(message[at + RESULT_REFUSED_PREFIX.len()..].to_string())
            }
            None => TaskOutcome::Failed {
                error_code: error_code.to_string(),
                message: message.to_string(),
            },
        },
    }
}

/// The rows of one result CSV (no header line, as S3 writes them).
pub fn parse_report_csv(text: &str) -> Result<Vec<ReportRow>, BatchOpsError> {
    let mut rows = Vec::new();
    for (i, rec) in csv_records(text)?.into_iter().enumerate() {
        if rec.len() == 1 && rec[0].trim().is_empty() {
            continue;
        }
        if rec.len() < 7 {
            return Err(BatchOpsError::Invalid(format!(
                "report CSV row {}: {} fields, expected 7",
                i + 1,
                rec.len()
            )));
        }
        let (a, b) = (rec[4].trim(), rec[5].trim());
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
        let (error_code, status) = if numeric(a) && !numeric(b) {
            (b, a)
        } else {
            (a, b)
        };
        // Anything after the 7th field belongs to an unquoted message.
        let result_message = rec[6..].join(",");
        let task_status = rec[3].trim().to_ascii_lowercase();
        rows.push(ReportRow {
            bucket: rec[0].clone(),
            key: decode_key(&rec[1]).ok(),
            raw_key: rec[1].clone(),
            version_id: rec[2].clone(),
            outcome: outcome(&task_status, error_code, &result_message),
            task_status,
            error_code: error_code.to_string(),
            http_status: status.parse().ok(),
            result_message,
        });
    }
    Ok(rows)
}

/// Reads a finished job's whole completion report: its manifest under `prefix`, then every
/// result file it lists. A missing manifest (the job ran no task) is `S3(NotFound)`.
pub async fn read_completion_report(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    job_id: &str,
) -> Result<Vec<ReportRow>, BatchOpsError> {
    let manifest = get_text(s3, bucket, &report_manifest_key(prefix, job_id)).await?;
    let mut rows = Vec::new();
    for file in parse_report_manifest(&manifest)? {
        rows.extend(parse_report_csv(
            &get_text(s3, &file.bucket, &file.key).await?,
        )?);
    }
    Ok(rows)
}

async fn get_text(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<String, BatchOpsError> {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| crate::s3_objects::classify("GetObject", bucket, key, None, e))?;
    let bytes = out
        .body
        .collect()
        .await
        .map_err(|e| BatchOpsError::Invalid(format!("reading s3://{bucket}/{key}: {e}")))?
        .into_bytes();
    String::from_utf8(bytes.to_vec())
        .map_err(|_| BatchOpsError::Invalid(format!("s3://{bucket}/{key} is not UTF-8 text")))
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
