//! What a finished (or a deferred) archive must show, asserted the same way by every test.

use aws_sdk_s3::types::{ChecksumMode, ObjectLockMode};
use records_domain::{AuditAction, Outcome};
use serde_json::json;

use super::*;

/// Everything a finished archive of a 3-version record must show.
pub async fn assert_archived_once(stack: &local_stack::stack::Stack, node: u64, name: &str) {
    let bucket = archive_bucket(stack);
    let bodies = contents(name);
    let versions = archive_versions(stack, node).await;
    assert_eq!(
        versions.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
        (1..=3)
            .map(|n| format!("archive/{node}/v{n}/{name}.pdf"))
            .collect::<Vec<_>>(),
        "exactly one S3 version per OpenText version: no second copy"
    );
    for (i, (key, version_id)) in versions.iter().enumerate() {
        let h = stack
            .s3()
            .head_object()
            .bucket(&bucket)
            .key(key)
            .version_id(version_id)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .expect("head archive copy");
        assert_eq!(h.content_length(), Some(bodies[i].len() as i64), "{key}");
        assert_eq!(
            h.checksum_sha256(),
            Some(sha256_b64(&bodies[i]).as_str()),
            "{key}"
        );
        assert_eq!(h.object_lock_mode(), Some(&ObjectLockMode::Compliance));
        assert_eq!(
            h.object_lock_retain_until_date().map(|d| d.secs()),
            Some(RETAIN_UNTIL_SECS),
            "FIN-7Y: 7 years from the record date"
        );
        assert_eq!(
            h.storage_class().map(|c| c.as_str()),
            Some("GLACIER_IR"),
            "{key}"
        );
        let meta = h.metadata().cloned().unwrap_or_default();
        assert_eq!(meta["otcs-node-id"], node.to_string());
        assert_eq!(meta["otcs-version"], (i + 1).to_string());
        assert_eq!(meta["otcs-sha256"], sha256_hex(&bodies[i]));
        assert_eq!(
            meta["source"],
            format!("otcs:node/{node}/version/{}", i + 1)
        );
    }

    let n = sim_node(stack, node).await;
    let left = n["versions"].as_array().unwrap();
    assert_eq!(left.len(), 1, "released: only the stub remains: {left:?}");
    assert_eq!(left[0]["file_name"], "ARCHIVED.txt");
    assert_eq!(
        category_value(&n, "3100_9"),
        Some(json!(format!("s3://{bucket}/archive/{node}/")))
    );
    assert!(
        n["rm"]["records"].to_string().contains("S3-ARCHIVE"),
        "RM storage records the archive: {}",
        n["rm"]
    );

    let (state, detail) = workflow(stack, node).await.unwrap();
    assert_eq!(state, "done");
    assert_eq!(detail["copies"].as_array().unwrap().len(), 3);

    let requests = ot_requests(stack, node).await;
    assert_eq!(
        count(&requests, "POST", "/versions"),
        1,
        "one stub version, whatever the crashes: {requests:#?}"
    );

    let audit = audit_history(stack, node).await;
    let archived: Vec<_> = audit
        .iter()
        .filter(|e| e.action == AuditAction::Archive && e.outcome == Outcome::Succeeded)
        .collect();
    for v in 1..=3u32 {
        assert!(
            archived
                .iter()
                .any(|e| e.record.as_ref().and_then(|r| r.version_number) == Some(v)),
            "archive of version {v} audited"
        );
    }
    assert!(
        audit
            .iter()
            .any(|e| e.action == AuditAction::ReleaseContent && e.outcome == Outcome::Succeeded),
        "release audited"
    );
}

/// The archive copies' legal holds are all `on`.
pub async fn assert_copies_held(stack: &local_stack::stack::Stack, node: u64, on: bool, why: &str) {
    let holds = copy_legal_holds(stack, node).await;
    assert_eq!(holds.len(), 3, "{holds:?}");
    for (key, held) in holds {
        assert_eq!(
            held,
            on,
            "{key}: legal hold {}: {why}",
            if on { "ON" } else { "OFF" }
        );
    }
}
