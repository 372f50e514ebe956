use time::macros::datetime;

use super::*;

#[test]
fn archive_keys_cannot_escape_their_prefix() {
    assert_eq!(archive_key(10001, 3, "a b.pdf"), "archive/10001/v3/a b.pdf");
    assert_eq!(archive_key(1, 1, "../x/y"), "archive/1/v1/.._x_y");
    assert_eq!(archive_key(1, 1, ".."), "archive/1/v1/content");
    assert_eq!(archive_key(1, 1, ""), "archive/1/v1/content");
}

fn planned(n: u32) -> PlannedCopy {
    PlannedCopy {
        version_number: n,
        file_name: "f".into(),
        size: 10,
        key: archive_key(7, n, "f"),
    }
}

fn copy(n: u32, verified: bool) -> ArchivedCopy {
    ArchivedCopy {
        version_number: n,
        key: archive_key(7, n, "f"),
        s3_version_id: Some(format!("s3v{n}")),
        size: 10,
        sha256: "ab".into(),
        verified,
    }
}

#[test]
fn release_needs_every_planned_copy_verified() {
    let mut p = ArchiveProgress {
        bucket: "b".into(),
        planned: vec![planned(1), planned(2)],
        ..Default::default()
    };
    assert!(!p.all_verified());
    assert_eq!(p.remaining().count(), 2);
    p.copies.push(copy(1, true));
    assert_eq!(
        p.remaining().map(|c| c.version_number).collect::<Vec<_>>(),
        [2]
    );
    p.copies.push(copy(2, false));
    assert!(!p.all_verified());
    p.copies[1].verified = true;
    assert!(p.all_verified());
    assert!(!ArchiveProgress::default().all_verified());
}

#[test]
fn progress_round_trips_and_the_stub_names_every_copy() {
    let p = ArchiveProgress {
        bucket: "arch".into(),
        planned: vec![planned(1)],
        copies: vec![copy(1, true)],
        lock: Some(RetentionTarget::Until {
            at: datetime!(2033-01-01 0:00 UTC),
        }),
        stub_version: None,
        reason: None,
    };
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(serde_json::from_str::<ArchiveProgress>(&json).unwrap(), p);
    let stub = p.stub_text(7);
    assert!(
        stub.contains("s3://arch/archive/7/v1/f?versionId=s3v1"),
        "{stub}"
    );
    assert_eq!(archive_workflow_key(7).as_str(), "archive#7");
}
