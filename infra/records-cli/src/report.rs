//! The verification report: what was checked, what the certificate says, and the verdict.

use std::fmt::Write;

use records_domain::disposition::{SignedCertificate, VerifiedCertificate, VersionDisposal};
use records_domain::retention::rfc3339;

use crate::check_s3::{CheckedVersion, VersionCheck};

pub struct Report {
    lines: Vec<String>,
    failures: Vec<String>,
}

impl Report {
    pub fn new(source: String, key: String) -> Self {
        Report {
            lines: vec![
                format!("certificate   {source}"),
                format!("public key    {key}"),
            ],
            failures: Vec::new(),
        }
    }

    pub fn verified(&self) -> bool {
        self.failures.is_empty()
    }

    pub fn fail(&mut self, reason: String) {
        self.failures.push(reason);
    }

    pub fn envelope(&mut self, envelope: &SignedCertificate) {
        self.lines.push(format!(
            "signed by     {} ({})",
            envelope.key_id,
            envelope.signing_algorithm.as_str()
        ));
        self.lines
            .push(format!("stated sha256 {}", envelope.sha256));
    }

    pub fn verified_certificate(&mut self, verified: &VerifiedCertificate) {
        let c = &verified.certificate;
        let a = &c.approval;
        self.lines
            .push("hash          ok (recomputed from the RFC 8785 canonical form)".into());
        self.lines.push("signature     ok".into());
        self.lines
            .push(format!("id            {}", c.certificate_id));
        self.lines.push(format!(
            "kind          {}",
            if c.dry_run {
                "DRAFT (dry run): nothing was destroyed"
            } else {
                "certificate of destruction"
            }
        ));
        self.lines
            .push(format!("generated at  {}", rfc3339(c.generated_at)));
        self.lines.push(format!(
            "approval      {:?} of disposition search {} (qdate {}), by {} at {}",
            a.source,
            a.disposition_search_id,
            a.qdate,
            a.reviewer,
            rfc3339(a.decided_at)
        ));
        self.lines.push(format!("policy rule   {}", c.policy_rule));
        self.lines.push(format!(
            "records       {} destroyed, {} refused",
            c.records.len(),
            c.refused.len()
        ));
        for record in &c.records {
            self.lines.push(format!(
                "  record {} {:?} (classification {}, RSI {}, disposition date {})",
                record.node_id,
                record.name,
                record.classification.as_deref().unwrap_or("-"),
                record.rsi.as_deref().unwrap_or("-"),
                record
                    .disposition_date
                    .map(rfc3339)
                    .unwrap_or_else(|| "-".into()),
            ));
            for v in &record.versions {
                let disposal = match v.disposal {
                    VersionDisposal::Deleted { at } => format!("deleted {}", rfc3339(at)),
                    VersionDisposal::FoundGone { checked_at } => {
                        format!("found gone {}", rfc3339(checked_at))
                    }
                    VersionDisposal::WouldDelete => "would be deleted".into(),
                };
                self.lines.push(format!(
                    "    s3://{}/{}?versionId={} sha256 {} size {} {}",
                    v.bucket,
                    v.key,
                    v.version_id,
                    v.sha256.as_deref().unwrap_or("-"),
                    v.size,
                    disposal
                ));
            }
        }
        for refused in &c.refused {
            self.lines
                .push(format!("  refused {} {:?}", refused.node_id, refused.name));
            for note in &refused.reasons {
                self.lines.push(format!("    {}", note.message));
            }
        }
        for problem in c.inconsistencies() {
            self.fail(format!("inconsistent certificate: {problem}"));
        }
    }

    pub fn s3_checks(&mut self, checks: Vec<CheckedVersion>) {
        self.lines.push("s3 check".into());
        for checked in checks {
            let state = match &checked.check {
                VersionCheck::Gone => "gone".to_string(),
                VersionCheck::NotChecked => "not checked (dry run)".to_string(),
                VersionCheck::StillPresent => "STILL PRESENT".to_string(),
                VersionCheck::Unconfirmed(why) => format!("NOT CONFIRMED: {why}"),
            };
            self.lines.push(format!("  {} {state}", checked.uri));
            if !checked.check.passes() {
                self.fail(format!("{} is not gone from S3: {state}", checked.uri));
            }
        }
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::new();
        for line in &self.lines {
            let _ = writeln!(out, "{line}");
        }
        if self.failures.is_empty() {
            let _ = writeln!(out, "RESULT: VERIFIED");
        } else {
            let _ = writeln!(out, "RESULT: NOT VERIFIED");
            for failure in &self.failures {
                let _ = writeln!(out, "  - {failure}");
            }
        }
        f.write_str(&out)
    }
}
