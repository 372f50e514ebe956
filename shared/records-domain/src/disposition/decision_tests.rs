use time::macros::datetime;

use super::*;
use crate::idempotency::ObjectVersion;
use crate::retention::{CurrentLock, LockMode};

const NOW: time::OffsetDateTime = datetime!(2031-06-01 12:00 UTC);

fn version(id: &str) -> ObjectVersion {
    ObjectVersion::new("records", "claims/c-17.pdf", Some(id))
}

fn present(id: &str) -> VersionState {
    VersionState {
        version: version(id),
        presence: VersionPresence::Present {
            legal_hold: false,
            lock: Some(CurrentLock {
                mode: LockMode::Compliance,
                until: datetime!(2031-01-01 00:00 UTC),
            }),
        },
    }
}

fn gone(id: &str) -> VersionState {
    VersionState {
        version: version(id),
        presence: VersionPresence::Gone,
    }
}

fn inputs(versions: Vec<VersionState>) -> DispositionInputs {
    DispositionInputs {
        node_id: 4711,
        holds_in_force: vec![],
        disposition_date: Some(datetime!(2031-05-01 00:00 UTC)),
        versions,
        now: NOW,
    }
}

fn reasons(inputs: &DispositionInputs) -> Vec<RefusalReason> {
    match decide(inputs) {
        DispositionDecision::Refuse(r) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn destroys_every_version_when_nothing_holds_and_retention_is_over() {
    let decision = decide(&inputs(vec![present("v1"), present("v2")]));
    assert_eq!(
        decision,
        DispositionDecision::Destroy {
            delete: vec![version("v1"), version("v2")],
            already_gone: vec![],
        }
    );
}

#[test]
fn an_opentext_hold_refuses_and_is_named() {
    let mut i = inputs(vec![present("v1")]);
    i.holds_in_force = vec![900, 901];
    let r = reasons(&i);
    assert_eq!(
        r,
        vec![
            RefusalReason::OpentextHold {
                node_id: 4711,
                hold_id: 900
            },
            RefusalReason::OpentextHold {
                node_id: 4711,
                hold_id: 901
            },
        ]
    );
    assert_eq!(r[0].message(), "record 4711 is under OpenText hold 900");
}

#[test]
fn an_s3_legal_hold_on_any_version_refuses() {
    let mut held = present("v2");
    held.presence = VersionPresence::Present {
        legal_hold: true,
        lock: None,
    };
    let r = reasons(&inputs(vec![present("v1"), held]));
    assert_eq!(
        r,
        vec![RefusalReason::S3LegalHold {
            version: version("v2")
        }]
    );
    assert_eq!(
        r[0].to_string(),
        "S3 legal hold is on for s3://records/claims/c-17.pdf?versionId=v2"
    );
}

#[test]
fn unexpired_retention_refuses_in_either_mode() {
    let locked = |id: &str, mode| VersionState {
        version: version(id),
        presence: VersionPresence::Present {
            legal_hold: false,
            lock: Some(CurrentLock {
                mode,
                until: datetime!(2032-01-01 00:00 UTC),
            }),
        },
    };
    let r = reasons(&inputs(vec![
        locked("v1", LockMode::Governance),
        locked("v2", LockMode::Compliance),
    ]));
    assert_eq!(r.len(), 2);
    assert_eq!(
        r[1],
        RefusalReason::RetentionNotEnded {
            version: version("v2"),
            mode: LockMode::Compliance,
            retain_until: datetime!(2032-01-01 00:00 UTC),
        }
    );
    assert_eq!(
        r[1].message(),
        "s3://records/claims/c-17.pdf?versionId=v2 is locked in COMPLIANCE mode until 2032-01-01T00:00:00Z"
    );
    assert!(r[0].message().contains("GOVERNANCE"));
}

#[test]
fn retention_ending_exactly_now_has_ended() {
    let mut v = present("v1");
    v.presence = VersionPresence::Present {
        legal_hold: false,
        lock: Some(CurrentLock {
            mode: LockMode::Compliance,
            until: NOW,
        }),
    };
    assert!(decide(&inputs(vec![v])).is_destroy());
}

#[test]
fn a_missing_disposition_date_refuses() {
    let mut i = inputs(vec![present("v1")]);
    i.disposition_date = None;
    let r = reasons(&i);
    assert_eq!(r, vec![RefusalReason::NoDispositionDate { node_id: 4711 }]);
    assert!(r[0].message().contains("no disposition date"));
}

#[test]
fn a_future_disposition_date_refuses_with_the_date() {
    let mut i = inputs(vec![present("v1")]);
    i.disposition_date = Some(datetime!(2031-06-02 00:00 UTC));
    let r = reasons(&i);
    assert_eq!(
        r[0].message(),
        "record 4711 reaches its disposition date only on 2031-06-02T00:00:00Z"
    );
}

#[test]
fn a_record_without_linked_versions_refuses() {
    let r = reasons(&inputs(vec![]));
    assert_eq!(r, vec![RefusalReason::NoLinkedVersions { node_id: 4711 }]);
}

#[test]
fn every_reason_is_reported_at_once() {
    let mut held = present("v1");
    held.presence = VersionPresence::Present {
        legal_hold: true,
        lock: Some(CurrentLock {
            mode: LockMode::Governance,
            until: datetime!(2040-01-01 00:00 UTC),
        }),
    };
    let mut i = inputs(vec![held]);
    i.holds_in_force = vec![7];
    i.disposition_date = Some(datetime!(2040-01-01 00:00 UTC));
    let r = reasons(&i);
    let codes: Vec<_> = r
        .iter()
        .map(|r| serde_json::to_value(r).unwrap()["code"].clone())
        .collect();
    assert_eq!(
        codes,
        vec![
            "opentext_hold",
            "disposition_date_not_reached",
            "s3_legal_hold",
            "retention_not_ended"
        ]
    );
}

#[test]
fn a_rerun_deletes_only_what_is_left_and_never_twice() {
    let decision = decide(&inputs(vec![gone("v1"), present("v2"), gone("v3")]));
    assert_eq!(
        decision,
        DispositionDecision::Destroy {
            delete: vec![version("v2")],
            already_gone: vec![version("v1"), version("v3")],
        }
    );
    // Everything gone: nothing to delete, still a destruction to certify.
    let decision = decide(&inputs(vec![gone("v1"), gone("v2")]));
    assert_eq!(
        decision,
        DispositionDecision::Destroy {
            delete: vec![],
            already_gone: vec![version("v1"), version("v2")],
        }
    );
}

#[test]
fn a_hold_placed_between_runs_stops_the_rest() {
    let mut i = inputs(vec![gone("v1"), present("v2")]);
    i.holds_in_force = vec![12];
    assert!(!decide(&i).is_destroy());
}
