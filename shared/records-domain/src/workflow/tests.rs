use super::*;
use StateKind::*;

const NOW: Now<'static> = Now {
    epoch_secs: 1_000,
    rfc3339: "2026-11-25T18:00:00Z",
};

fn later(secs: i64) -> Now<'static> {
    Now {
        epoch_secs: NOW.epoch_secs + secs,
        rfc3339: "2026-11-25T18:10:00Z",
    }
}

/// Written independently of `TRANSITIONS`: rows are `from`, columns `to`, in
/// `StateKind::ALL` order (Rec Cla Upl'ing Upl'ed Cls Tag Done Fail Skip).
const EXPECTED: [&str; 9] = [
    "010000011", // received
    "001000011", // claimed
    "000100010", // uploading
    "000010010", // uploaded
    "000001010", // classified
    "000000100", // tagged
    "000000000", // done
    "010000000", // failed
    "010000000", // skipped
];

#[test]
fn every_pair_matches_the_expected_matrix() {
    let mut legal = 0;
    for (i, from) in StateKind::ALL.into_iter().enumerate() {
        for (j, to) in StateKind::ALL.into_iter().enumerate() {
            let want = EXPECTED[i].as_bytes()[j] == b'1';
            assert_eq!(can_transition(from, to), want, "{from} -> {to}");
            legal += usize::from(want);
        }
    }
    assert_eq!(legal, TRANSITIONS.len(), "the table has no duplicates");
}

#[test]
fn done_is_final_and_no_self_loops() {
    for s in StateKind::ALL {
        assert!(!can_transition(Done, s));
        assert!(!can_transition(s, s));
    }
    assert!(Done.is_settled() && Failed.is_settled() && Skipped.is_settled());
    assert!(!Uploading.is_settled());
}

#[test]
fn transition_checks_kinds_and_keeps_data() {
    let up = DeclarationState::Uploading {
        folder_id: 2101,
        name: "a.pdf".into(),
    };
    let next = transition(
        &up,
        DeclarationState::Uploaded {
            node_id: 10001,
            version_number: 1,
        },
    )
    .unwrap();
    assert_eq!(next.kind(), Uploaded);
    let err = transition(&DeclarationState::Received, DeclarationState::Done).unwrap_err();
    assert_eq!(
        err,
        IllegalTransition {
            from: Received,
            to: Done
        }
    );
    assert_eq!(
        err.to_string(),
        "illegal declaration transition received -> done"
    );
}

#[test]
fn state_json_shape() {
    let s = DeclarationState::Uploading {
        folder_id: 2101,
        name: "a.pdf".into(),
    };
    assert_eq!(
        serde_json::to_string(&s).unwrap(),
        r#"{"state":"uploading","folder_id":2101,"name":"a.pdf"}"#
    );
    assert_eq!(
        serde_json::to_string(&DeclarationState::Done).unwrap(),
        r#"{"state":"done"}"#
    );
}

fn item() -> WorkItem {
    let obj = ObjectVersion::new("acme-records-prod", "finance/a.pdf", Some("v1"));
    WorkItem::new(IdempotencyKey::declare(&obj, None), obj, NOW)
}

#[test]
fn happy_path_through_the_work_item() {
    let mut w = item();
    assert_eq!(w.state, DeclarationState::Received);
    w.claim("worker-a", 300, NOW, false).unwrap();
    assert_eq!((w.state.kind(), w.attempts), (Claimed, 1));
    assert_eq!(w.lease_expires_at, Some(1_300));
    w.advance(
        DeclarationState::Uploading {
            folder_id: 2101,
            name: "a.pdf".into(),
        },
        NOW,
    )
    .unwrap();
    w.advance(
        DeclarationState::Uploaded {
            node_id: 10001,
            version_number: 1,
        },
        NOW,
    )
    .unwrap();
    assert_eq!((w.node_id, w.version_number), (Some(10001), Some(1)));
    w.advance(DeclarationState::Classified, NOW).unwrap();
    w.advance(DeclarationState::Tagged, NOW).unwrap();
    w.advance(DeclarationState::Done, later(5)).unwrap();
    assert_eq!(w.lease_owner, None);
    assert_eq!(w.updated_at, "2026-11-25T18:10:00Z");
    assert_eq!(
        w.claim("worker-b", 300, later(10), true),
        Err(ClaimError::AlreadyDone)
    );
}

#[test]
fn leases_block_others_until_expiry_and_resume_keeps_state() {
    let mut w = item();
    w.claim("worker-a", 300, NOW, false).unwrap();
    w.advance(
        DeclarationState::Uploading {
            folder_id: 2101,
            name: "a.pdf".into(),
        },
        NOW,
    )
    .unwrap();
    assert_eq!(
        w.claim("worker-b", 300, later(10), false),
        Err(ClaimError::Leased {
            owner: "worker-a".into(),
            expires_at: 1_300
        })
    );
    // worker-a died; after expiry worker-b resumes in Uploading.
    w.claim("worker-b", 300, later(301), false).unwrap();
    assert_eq!(w.state.kind(), Uploading);
    assert_eq!(w.attempts, 2);
    assert_eq!(w.lease_owner.as_deref(), Some("worker-b"));
}

#[test]
fn retryable_errors_keep_state_failed_needs_replay() {
    let mut w = item();
    w.claim("a", 300, NOW, false).unwrap();
    w.record_retryable_error("503 from Content Server", NOW);
    assert_eq!(w.state.kind(), Claimed);
    assert_eq!(w.lease_owner, None);
    w.claim("b", 300, NOW, false).unwrap();
    w.advance(
        DeclarationState::Failed {
            reason: "name exists; rule refuses".into(),
        },
        NOW,
    )
    .unwrap();
    assert_eq!(w.last_error.as_deref(), Some("name exists; rule refuses"));
    assert!(matches!(
        w.claim("c", 300, NOW, false),
        Err(ClaimError::Failed(_))
    ));
    w.claim("operator", 300, NOW, true).unwrap();
    assert_eq!(w.state.kind(), Claimed);
}

#[test]
fn skipped_item_is_re_evaluated_by_a_later_event() {
    let mut w = item();
    w.claim("a", 300, NOW, false).unwrap();
    w.advance(
        DeclarationState::Skipped {
            reason: "ungoverned".into(),
        },
        NOW,
    )
    .unwrap();
    w.claim("a", 300, later(60), false).unwrap();
    assert_eq!(w.state.kind(), Claimed);
    assert!(w.advance(DeclarationState::Tagged, NOW).is_err());
}

#[test]
fn work_item_roundtrips_as_json() {
    let mut w = item();
    w.claim("a", 300, NOW, false).unwrap();
    let j = serde_json::to_string(&w).unwrap();
    assert_eq!(serde_json::from_str::<WorkItem>(&j).unwrap(), w);
}
