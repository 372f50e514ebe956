//! The OpenText side of a declaration: upload (or find what a crashed attempt uploaded),
//! then categories, RM classification and record details. Every step is safe to repeat.

use std::sync::Arc;

use opentext_client::model::RecordUpdate;
use opentext_client::{
    BytesSource, ContentSource, CreateOptions, Error as OtError, Provenance, VersionOptions,
};
use records_aws::hashing::DigestSlot;
use records_domain::policy::{
    AttrValue, CategoryValues, Mode, OnExistingName, OnNameClash, disambiguate_node_name,
};
use records_domain::{EXTERNAL_IDENTITY_TYPE, Plan};
use serde_json::{Map, Value};
use tokio::io::AsyncReadExt;

use super::progress::NameClash;
use super::run::Run;
use super::s3_source::S3Source;
use super::upload_session::{cancel_abandoned_session, session_hook};
use crate::runner::StepError;

/// `external_source` value for content that came from S3 (OpenText's enum has it).
const EXTERNAL_SOURCE: &str = "cloud_storage";

fn provenance(run: &Run<'_>) -> Provenance {
    Provenance {
        external_source: Some(EXTERNAL_SOURCE.into()),
        external_identity: Some(run.key.external_identity()),
        external_identity_type: Some(EXTERNAL_IDENTITY_TYPE.into()),
    }
}

/// OpenText keeps at most 255 characters of a description (cut on a character boundary:
/// keys are UTF-8).
const MAX_DESCRIPTION_CHARS: usize = 255;

fn description(plan: &Plan) -> String {
    let uri = records_domain::policy::source_uri(&plan.facts);
    records_domain::text::truncate_chars(&uri, MAX_DESCRIPTION_CHARS).to_string()
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
            let uri = records_domain::policy::source_uri(&plan.facts);
            let mut manifest = serde_json::json!({
                "records_bridge_reference": 1,
                "bucket": f.bucket,
                "key": f.key,
                "version_id": f.version_id.as_deref().unwrap_or("null"),
                "etag": f.etag,
                "size": f.size,
                "sha256": sha256,
                "uri": uri,
            });
            // One click from the record in OpenText to its content, checked as that user.
            if let Some(base) = &run.deps.access_url {
                manifest["access_url"] = records_domain::access::access_link(base, &uri).into();
            }
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
///
/// The name is looked up as the server compares names (case-insensitively), and a name the
/// server reports taken is settled in this attempt: this object's own document gets the
/// version (`on_existing_name`), another object's document or one records-bridge did not
/// create is a clash (`on_name_clash`: a disambiguated name, or a refusal naming it).
/// Objects up to this size are created without looking the name up first: the lookup is
/// needed only on a clash, which the create reports. Above it the name is looked up first,
/// since a clash found after sending the content would send it twice.
const OPTIMISTIC_CREATE_MAX_BYTES: u64 = 8 * 1024 * 1024;

pub(crate) async fn upload(
    run: &mut Run<'_>,
    folder_id: u64,
    name: &str,
) -> Result<(u64, u32, String), StepError> {
    let plan = frozen_plan(run)?;
    let ot = service_client(run).await?;
    cancel_abandoned_session(run, &ot).await;
    let folder = folder_id as i64;
    let mut name = name.to_string();
    let mut look_up_first = run.facts.size > OPTIMISTIC_CREATE_MAX_BYTES;
    // Tries: the plan's name, a repeat after the name changed hands, the disambiguated name.
    for _ in 0..4 {
        let found = match look_up_first {
            true => ot.find_child_by_name(folder, &name).await?,
            false => None,
        };
        look_up_first = true;
        let node = match found {
            Some(node) => node,
            None => match create(run, &ot, &plan, folder, &name).await? {
                Created::Uploaded(done) => return Ok(done),
                Created::Exists(node) => *node,
                Created::TakenUnseen => {
                    name = clash(run, &plan, &name, None)?;
                    continue;
                }
            },
        };
        if let Some(adopted) = adopt(run, &ot, node.id).await? {
            return Ok(adopted);
        }
        if !is_this_objects_document(run, &node).await? {
            name = clash(run, &plan, &name, Some(node.id as u64))?;
            continue;
        }
        if plan.on_existing_name == OnExistingName::Refuse {
            return Err(StepError::Permanent(format!(
                "a document named {name:?} already exists in folder {folder_id} (node {}) and rule {:?} refuses new versions",
                node.id, plan.rule
            )));
        }
        let upload = prepare(run, &plan, &name).await?;
        let opts = VersionOptions {
            description: Some(description(&plan)),
            provenance: provenance(run),
            upload_session: Some(session_hook(run)),
            ..Default::default()
        };
        let v = ot.add_version(node.id, upload.source(), &opts).await?;
        return finish_upload(run, node.id as u64, v.version_number as u32, &upload);
    }
    Err(StepError::Retry(format!(
        "document {name:?} in folder {folder_id} kept changing while uploading"
    )))
}

/// How creating the document went.
enum Created {
    Uploaded((u64, u32, String)),
    /// "Name exists", and the lookup finds what holds it (an earlier attempt's document,
    /// this object's document, another's, or a concurrent create's): judge it.
    Exists(Box<opentext_client::model::Node>),
    /// "Name exists", but for nothing the service account can see.
    TakenUnseen,
}

/// The category values sent with the create (flat `roles.categories`): everything known
/// before the content is hashed.
fn categories_at_create(plan: &Plan) -> Result<Map<String, Value>, StepError> {
    let values = plan
        .category_values_before_hash()
        .map_err(|e| StepError::Permanent(e.to_string()))?;
    Ok(values
        .iter()
        .flat_map(|cat| cat.values.iter().map(|(k, v)| (k.clone(), attr_json(v))))
        .collect())
}

async fn create(
    run: &mut Run<'_>,
    ot: &opentext_client::Client,
    plan: &Plan,
    folder: i64,
    name: &str,
) -> Result<Created, StepError> {
    let upload = prepare(run, plan, name).await?;
    let opts = CreateOptions {
        description: Some(description(plan)),
        provenance: provenance(run),
        categories: categories_at_create(plan)?,
        upload_session: Some(session_hook(run)),
        ..Default::default()
    };
    match ot
        .create_document(folder, name, upload.source(), &opts)
        .await
    {
        Ok(node) => {
            run.created_here = true;
            Ok(Created::Uploaded(finish_upload(
                run,
                node.id as u64,
                1,
                &upload,
            )?))
        }
        Err(OtError::NameExists { .. }) => Ok(match ot.find_child_by_name(folder, name).await? {
            Some(node) => Created::Exists(Box::new(node)),
            None => Created::TakenUnseen,
        }),
        Err(e) => Err(e.into()),
    }
}

/// The version an earlier attempt uploaded to `node_id` and died before saying so (found by
/// this item's `external_identity`), if any.
async fn adopt(
    run: &Run<'_>,
    ot: &opentext_client::Client,
    node_id: i64,
) -> Result<Option<(u64, u32, String)>, StepError> {
    let identity = run.key.external_identity();
    let Some(v) = ot
        .find_version_by_external_identity(node_id, &identity)
        .await?
    else {
        return Ok(None);
    };
    tracing::info!(
        node_id,
        version = v.version_number,
        "adopting the version an earlier attempt uploaded"
    );
    let sha256 = match run.progress.sha256.clone() {
        Some(s) => s,
        None => hash_s3_object(run).await?,
    };
    Ok(Some((node_id as u64, v.version_number as u32, sha256)))
}

fn finish_upload(
    run: &mut Run<'_>,
    node_id: u64,
    version_number: u32,
    upload: &Upload,
) -> Result<(u64, u32, String), StepError> {
    run.crash_point("uploaded");
    run.progress.upload_key = None;
    let sha256 = upload.sha256(run)?;
    Ok((node_id, version_number, sha256))
}

/// The name is taken by something that is not this object's document: the rule's
/// `on_name_clash` decides. Returns the name to try next (the disambiguated one).
fn clash(
    run: &mut Run<'_>,
    plan: &Plan,
    name: &str,
    taken_by: Option<u64>,
) -> Result<String, StepError> {
    let holder = match taken_by {
        Some(id) => format!(
            "node {id}, a document that is not s3://{}/{}",
            plan.facts.bucket, plan.facts.key
        ),
        None => "an item the service account cannot see".to_string(),
    };
    let disambiguated =
        disambiguate_node_name(&plan.document_name, &plan.facts.bucket, &plan.facts.key);
    if plan.on_name_clash == OnNameClash::Refuse || name == disambiguated {
        return Err(StepError::Permanent(format!(
            "the name {name:?} in folder {} is taken by {holder}; rule {:?} does not declare over it (on_name_clash: {})",
            plan.folder_id,
            plan.rule,
            if name == disambiguated {
                "even the disambiguated name is taken"
            } else {
                "refuse"
            }
        )));
    }
    tracing::warn!(name, taken_by, declared_as = %disambiguated, "name clash: declaring under a disambiguated name");
    run.progress.name_clash = Some(NameClash {
        name: plan.document_name.clone(),
        taken_by,
        declared_as: disambiguated.clone(),
    });
    Ok(disambiguated)
}

/// Whether `node` is the document of this S3 object (bucket and key), so a new version of it
/// belongs there. Its links say so once a declaration finished; before that (or for a
/// document records-bridge did not create) the description written with the create does.
async fn is_this_objects_document(
    run: &Run<'_>,
    node: &opentext_client::model::Node,
) -> Result<bool, StepError> {
    let f = &run.facts;
    let links = run
        .deps
        .links
        .get(node.id as u64)
        .await
        .map_err(|e| StepError::Retry(e.to_string()))?;
    if !links.versions.is_empty() {
        return Ok(links
            .versions
            .iter()
            .any(|v| v.bucket == f.bucket && v.key == f.key));
    }
    let ours = format!("s3://{}/{}", f.bucket, f.key);
    let described = node.description.as_deref().unwrap_or_default();
    Ok(described.lines().any(|line| {
        let line = line.trim();
        line == ours
            || line.starts_with(&format!("{ours}?versionId="))
            // Cut at OpenText's 255 characters: as far as it goes, it is ours.
            || (line.chars().count() == MAX_DESCRIPTION_CHARS && ours.starts_with(line))
    }))
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
    let details = RecordUpdate {
        official: plan.record.official,
        record_date: plan.record.record_date.clone(),
        status: plan.record.status.clone(),
        rsi: plan.record.rsi.clone(),
        ..Default::default()
    };
    if run.created_here {
        // The create carried every value known before the hash, and nothing has classified
        // the new document yet: set what needed the hash, then classify in one call.
        set_hash_values(&ot, node, &plan, &sha256).await?;
        match ot
            .apply_rm_classification(node, plan.classification_id as i64, &details, None)
            .await
        {
            Ok(_) => return Ok(()),
            // Classified meanwhile after all: the reading path below settles it.
            Err(OtError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    } else {
        let categories: Vec<_> = plan
            .category_values(&sha256)
            .map_err(|e| StepError::Permanent(e.to_string()))?
            .iter()
            .map(json_category)
            .collect();
        ot.set_categories(node, &categories).await?;
    }
    match ot
        .classify_record(node, plan.classification_id as i64, &details)
        .await
    {
        Ok(()) => Ok(()),
        // Edited again after the fresh read: someone is working on the record; later.
        Err(OtError::Conflict { .. }) => {
            Err(StepError::Retry("RM metadata token kept changing".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// After a create that carried the values known before the hash: the values that needed it,
/// updating the categories the create applied and applying any it could not.
async fn set_hash_values(
    ot: &opentext_client::Client,
    node: i64,
    plan: &Plan,
    sha256: &str,
) -> Result<(), StepError> {
    let carried = plan
        .category_values_before_hash()
        .map_err(|e| StepError::Permanent(e.to_string()))?;
    let needing = plan
        .category_values_needing_hash(sha256)
        .map_err(|e| StepError::Permanent(e.to_string()))?;
    for cat in &needing {
        let (id, values) = json_category(cat);
        if carried
            .iter()
            .any(|c| c.id == cat.id && !c.values.is_empty())
        {
            ot.update_category(node, id, &values).await?;
        } else {
            ot.apply_category(node, id, &values).await?;
        }
    }
    Ok(())
}

fn json_category(cat: &CategoryValues) -> (i64, Map<String, Value>) {
    let values = cat
        .values
        .iter()
        .map(|(k, v)| (k.clone(), attr_json(v)))
        .collect();
    (cat.id as i64, values)
}
