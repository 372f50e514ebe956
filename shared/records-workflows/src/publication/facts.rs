//! What OpenText says about a document now: the node, and the facts its gates are judged on.

use opentext_client::model::{Node, Version};
use records_domain::policy::publication::{ApprovalSource, PublicationPolicy};
use records_domain::publication::GateFacts;

use crate::StepError;
use crate::governance::opentext_side::holds_in_force;

/// The document as the gates and the key need it.
pub struct Document {
    pub node: Node,
    pub versions: Vec<Version>,
    pub gates: GateFacts,
}

impl Document {
    pub fn version(&self, number: u32) -> Option<&Version> {
        self.versions
            .iter()
            .find(|v| v.version_number == number as i64)
    }
}

/// Reads the node and every gate's facts; `None` when the node no longer exists (disposed
/// or deleted in OpenText).
pub async fn read(
    ot: &opentext_client::Client,
    policy: &PublicationPolicy,
    node_id: u64,
) -> Result<Option<Document>, StepError> {
    let id = node_id as i64;
    let node = match ot.get_node(id).await {
        Ok(n) => n,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let rm = ot.rm_classifications(id).await?;
    let primary = rm.primary();
    let categories = ot.get_categories(id).await?;
    let attribute = |a: &records_domain::policy::publication::AttributeRef| {
        categories
            .iter()
            .find(|c| c.category_id == a.category_id as i64)
            .and_then(|c| c.value(a.attribute as i64))
            .cloned()
    };
    let approval_value = match &policy.approval.source {
        ApprovalSource::Attribute { attribute: a, .. } => attribute(a),
        ApprovalSource::RmStatus(_) => None,
    };
    let approved_version = attribute(&policy.approval.version_attribute);
    let holds = holds_in_force(ot, id).await?;
    let versions = ot.list_versions(id).await?;
    let gates = GateFacts {
        classified: !rm.data.is_empty(),
        official: primary.and_then(|d| d.official),
        rm_status: primary.and_then(|d| d.status_code()).map(str::to_string),
        approval_value,
        approved_version,
        holds,
        versions: versions
            .iter()
            .filter_map(|v| u32::try_from(v.version_number).ok())
            .collect(),
    };
    Ok(Some(Document {
        node,
        versions,
        gates,
    }))
}
