//! What a disposition batch has done so far, saved in its workflow item after every step:
//! the records frozen at the first attempt, each version's deletion time, each refusal, and
//! the certificate once written. A rerun after a crash reads it back, deletes only what is
//! left, and writes the very same certificate (same id, same times), so it is written once.

use std::collections::BTreeMap;

use records_domain::disposition::{
    Approval, CERTIFICATE_SCHEMA, CertificateVersion, CertifiedRecord, DispositionCertificate,
    RefusalNote, RefusedRecord,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One record of the batch as the snapshot listed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRecord {
    pub node_id: u64,
    pub name: String,
    pub stage_count: i64,
}

/// How a record ended in this batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RecordOutcome {
    /// Its versions are (being) destroyed: each with its disposal once done.
    Destroyed(CertifiedRecord),
    Refused {
        reasons: Vec<RefusalNote>,
    },
    /// A rerun found a hold (or retention) that was not there when some versions were
    /// deleted: those stay certified as deleted, the rest are refused with the reasons.
    PartlyDestroyed {
        certified: CertifiedRecord,
        reasons: Vec<RefusalNote>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispositionProgress {
    pub certificate_id: String,
    pub dry_run: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    pub approval: Approval,
    pub records: Vec<BatchRecord>,
    #[serde(default)]
    pub outcomes: BTreeMap<u64, RecordOutcome>,
    /// `s3://bucket/key` of the stored certificate, once written.
    #[serde(default)]
    pub certificate_uri: Option<String>,
    /// OpenText was told (the disposition actions performed, refusals commented).
    #[serde(default)]
    pub reported: bool,
    /// Decided at freezing: the versions are deleted by an S3 Batch Operations job.
    #[serde(default)]
    pub via_job: bool,
    /// That job, once created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<super::job::JobProgress>,
}

/// The policy rule the certificate names: records-bridge disposes under P4's rule.
pub const POLICY_RULE: &str = "p4-approved-disposition";

impl DispositionProgress {
    pub fn certificate(&self) -> DispositionCertificate {
        let mut records = Vec::new();
        let mut refused = Vec::new();
        for r in &self.records {
            match self.outcomes.get(&r.node_id) {
                Some(RecordOutcome::Destroyed(c)) => records.push(c.clone()),
                Some(RecordOutcome::Refused { reasons }) => refused.push(RefusedRecord {
                    node_id: r.node_id,
                    name: r.name.clone(),
                    reasons: reasons.clone(),
                }),
                Some(RecordOutcome::PartlyDestroyed { certified, reasons }) => {
                    records.push(certified.clone());
                    refused.push(RefusedRecord {
                        node_id: r.node_id,
                        name: r.name.clone(),
                        reasons: reasons.clone(),
                    });
                }
                None => {}
            }
        }
        DispositionCertificate {
            schema_version: CERTIFICATE_SCHEMA,
            certificate_id: self.certificate_id.clone(),
            dry_run: self.dry_run,
            generated_at: self.generated_at,
            approval: self.approval.clone(),
            policy_rule: POLICY_RULE.into(),
            records,
            refused,
        }
    }

    /// The destroyed record's version entry, to fill in as it is deleted.
    pub fn version_mut(
        &mut self,
        node_id: u64,
        version_id: &str,
    ) -> Option<&mut CertificateVersion> {
        match self.outcomes.get_mut(&node_id) {
            Some(RecordOutcome::Destroyed(c)) => {
                c.versions.iter_mut().find(|v| v.version_id == version_id)
            }
            _ => None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain data")
    }
}
