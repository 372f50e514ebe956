use serde_json::json;

use super::*;
use crate::Policy;
use crate::workflow::WorkflowState;

const BASE: &str = "version: 1\nprovenance:\n  category_id: 3100\n  attributes: { bucket: 2, key: 3, version_id: 4, etag: 5, size: 6, sha256: 7 }\nrules:\n  - name: all\n    match: {}\n    action: ignore\n";

fn policy(approval: &str) -> PublicationPolicy {
    Policy::from_yaml(&format!(
        "{BASE}publication:\n  triggers: [request]\n  approval: {approval}\n  audience: public\n  key: \"{{node_id}}/{{name}}\"\n"
    ))
    .unwrap()
    .publication
    .unwrap()
}

fn attribute_policy() -> PublicationPolicy {
    policy(
        "{ status_attribute: \"3300_2\", approved_values: [Approved], version_attribute: \"3300_3\" }",
    )
}

/// Every gate passes: classified, approved, official, unheld, version 2 approved.
fn passing() -> GateFacts {
    GateFacts {
        classified: true,
        official: Some(true),
        rm_status: Some("ACTIVE".into()),
        approval_value: Some(json!("Approved")),
        approved_version: Some(json!(2)),
        holds: vec![],
        versions: vec![1, 2, 3],
    }
}

fn codes(r: Result<u32, Vec<GateRefusal>>) -> Vec<String> {
    r.unwrap_err().into_iter().map(|g| g.code).collect()
}

#[test]
fn all_gates_pass_for_the_latest_approved_version() {
    let p = attribute_policy();
    assert_eq!(check_gates(&p, &passing(), None), Ok(2));
    assert_eq!(check_gates(&p, &passing(), Some(2)), Ok(2));
}

#[test]
fn each_gate_fails_alone_with_its_own_reason() {
    let p = attribute_policy();
    let cases: Vec<(GateFacts, &str, &str)> = vec![
        (
            GateFacts {
                classified: false,
                ..passing()
            },
            "unclassified",
            "no RM classification",
        ),
        (
            GateFacts {
                approval_value: Some(json!("Draft")),
                ..passing()
            },
            "unapproved",
            "\"Draft\"",
        ),
        (
            GateFacts {
                official: Some(false),
                ..passing()
            },
            "not_official",
            "official",
        ),
        (
            GateFacts {
                holds: vec![6100],
                ..passing()
            },
            "held",
            "6100",
        ),
    ];
    for (facts, code, says) in cases {
        let refused = check_gates(&p, &facts, None).unwrap_err();
        assert_eq!(refused.len(), 1, "{code}: {refused:?}");
        assert_eq!(refused[0].code, code);
        assert!(refused[0].reason.contains(says), "{:?}", refused[0].reason);
    }
    let stale = check_gates(&p, &passing(), Some(1)).unwrap_err();
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0].code, "stale_version");
    assert!(stale[0].reason.contains("latest approved version is 2"));
    assert_eq!(
        codes(check_gates(&p, &passing(), Some(3))),
        vec!["stale_version"],
        "a newer, unapproved version is not published either"
    );
}

#[test]
fn the_approved_version_must_be_named_and_exist() {
    let p = attribute_policy();
    for missing in [None, Some(json!(null)), Some(json!("")), Some(json!("x"))] {
        let facts = GateFacts {
            approved_version: missing,
            ..passing()
        };
        assert_eq!(codes(check_gates(&p, &facts, None)), vec!["stale_version"]);
    }
    let facts = GateFacts {
        approved_version: Some(json!(9)),
        ..passing()
    };
    assert!(
        check_gates(&p, &facts, None).unwrap_err()[0]
            .reason
            .contains("does not exist")
    );
    for form in [json!("2"), json!("2.0"), json!([2]), json!(["2"])] {
        let facts = GateFacts {
            approved_version: Some(form.clone()),
            ..passing()
        };
        assert_eq!(check_gates(&p, &facts, None), Ok(2), "{form}");
    }
}

#[test]
fn approval_values_compare_as_the_server_compares_them() {
    let p = attribute_policy();
    for v in [
        json!(" approved "),
        json!("APPROVED"),
        json!(["Draft", "Approved"]),
    ] {
        let facts = GateFacts {
            approval_value: Some(v.clone()),
            ..passing()
        };
        assert_eq!(check_gates(&p, &facts, None), Ok(2), "{v}");
    }
    let by_status = policy("{ rm_status: [APPROVED], version_attribute: \"3300_3\" }");
    assert_eq!(
        codes(check_gates(&by_status, &passing(), None)),
        vec!["unapproved"]
    );
    let approved = GateFacts {
        rm_status: Some("approved".into()),
        ..passing()
    };
    assert_eq!(check_gates(&by_status, &approved, None), Ok(2));
}

#[test]
fn several_failing_gates_are_all_named() {
    let p = attribute_policy();
    let facts = GateFacts {
        official: None,
        approval_value: None,
        holds: vec![1],
        ..passing()
    };
    assert_eq!(
        codes(check_gates(&p, &facts, Some(1))),
        vec!["unapproved", "not_official", "held", "stale_version"]
    );
    let unclassified = GateFacts {
        classified: false,
        official: None,
        ..passing()
    };
    assert_eq!(
        codes(check_gates(&p, &unclassified, None)),
        vec!["unclassified"],
        "no classification, no record: said once"
    );
}

#[test]
fn distribution_paths_are_escaped_and_internal_copies_have_none() {
    assert_eq!(
        cdn_path("public/manuals/7/Safety Manual+ü*.pdf").as_deref(),
        Some("/manuals/7/Safety%20Manual+%C3%BC%2A.pdf")
    );
    assert_eq!(cdn_path("internal/7/a.pdf"), None);
    assert_eq!(
        public_url("https://d1.cloudfront.net/", "public/7/a b.pdf").as_deref(),
        Some("https://d1.cloudfront.net/7/a%20b.pdf")
    );
}

#[test]
fn the_state_table_lets_steps_resume_and_rests_move_anywhere_sensible() {
    use PublicationState::*;
    for s in PublicationState::ALL {
        assert_eq!(PublicationState::parse(s.as_str()), Some(s));
    }
    assert!(Writing.can_move_to(Published));
    assert!(Removing.can_move_to(Withdrawn));
    assert!(Published.can_move_to(Writing), "a new approved version");
    assert!(
        !Claimed.can_move_to(Published),
        "never published without a write"
    );
    assert!(!Refused.can_move_to(Published));
    assert!(!Withdrawn.can_move_to(Published));
    assert!(
        !Published.can_move_to(Withdrawn),
        "a live copy is removed first"
    );
}

#[test]
fn history_keeps_the_latest_copies() {
    let mut p = PublicationProgress::default();
    for v in 1..=25 {
        p.live = Some(LiveCopy {
            version: v,
            key: "k".into(),
            s3_version_id: None,
            sha256: String::new(),
            size: 0,
            published_at: String::new(),
            url: None,
        });
        p.retire_live();
    }
    assert!(p.live.is_none());
    assert_eq!(p.history.len(), state::MAX_HISTORY);
    assert_eq!(p.history.last().unwrap().version, 25);
}
