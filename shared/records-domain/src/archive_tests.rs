use time::macros::datetime;

use super::*;
use crate::workflow::{IllegalTransition, WorkflowState};

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
        holds: vec![6100],
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

#[test]
fn the_stub_says_only_what_is_true_before_and_after_the_purge() {
    let p = ArchiveProgress {
        bucket: "arch".into(),
        planned: vec![planned(1), planned(2)],
        copies: vec![copy(1, true), copy(2, true)],
        ..Default::default()
    };
    let stub = p.stub_text(7);
    assert!(
        stub.contains("archived to S3 at s3://arch/archive/7/"),
        "{stub}"
    );
    assert!(
        stub.contains("Release requested: versions v1, v2"),
        "{stub}"
    );
    // Written before the purge, which a hold or a refusal may stop: it never says the
    // content was released.
    assert!(!stub.contains("released."), "{stub}");
    assert!(!stub.contains("and released"), "{stub}");
    assert!(!STUB_DESCRIPTION.contains("released"));
    assert!(STUB_DESCRIPTION.chars().count() <= 255);
}

#[test]
fn copies_are_legally_held_while_a_hold_is_in_force_or_their_retention_has_no_date() {
    let dated = ArchiveProgress {
        lock: Some(RetentionTarget::Until {
            at: datetime!(2033-01-01 0:00 UTC),
        }),
        ..Default::default()
    };
    assert!(dated.copy_legal_hold_wanted(true));
    assert!(!dated.copy_legal_hold_wanted(false));
    let unlocked = ArchiveProgress::default();
    assert!(unlocked.copy_legal_hold_wanted(true));
    assert!(!unlocked.copy_legal_hold_wanted(false));
    for lock in [RetentionTarget::Permanent, RetentionTarget::AwaitingEvent] {
        let held = ArchiveProgress {
            lock: Some(lock),
            ..Default::default()
        };
        assert!(
            held.copy_legal_hold_wanted(false),
            "a retention kept as a legal hold is never undone by a hold removal"
        );
    }
}

#[test]
fn deferred_and_refused_releases_stay_claimable() {
    for s in [states::RELEASE_DEFERRED, states::RELEASE_REFUSED] {
        assert!(!states::TERMINAL.contains(&s), "{s} must be resumable");
    }
    let old = r#"{"bucket":"b","planned":[],"copies":[]}"#;
    let p: ArchiveProgress = serde_json::from_str(old).unwrap();
    assert!(
        p.holds.is_empty(),
        "items saved before `holds` existed still read"
    );
}

/// Written independently of `ARCHIVE_TRANSITIONS`: rows are `from`, columns `to`, in
/// `ArchiveState::ALL` order (Cla Copy Ver Loc Def Ref Rel Done Fail).
const EXPECTED_MOVES: [&str; 9] = [
    "010000001", // claimed
    "011000001", // copying
    "000100001", // verified
    "000111111", // located
    "000111111", // release_deferred
    "000111111", // release_refused
    "000000011", // released
    "000000000", // done
    "000000000", // failed
];

#[test]
fn every_archive_move_matches_the_expected_matrix() {
    let mut legal = 0;
    for (i, from) in ArchiveState::ALL.into_iter().enumerate() {
        for (j, to) in ArchiveState::ALL.into_iter().enumerate() {
            let want = EXPECTED_MOVES[i].as_bytes()[j] == b'1';
            assert_eq!(from.can_move_to(to), want, "{from} -> {to}");
            assert_eq!(from.move_to(to).is_ok(), want, "{from} -> {to}");
            legal += usize::from(want);
        }
    }
    assert_eq!(
        legal,
        ARCHIVE_TRANSITIONS.len(),
        "the table has no duplicates"
    );
}

#[test]
fn illegal_archive_moves_are_refused_by_name() {
    use ArchiveState::*;
    for (from, to) in [
        (Claimed, Verified),  // nothing copied yet
        (Copying, Located),   // copies not verified
        (Verified, Released), // not located, never released unverified
        (Claimed, Released),  // release before any copy
        (Released, Located),  // no way back once released
        (Done, Claimed),      // done is final
        (Failed, Copying),    // failed is final
        (Verified, Copying),  // verified copies are not copied again
        (Copying, Done),      // never done without verification
        (ReleaseDeferred, Copying),
    ] {
        let err = from.move_to(to).unwrap_err();
        assert_eq!(err, IllegalTransition { from, to });
        assert_eq!(
            err.to_string(),
            format!(
                "illegal archive transition {} -> {}",
                from.as_str(),
                to.as_str()
            )
        );
    }
    assert_eq!(
        Verified.move_to(Released).unwrap_err().to_string(),
        "illegal archive transition verified -> released"
    );
}

#[test]
fn archive_states_keep_their_stored_names() {
    let names = [
        "claimed",
        "copying",
        "verified",
        "located",
        "release_deferred",
        "release_refused",
        "released",
        "done",
        "failed",
    ];
    for (state, name) in ArchiveState::ALL.into_iter().zip(names) {
        assert_eq!(state.as_str(), name);
        assert_eq!(state.to_string(), name);
        assert_eq!(ArchiveState::parse(name), Some(state));
        assert_eq!(
            serde_json::to_string(&state).unwrap(),
            format!("\"{name}\"")
        );
    }
    assert_eq!(ArchiveState::parse("declared"), None);
    assert_eq!(ArchiveState::parse("Done"), None);
    assert_eq!(states::COPYING, "copying");
    assert_eq!(states::RELEASE_DEFERRED, "release_deferred");
    for s in ArchiveState::ALL {
        assert_eq!(
            s.is_terminal(),
            states::TERMINAL.contains(&s.as_str()),
            "{s}"
        );
        if s.is_terminal() {
            assert!(
                ArchiveState::ALL.iter().all(|&to| !s.can_move_to(to)),
                "{s} is terminal: it moves nowhere"
            );
        } else {
            assert!(s.can_move_to(ArchiveState::Failed), "{s} can fail");
        }
    }
    assert!(!ArchiveState::ReleaseDeferred.is_terminal());
    assert!(!ArchiveState::ReleaseRefused.is_terminal());
}
