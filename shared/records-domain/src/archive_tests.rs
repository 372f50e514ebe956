use time::macros::date;

use super::*;

fn stage(event_type: i64, years: i64) -> StagePeriod {
    StagePeriod {
        stage: "ACTIVE".into(),
        event_type: Some(event_type),
        years,
        ..Default::default()
    }
}

#[test]
fn seven_years_from_the_record_date() {
    let lock = lock_for("FIN-7Y", &[stage(1, 7)], Some(date!(2026 - 03 - 15))).unwrap();
    assert_eq!(
        lock,
        Lock::RetainUntil {
            date: date!(2033 - 03 - 16),
            permanent: false
        }
    );
}

#[test]
fn stages_add_up_and_months_and_days_count() {
    let mut s2 = stage(1, 1);
    s2.months = 2;
    s2.days = 10;
    let lock = lock_for("X", &[stage(1, 2), s2], Some(date!(2026 - 01 - 01))).unwrap();
    assert_eq!(
        lock,
        Lock::RetainUntil {
            date: date!(2029 - 03 - 12),
            permanent: false
        }
    );
}

#[test]
fn leap_day_clamps_to_month_end() {
    assert_eq!(
        add_period(date!(2024 - 02 - 29), 1, 0, 0),
        Some(date!(2025 - 02 - 28))
    );
    assert_eq!(
        add_period(date!(2026 - 01 - 31), 0, 1, 0),
        Some(date!(2026 - 02 - 28))
    );
}

#[test]
fn permanent_is_capped_far_in_the_future() {
    let lock = lock_for("HR-PERM", &[stage(5, 0)], Some(date!(2026 - 01 - 01))).unwrap();
    assert_eq!(
        lock,
        Lock::RetainUntil {
            date: date!(2126 - 01 - 02),
            permanent: true
        }
    );
}

#[test]
fn event_based_becomes_an_event_hold_even_without_a_record_date() {
    let mut s = stage(3, 0);
    s.event_rule = Some("CONTRACT END".into());
    let lock = lock_for("LEG-EVENT", &[s, stage(1, 10)], None).unwrap();
    assert_eq!(
        lock,
        Lock::EventHold {
            event_rule: "CONTRACT END".into()
        }
    );
}

#[test]
fn refusals_say_why() {
    assert_eq!(
        lock_for("FIN-7Y", &[stage(1, 7)], None),
        Err(RetentionError::NoRecordDate("FIN-7Y".into()))
    );
    assert_eq!(
        lock_for("E", &[], Some(date!(2026 - 01 - 01))),
        Err(RetentionError::NoStages("E".into()))
    );
    let err = lock_for("Q", &[stage(9, 1)], Some(date!(2026 - 01 - 01))).unwrap_err();
    assert!(err.to_string().contains("event type 9"), "{err}");
}

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
        lock: Some(Lock::RetainUntil {
            date: date!(2033 - 01 - 01),
            permanent: false,
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
