use super::*;
use StateKind::*;

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

#[test]
fn state_names_are_the_stored_ones_and_parse_back() {
    for s in StateKind::ALL {
        assert_eq!(<StateKind as WorkflowState>::parse(s.as_str()), Some(s));
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            format!("\"{}\"", s.as_str())
        );
    }
    assert_eq!(<StateKind as WorkflowState>::parse("declared"), None);
    assert_eq!(
        Tagged.move_to(Classified).unwrap_err().to_string(),
        "illegal declaration transition tagged -> classified"
    );
}
