//! P5 end to end: the real `access-endpoint` binary behind a Function URL event (payload
//! 2.0, as AWS sends it), asking the OpenText simulator as the user, reading links from the
//! workflow table and presigning GETs against moto; the URL it answers with is fetched.

mod access_support;

use std::sync::Arc;
use std::time::Duration;

use access_support::*;
use local_stack::function_url::{UrlResponse, call, request};
use local_stack::stack::{Stack, StackOptions};
use opentext_client::{BytesSource, CreateOptions};
use records_aws::links::LinkedVersion;
use records_domain::{AuditAction, AuditEvent, Outcome};
use sha2::{Digest, Sha256};
use test_support::stack::OptionsExt;

const ACCESS: &str = "\naccess:\n  url_lifetime_seconds: 60\n  holds_block_access: true\n";

async fn stack() -> Stack {
    let policy = test_support::policy::policy(&[test_support::policy::FINANCE, ACCESS]);
    test_support::stack::start(
        StackOptions::new(env!("CARGO_BIN_EXE_access-endpoint"), "AccessFunction")
            .with_policy(&policy),
    )
    .await
}

async fn get(stack: &Stack, path: &str, headers: &[(&str, &str)]) -> UrlResponse {
    let mut all = vec![("user-agent", "records-bridge-test/1.0")];
    all.extend_from_slice(headers);
    call(
        &stack.runtime,
        &request("GET", path, &all, b"", false),
        Duration::from_secs(30),
    )
    .await
    .unwrap()
}

/// The access events about the record and its version.
async fn access_audit(stack: &Stack, node: u64, v: &LinkedVersion) -> Vec<AuditEvent> {
    let mut all = test_support::audit::of_node(stack, node).await;
    all.extend(test_support::audit::of_version(stack, &v.bucket, &v.key, &v.version_id).await);
    all.into_iter()
        .filter(|e| e.action == AuditAction::Access)
        .collect()
}

fn uri_of(v: &LinkedVersion) -> String {
    let encoded = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let s3 = format!(
        "s3://{}/{}?versionId={}",
        v.bucket,
        v.key.replace('%', "%25"),
        v.version_id
    );
    format!("/content?uri={}", encoded(&s3))
}

#[tokio::test]
async fn a_permitted_user_is_sent_to_exactly_the_linked_version_and_it_is_audited() {
    let stack = stack().await;
    let body = b"%PDF-1.7 the signed contract".to_vec();
    let (node, v) = record(&stack, "Vertrag Müller 2026.pdf", &body, "application/pdf").await;
    let jdoe = ticket(&stack, "jdoe", "jdoe-pass").await;

    let r = get(
        &stack,
        &format!("/records/{node}/content"),
        &[("otcsticket", &jdoe)],
    )
    .await;
    assert_eq!(r.status, 303, "{r:?}\n{}", stack.function.logs().join("\n"));
    let location = r.headers["location"].clone();
    assert_eq!(r.headers["cache-control"], "no-store");
    assert!(
        location.contains(&format!("versionId={}", v.version_id)),
        "{location}"
    );
    assert!(location.contains("X-Amz-Expires=60"), "{location}");
    // What the URL asks S3 for. moto 5.1.22 neither applies `response-*` overrides nor
    // refuses an expired presigned URL, so those are read from the URL S3 would enforce.
    let params: std::collections::BTreeMap<String, String> = reqwest::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert_eq!(params["versionId"], v.version_id);
    assert!(
        params["response-content-disposition"]
            .ends_with("filename*=UTF-8''Vertrag%20M%C3%BCller%202026.pdf"),
        "{params:?}"
    );
    assert!(params.contains_key("response-content-type"));
    assert!(params.contains_key("X-Amz-Signature"));
    let signed_at = time::PrimitiveDateTime::parse(
        &params["X-Amz-Date"],
        time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
    .unwrap()
    .assume_utc();
    let age = (time::OffsetDateTime::now_utc() - signed_at).whole_seconds();
    assert!((0..30).contains(&age), "signed {age} s ago");
    let fetched = reqwest::get(&location).await.unwrap();
    assert_eq!(fetched.status(), 200);
    let got = fetched.bytes().await.unwrap();
    assert_eq!(
        hex::encode(Sha256::digest(&got)),
        v.sha256,
        "the version's bytes"
    );

    // The same version by its S3 URI, with an OTDS bearer token this time.
    let token = stack
        .sim_admin_post("otds-tokens", serde_json::json!({"user": "jdoe"}))
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let bearer = format!("Bearer {token}");
    let r = get(&stack, &uri_of(&v), &[("authorization", &bearer)]).await;
    assert_eq!(r.status, 303, "{r:?}");
    assert!(r.headers["location"].contains(&format!("versionId={}", v.version_id)));

    let trail = access_audit(&stack, node, &v).await;
    let granted: Vec<_> = trail
        .iter()
        .filter(|e| e.outcome == Outcome::Succeeded)
        .collect();
    assert_eq!(granted.len(), 2, "{trail:#?}");
    let e = granted[0];
    assert_eq!(e.actor.id, "jdoe");
    assert_eq!(e.record.as_ref().map(|r| r.node_id), Some(node));
    assert_eq!(
        e.object.as_ref().map(|o| o.version_id.as_str()),
        Some(v.version_id.as_str())
    );
    assert_eq!(e.details["source_ip"], "127.0.0.1");
    assert_eq!(e.details["user_agent"], "records-bridge-test/1.0");
    assert!(e.correlation_id.as_deref().is_some_and(|c| !c.is_empty()));

    // Neither the ticket nor the URL's signature reached the logs.
    let logs = stack.function.logs().join("\n");
    assert!(!logs.contains(&jdoe), "the ticket is in the logs");
    assert!(!logs.contains(&token), "the token is in the logs");
    assert!(
        !logs.contains("X-Amz-Signature"),
        "a presigned URL is in the logs"
    );
}

#[tokio::test]
async fn refusals_have_their_status_their_reason_and_an_audit_event() {
    let stack = stack().await;
    let (node, v) = record(&stack, "ledger-2026.pdf", b"ledger", "application/pdf").await;
    let jdoe = ticket(&stack, "jdoe", "jdoe-pass").await;
    let outsider = ticket(&stack, "outsider", "outsider-pass").await;
    let path = format!("/records/{node}/content");

    // 401: no credentials, a bad ticket, an expired one.
    assert_eq!(get(&stack, &path, &[]).await.status, 401);
    let bad = get(&stack, &path, &[("otcsticket", "not-a-ticket")]).await;
    assert_eq!(bad.status, 401, "{bad:?}");
    assert_eq!(bad.json()["code"], "bad_credentials");

    // 403/404: a user OpenText does not let see the record's content.
    let denied = get(&stack, &path, &[("otcsticket", &outsider)]).await;
    assert!(
        [403, 404].contains(&denied.status),
        "{denied:?}\n{}",
        stack.function.logs().join("\n")
    );
    assert!(!denied.headers.contains_key("location"));

    // 403: the auditors may see the record but not its content.
    let admin = ticket(&stack, "Admin", "livelink").await;
    let granted = reqwest::Client::new()
        .post(format!(
            "{}/api/v2/nodes/{node}/permissions/custom",
            stack.sim.base_url()
        ))
        .header("otcsticket", &admin)
        .form(&[("body", r#"{"right_id":1101,"permissions":["see"]}"#)])
        .send()
        .await
        .unwrap();
    assert!(granted.status().is_success(), "{granted:?}");
    let auditor = ticket(&stack, "auditor", "auditor-pass").await;
    let r = get(&stack, &path, &[("otcsticket", &auditor)]).await;
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(r.json()["missing"], "see_contents");

    // 404: not governed (no link), or an S3 version that is no record's.
    let ot = test_support::opentext::service_client(&stack);
    let loose = ot
        .create_document(
            2101,
            "loose.txt",
            Arc::new(BytesSource::new(b"x".to_vec(), "loose.txt")),
            &CreateOptions::default(),
        )
        .await
        .unwrap()
        .id;
    let r = get(
        &stack,
        &format!("/records/{loose}/content"),
        &[("otcsticket", &jdoe)],
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (404, "ungoverned".into())
    );
    let mut other = v.clone();
    other.version_id = "not-this-version".into();
    let r = get(&stack, &uri_of(&other), &[("otcsticket", &jdoe)]).await;
    assert_eq!(r.status, 404, "{r:?}");

    // 423: under hold, as the policy says.
    ot.apply_hold(node as i64, 6100).await.unwrap();
    let r = get(&stack, &path, &[("otcsticket", &jdoe)]).await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (423, "under_hold".into())
    );
    ot.remove_hold(node as i64, 6100).await.unwrap();

    // 410: the version was deleted from S3.
    stack
        .s3()
        .delete_object()
        .bucket(&v.bucket)
        .key(&v.key)
        .version_id(&v.version_id)
        .send()
        .await
        .unwrap();
    let r = get(&stack, &path, &[("otcsticket", &jdoe)]).await;
    assert_eq!(r.status, 410, "{r:?}");
    assert_eq!(r.json()["how"], "deleted");

    // An expired ticket: 401.
    stack
        .sim_admin_post("tickets/expire", serde_json::json!({}))
        .await
        .unwrap();
    let r = get(&stack, &path, &[("otcsticket", &jdoe)]).await;
    assert_eq!(r.status, 401, "{r:?}");

    let trail = access_audit(&stack, node, &v).await;
    // No credentials, a bad ticket, the outsider, the auditor, the hold, the deleted
    // version, the expired ticket: each audited on the record.
    let refused = trail
        .iter()
        .filter(|e| e.outcome == Outcome::Denied)
        .count();
    assert_eq!(refused, 7, "every refusal audited: {trail:#?}");
    let loose_trail = test_support::audit::of_node(&stack, loose as u64).await;
    assert!(
        loose_trail
            .iter()
            .any(|e| e.action == AuditAction::Access && e.outcome == Outcome::Denied),
        "{loose_trail:#?}"
    );
    let other_trail =
        test_support::audit::of_version(&stack, &other.bucket, &other.key, &other.version_id).await;
    assert!(
        other_trail
            .iter()
            .any(|e| e.action == AuditAction::Access && e.outcome == Outcome::Denied),
        "{other_trail:#?}"
    );
    assert!(trail.iter().all(|e| e.outcome != Outcome::Succeeded));
    let logs = stack.function.logs().join("\n");
    assert!(!logs.contains(&jdoe) && !logs.contains(&outsider));
}

#[tokio::test]
async fn a_disposed_version_answers_gone_naming_its_certificate() {
    let stack = stack().await;
    let (node, v) = record(&stack, "old-ledger.pdf", b"old", "application/pdf").await;
    stack
        .s3()
        .delete_object()
        .bucket(&v.bucket)
        .key(&v.key)
        .version_id(&v.version_id)
        .send()
        .await
        .unwrap();
    // What P4's disposition writes when it deletes a version.
    let ev = AuditEvent::new(
        "dispose-test-1",
        "2026-12-01T10:00:00Z",
        records_domain::Actor {
            kind: records_domain::ActorKind::ServiceAccount,
            id: "svc-records".into(),
        },
        AuditAction::Dispose,
        Outcome::Succeeded,
    )
    .with_object(v.object())
    .with_detail("certificate_id", "disp-7100-20261201T100000");
    records_aws::audit_log::AuditLog::new(stack.dynamodb(), stack.resource("AuditTable"))
        .append(&ev)
        .await
        .unwrap();
    let jdoe = ticket(&stack, "jdoe", "jdoe-pass").await;
    let r = get(
        &stack,
        &format!("/records/{node}/content"),
        &[("otcsticket", &jdoe)],
    )
    .await;
    assert_eq!(r.status, 410, "{r:?}");
    let body = r.json();
    assert_eq!(body["how"], "disposed");
    assert_eq!(body["certificate_id"], "disp-7100-20261201T100000");
}
