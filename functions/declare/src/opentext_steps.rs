//! The OpenText side of a declaration: upload (or find what a crashed attempt uploaded),
//! then categories, RM classification and record details. Every step is safe to repeat.

use std::sync::Arc;

use opentext_client::model::RecordUpdate;
use opentext_client::{
    BytesSource, ContentSource, CreateOptions, Error as OtError, Provenance, VersionOptions,
};
use records_aws::hashing::DigestSlot;
use records_domain::policy::{AttrValue, Mode, OnExistingName};
use records_domain::{EXTERNAL_IDENTITY_TYPE, Plan};
use serde_json::{Map, Value};
use tokio::io::AsyncReadExt;

use crate::declare::{Run, StepError};
use crate::s3_source::S3Source;

/// `external_source` value for content that came from S3 (OpenText's enum has it).
const EXTERNAL_SOURCE: &str = "cloud_storage";

fn provenance(run: &Run<'_>) -> Provenance {
    Provenance {
        external_source: Some(EXTERNAL_SOURCE.into()),
        external_identity: Some(run.key.external_identity()),
        external_identity_type: Some(EXTERNAL_IDENTITY_TYPE.into()),
    }
}

fn description(plan: &Plan) -> String {
    let mut d = records_domain::policy::source_uri(&plan.facts);
    d.truncate(255);
    d
}

/// What gets uploaded for the plan's mode, and how its SHA-256 of the S3 object is known.
enum Upload {
    /// The bytes themselves, hashed while they stream.
    Copy(Arc<S3Source>),
    /// A reference manifest; the object's hash was computed by reading it once.
    Reference {
        manifest: Arc<BytesSource>,
        sha256: String,
    },
}

async fn prepare(run: &Run<'_>, plan: &Plan, name: &str) -> Result<Upload, StepError> {
    let f = &run.facts;
    match plan.mode {
        Mode::Copy => Ok(Upload::Copy(Arc::new(S3Source::new(
            run.deps.s3.clone(),
            &f.bucket,
            &f.key,
            f.version_id.as_deref(),
            f.size,
            name,
            f.content_type.as_deref(),
        )))),
        Mode::Reference => {
            let sha256 = hash_s3_object(run).await?;
            let manifest = serde_json::json!({
                "records_bridge_reference": 1,
                "bucket": f.bucket,
                "key": f.key,
                "version_id": f.version_id.as_deref().unwrap_or("null"),
                "etag": f.etag,
                "size": f.size,
                "sha256": sha256,
                "uri": records_domain::policy::source_uri(&plan.facts),
            });
            let bytes = serde_json::to_vec_pretty(&manifest).expect("plain JSON");
            let source = BytesSource::new(bytes, format!("{name}.s3ref.json"))
                .with_mime_type("application/vnd.records-bridge.s3-reference+json");
            Ok(Upload::Reference {
                manifest: Arc::new(source),
                sha256,
            })
        }
    }
}

/// Reads the object version once, only to hash it (reference mode, or a resumed attempt
/// whose earlier upload's digest died with it).
async fn hash_s3_object(run: &Run<'_>) -> Result<String, StepError> {
    let f = &run.facts;
    let slot = DigestSlot::default();
    let mut reader = run
        .deps
        .s3
        .open(&f.bucket, &f.key, f.version_id.as_deref(), slot.clone())
        .await?;
    let mut buf = vec![0u8; 64 * 1024];
    while reader
        .read(&mut buf)
        .await
        .map_err(|e| StepError::Retry(format!("reading S3: {e}")))?
        > 0
    {}
    let digest = slot
        .get()
        .ok_or_else(|| StepError::Retry("S3 stream ended without a digest".into()))?;
    check_size(run, digest.size)?;
    Ok(digest.sha256_hex)
}

fn check_size(run: &Run<'_>, read: u64) -> Result<(), StepError> {
    if read != run.facts.size {
        return Err(StepError::Retry(format!(
            "read {read} bytes from S3 but the object version has {}",
            run.facts.size
        )));
    }
    Ok(())
}

impl Upload {
    fn source(&self) -> Arc<dyn ContentSource> {
        match self {
            Upload::Copy(s) => s.clone(),
            Upload::Reference { manifest, .. } => manifest.clone(),
        }
    }

    /// The SHA-256 of the S3 object once the upload has streamed.
    fn sha256(&self, run: &Run<'_>) -> Result<String, StepError> {
        match self {
            Upload::Reference { sha256, .. } => Ok(sha256.clone()),
            Upload::Copy(s) => {
                let digest = s.digest().get().ok_or_else(|| {
                    StepError::Retry("upload ended before the whole object streamed".into())
                })?;
                check_size(run, digest.size)?;
                Ok(digest.sha256_hex)
            }
        }
    }
}

/// The plan frozen into the item when it was claimed.
fn frozen_plan(run: &Run<'_>) -> Result<Plan, StepError> {
    run.progress
        .plan
        .clone()
        .ok_or_else(|| StepError::Permanent("no plan".into()))
}

/// The service account's client, its retries bounded by this invocation's deadline.
async fn service_client(run: &Run<'_>) -> Result<opentext_client::Client, StepError> {
    Ok(run
        .deps
        .opentext
        .client()
        .await
        .map_err(StepError::Retry)?
        .with_deadline(run.inv.opentext_deadline()))
}

/// Creates the document, or adds a version, or adopts what an earlier attempt created
/// (found by this item's `external_identity`). Returns node id, version number, SHA-256.
pub(crate) async fn upload(
    run: &mut Run<'_>,
    folder_id: u64,
    name: &str,
) -> Result<(u64, u32, String), StepError> {
    let plan = frozen_plan(run)?;
    let ot = service_client(run).await?;
    let folder = folder_id as i64;
    let identity = run.key.external_identity();
    // Two passes at most: a create can lose a race to a concurrent create of the same name.
    for _ in 0..2 {
        let existing = ot.find_child_by_name(folder, name).await?;
        let (node_id, version_number, upload) = match existing {
            Some(node) => {
                if let Some(v) = ot
                    .find_version_by_external_identity(node.id, &identity)
                    .await?
                {
                    // An earlier attempt uploaded this version, then died before saying so.
                    tracing::info!(
                        node_id = node.id,
                        version = v.version_number,
                        "adopting the version an earlier attempt uploaded"
                    );
                    let sha256 = match run.progress.sha256.clone() {
                        Some(s) => s,
                        None => hash_s3_object(run).await?,
                    };
                    return Ok((node.id as u64, v.version_number as u32, sha256));
                }
                if plan.on_existing_name == OnExistingName::Refuse {
                    return Err(StepError::Permanent(format!(
                        "a document named {name:?} already exists in folder {folder_id} (node {}) and rule {:?} refuses new versions",
                        node.id, plan.rule
                    )));
                }
                let upload = prepare(run, &plan, name).await?;
                let opts = VersionOptions {
                    description: Some(description(&plan)),
                    provenance: provenance(run),
                    ..Default::default()
                };
                let v = ot.add_version(node.id, upload.source(), &opts).await?;
                (node.id as u64, v.version_number as u32, upload)
            }
            None => {
                let upload = prepare(run, &plan, name).await?;
                let opts = CreateOptions {
                    description: Some(description(&plan)),
                    provenance: provenance(run),
                    ..Default::default()
                };
                match ot
                    .create_document(folder, name, upload.source(), &opts)
                    .await
                {
                    Ok(node) => (node.id as u64, 1, upload),
                    Err(OtError::NameExists { .. }) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
        };
        run.crash_point("uploaded");
        let sha256 = upload.sha256(run)?;
        return Ok((node_id, version_number, sha256));
    }
    Err(StepError::Retry(format!(
        "document {name:?} in folder {folder_id} appeared and vanished while uploading"
    )))
}

fn attr_json(v: &AttrValue) -> Value {
    match v {
        AttrValue::Bool(b) => Value::Bool(*b),
        AttrValue::Integer(i) => Value::from(*i),
        AttrValue::Text(t) => Value::String(t.clone()),
    }
}

/// Provenance and rule categories, then the RM classification and record details.
pub(crate) async fn classify(run: &Run<'_>, node_id: u64) -> Result<(), StepError> {
    let plan = frozen_plan(run)?;
    let sha256 = run
        .progress
        .sha256
        .clone()
        .ok_or_else(|| StepError::Permanent("no sha256".into()))?;
    let ot = service_client(run).await?;
    let node = node_id as i64;
    let categories = plan
        .category_values(&sha256)
        .map_err(|e| StepError::Permanent(e.to_string()))?;
    let applied = ot.get_categories(node).await?;
    for cat in categories {
        let values: Map<String, Value> = cat
            .values
            .iter()
            .map(|(k, v)| (k.clone(), attr_json(v)))
            .collect();
        let id = cat.id as i64;
        if applied.iter().any(|c| c.category_id == id) {
            ot.update_category(node, id, &values).await?;
        } else {
            ot.apply_category(node, id, &values).await?;
        }
    }
    let details = RecordUpdate {
        official: plan.record.official,
        record_date: plan.record.record_date.clone(),
        status: plan.record.status.clone(),
        rsi: plan.record.rsi.clone(),
        ..Default::default()
    };
    let class_id = plan.classification_id as i64;
    // A stale token (someone edited the record meanwhile) earns one fresh read and retry.
    for attempt in 0..2 {
        let rm = ot.rm_classifications(node).await?;
        let token = rm.rm_metadata_token.clone();
        let classified = rm
            .data
            .iter()
            .any(|d| d.rmclassification_id == Some(class_id));
        let result = if classified {
            ot.update_record_details(node, token.as_deref().unwrap_or_default(), &details)
                .await
        } else {
            ot.apply_rm_classification(node, class_id, &details, token.as_deref())
                .await
        };
        match result {
            Ok(_) => return Ok(()),
            Err(OtError::Conflict { .. }) if attempt == 0 => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StepError::Retry("RM metadata token kept changing".into()))
}
