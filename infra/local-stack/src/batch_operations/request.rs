//! CreateJob's request, read and validated as S3 Control would before it accepts a job,
//! restricted to what the local engine runs: a CSV manifest of versions and LambdaInvoke
//! with invocation schema 2.0. Anything else is refused by name, so a test that needs more
//! learns it at once instead of getting a job that silently does something else.

use std::collections::BTreeMap;

use axum::http::StatusCode;

use super::xml::{self, Element};
use super::{JobRecord, JobStatus, ManifestSpec, ReportSpec};

pub(super) const MANIFEST_FORMAT: &str = "S3BatchOperations_CSV_20180820";
pub(super) const MANIFEST_FIELDS: [&str; 3] = ["Bucket", "Key", "VersionId"];
pub(super) const REPORT_FORMAT: &str = "Report_CSV_20180820";
pub(super) const SCHEMA_VERSION: &str = "2.0";

/// An S3 Control error answer: HTTP status, `Code`, `Message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidRequest", message)
    }
    pub fn manifest(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidManifest", message)
    }
}

/// The `x-amz-account-id` header: S3 Control wants a 12-digit account id.
pub(super) fn account_id(header: Option<&str>) -> Result<String, ApiError> {
    match header.map(str::trim) {
        Some(a) if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) => Ok(a.to_string()),
        Some(a) => Err(ApiError::invalid(format!(
            "x-amz-account-id {a:?} is not a 12-digit account id"
        ))),
        None => Err(ApiError::invalid("the x-amz-account-id header is required")),
    }
}

fn required<'a>(el: &'a Element, name: &str, path: &str) -> Result<&'a str, ApiError> {
    el.text_of(name)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::invalid(format!("{path}{name} is required")))
}

fn boolean(el: &Element, name: &str, path: &str) -> Result<Option<bool>, ApiError> {
    match el.text_of(name).map(str::trim) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(ApiError::invalid(format!(
            "{path}{name} {other:?} is not a boolean"
        ))),
    }
}

/// `arn:<partition>:s3:::<bucket>[/<key>]` into the bucket and the key (not decoded: an
/// ARN carries the key as it is).
fn s3_arn(arn: &str) -> Option<(&str, Option<&str>)> {
    let mut parts = arn.splitn(6, ':');
    let ok = parts.next() == Some("arn")
        && parts.next().is_some_and(|p| !p.is_empty())
        && parts.next() == Some("s3")
        && parts.next() == Some("")
        && parts.next() == Some("");
    let resource = parts.next().filter(|_| ok)?;
    match resource.split_once('/') {
        Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => Some((bucket, Some(key))),
        Some(_) => None,
        None if !resource.is_empty() => Some((resource, None)),
        None => None,
    }
}

/// Reads a CreateJob body into the job it describes (status New, or Suspended when
/// confirmation is required). The manifest object itself is checked by the caller.
pub(super) fn parse_create_job(account_id: String, body: &[u8]) -> Result<JobRecord, ApiError> {
    let root = xml::parse(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "MalformedXML",
            format!("The XML you provided was not well-formed: {e}"),
        )
    })?;
    if root.name != "CreateJobRequest" {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MalformedXML",
            format!("expected <CreateJobRequest>, got <{}>", root.name),
        ));
    }
    let role_arn = required(&root, "RoleArn", "")?.to_string();
    let token = required(&root, "ClientRequestToken", "")?.to_string();
    if token.chars().count() > 64 {
        return Err(ApiError::invalid("ClientRequestToken is longer than 64"));
    }
    let priority = required(&root, "Priority", "")?
        .parse::<i32>()
        .ok()
        .filter(|p| *p >= 0)
        .ok_or_else(|| ApiError::invalid("Priority must be an integer from 0 to 2147483647"))?;
    let description = root.text_of("Description").map(str::to_string);
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 256)
    {
        return Err(ApiError::invalid("Description is longer than 256"));
    }
    let confirmation_required = boolean(&root, "ConfirmationRequired", "")?.unwrap_or(false);
    if root.child("ManifestGenerator").is_some() {
        return Err(ApiError::invalid(
            "ManifestGenerator is not supported by the local Batch Operations: give a Manifest",
        ));
    }
    let (function_arn, invocation_schema_version, user_arguments) = operation(&root)?;
    let manifest = manifest(&root)?;
    let report = report(&root)?;
    let status = if confirmation_required {
        JobStatus::Suspended
    } else {
        JobStatus::New
    };
    Ok(JobRecord {
        job_id: uuid::Uuid::new_v4().to_string(),
        account_id,
        client_request_token: token,
        description,
        confirmation_required,
        priority,
        role_arn,
        function_arn,
        invocation_schema_version,
        user_arguments,
        manifest,
        report,
        status,
        total_tasks: 0,
        succeeded_tasks: 0,
        failed_tasks: 0,
        failure_reasons: Vec::new(),
        suspended_cause: confirmation_required.then(|| "AwaitingConfirmation".to_string()),
        creation_time: time::OffsetDateTime::now_utc(),
        active_since: None,
        termination_date: None,
    })
}

type Lambda = (String, String, BTreeMap<String, String>);

fn operation(root: &Element) -> Result<Lambda, ApiError> {
    let op = root
        .child("Operation")
        .ok_or_else(|| ApiError::invalid("Operation is required"))?;
    let names: Vec<&str> = op.children.iter().map(|c| c.name.as_str()).collect();
    let lambda = match names.as_slice() {
        ["LambdaInvoke"] => &op.children[0],
        [] => return Err(ApiError::invalid("Operation names no operation")),
        [one] => {
            return Err(ApiError::invalid(format!(
                "operation {one} is not supported by the local Batch Operations (LambdaInvoke only)"
            )));
        }
        many => {
            return Err(ApiError::invalid(format!(
                "Operation names {} operations ({}); a job runs exactly one",
                many.len(),
                many.join(", ")
            )));
        }
    };
    let path = "Operation.LambdaInvoke.";
    let function_arn = required(lambda, "FunctionArn", path)?.to_string();
    // Without the element S3 uses schema 1.0.
    let version = lambda
        .text_of("InvocationSchemaVersion")
        .map(str::trim)
        .unwrap_or("1.0");
    if version != SCHEMA_VERSION {
        return Err(ApiError::invalid(format!(
            "InvocationSchemaVersion {version:?} is not supported by the local Batch Operations (2.0 only)"
        )));
    }
    let mut args = BTreeMap::new();
    if let Some(ua) = lambda.child("UserArguments") {
        for entry in ua.children("entry") {
            let key = entry.text_of("key").unwrap_or_default();
            let value = entry.text_of("value").unwrap_or_default();
            if key.is_empty() || key.chars().count() > 64 || value.chars().count() > 1024 {
                return Err(ApiError::invalid(format!(
                    "UserArguments entry {key:?}: keys take 1-64 characters, values up to 1024"
                )));
            }
            args.insert(key.to_string(), value.to_string());
        }
        if args.len() > 10 {
            return Err(ApiError::invalid(
                "UserArguments holds more than 10 entries",
            ));
        }
    }
    Ok((function_arn, version.to_string(), args))
}

fn manifest(root: &Element) -> Result<ManifestSpec, ApiError> {
    let m = root
        .child("Manifest")
        .ok_or_else(|| ApiError::invalid("Manifest is required"))?;
    let spec = m
        .child("Spec")
        .ok_or_else(|| ApiError::invalid("Manifest.Spec is required"))?;
    let format = required(spec, "Format", "Manifest.Spec.")?;
    if format != MANIFEST_FORMAT {
        return Err(ApiError::invalid(format!(
            "manifest format {format} is not supported by the local Batch Operations ({MANIFEST_FORMAT} only)"
        )));
    }
    let fields: Vec<String> = spec
        .child("Fields")
        .map(|f| {
            f.children("member")
                .map(|m| m.text.trim().to_string())
                .collect()
        })
        .unwrap_or_default();
    if fields != MANIFEST_FIELDS {
        return Err(ApiError::invalid(format!(
            "manifest fields [{}] are not supported by the local Batch Operations (Bucket, Key, VersionId only)",
            fields.join(", ")
        )));
    }
    let loc = m
        .child("Location")
        .ok_or_else(|| ApiError::invalid("Manifest.Location is required"))?;
    let object_arn = required(loc, "ObjectArn", "Manifest.Location.")?;
    let (bucket, key) = match s3_arn(object_arn) {
        Some((b, Some(k))) => (b.to_string(), k.to_string()),
        _ => {
            return Err(ApiError::invalid(format!(
                "Manifest.Location.ObjectArn {object_arn:?} is not an S3 object ARN"
            )));
        }
    };
    let etag = required(loc, "ETag", "Manifest.Location.")?;
    Ok(ManifestSpec {
        format: format.to_string(),
        fields,
        object_arn: object_arn.to_string(),
        bucket,
        key,
        etag: etag.to_string(),
        version_id: loc
            .text_of("ObjectVersionId")
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string),
    })
}

fn report(root: &Element) -> Result<ReportSpec, ApiError> {
    let r = root
        .child("Report")
        .ok_or_else(|| ApiError::invalid("Report is required"))?;
    let path = "Report.";
    let enabled = boolean(r, "Enabled", path)?
        .ok_or_else(|| ApiError::invalid("Report.Enabled is required"))?;
    let text = |n: &str| r.text_of(n).map(str::trim).map(str::to_string);
    let mut spec = ReportSpec {
        enabled,
        bucket_arn: text("Bucket"),
        bucket: None,
        format: text("Format"),
        prefix: text("Prefix"),
        scope: text("ReportScope"),
    };
    if !enabled {
        return Ok(spec);
    }
    let arn = required(r, "Bucket", path)?;
    spec.bucket = match s3_arn(arn) {
        Some((bucket, None)) => Some(bucket.to_string()),
        _ => {
            return Err(ApiError::invalid(format!(
                "Report.Bucket {arn:?} is not a bucket ARN (arn:aws:s3:::name)"
            )));
        }
    };
    let format = required(r, "Format", path)?;
    if format != REPORT_FORMAT {
        return Err(ApiError::invalid(format!(
            "report format {format} is not supported ({REPORT_FORMAT} only)"
        )));
    }
    let scope = spec.scope.get_or_insert_with(|| "AllTasks".into());
    if !matches!(scope.as_str(), "AllTasks" | "FailedTasksOnly") {
        return Err(ApiError::invalid(format!(
            "report scope {scope} is not supported by the local Batch Operations (AllTasks or FailedTasksOnly)"
        )));
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_arns_split_into_bucket_and_key() {
        assert_eq!(
            s3_arn("arn:aws:s3:::audit/batch/m 1.csv"),
            Some(("audit", Some("batch/m 1.csv")))
        );
        assert_eq!(s3_arn("arn:aws-cn:s3:::reports"), Some(("reports", None)));
        for bad in [
            "arn:aws:s3:::",
            "arn:aws:s3:::/k",
            "arn:aws:s3:::b/",
            "arn:aws:s3:us-east-1::b",
            "arn::s3:::b",
            "s3://b/k",
            "",
        ] {
            assert_eq!(s3_arn(bad), None, "{bad}");
        }
    }

    #[test]
    fn account_ids_are_twelve_digits() {
        assert_eq!(account_id(Some("123456789012")).unwrap(), "123456789012");
        assert!(account_id(None).is_err());
        assert!(account_id(Some("12345")).is_err());
        assert!(account_id(Some("12345678901x")).is_err());
    }

    #[test]
    fn a_body_that_is_not_a_create_job_request_is_malformed() {
        let a = || "123456789012".to_string();
        let e = parse_create_job(a(), b"<x").unwrap_err();
        assert_eq!(e.code, "MalformedXML");
        let e = parse_create_job(a(), b"<DescribeJobRequest/>").unwrap_err();
        assert_eq!(e.code, "MalformedXML");
        let e = parse_create_job(a(), b"<CreateJobRequest/>").unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            ("InvalidRequest", "RoleArn is required")
        );
    }
}
