//! The DynamoDB workflow store against moto over the real DynamoDB wire protocol.

use std::time::Duration;

use local_stack::moto::Moto;
use records_aws::workflow_store::{Claim, StoreError, WorkflowStore};

const TERMINAL: &[&str] = &["done", "failed", "skipped"];

async fn store() -> (Moto, WorkflowStore) {
    let (moto, ddb) = test_support::stack::moto_with_workflow_table("wf").await;
    (moto, WorkflowStore::new(ddb, "wf", "claimed", TERMINAL))
}

const LEASE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn first_claim_wins_and_a_live_lease_is_busy() {
    let (_moto, store) = store().await;
    let first = store.claim("k1", "a", LEASE).await.unwrap();
    match first {
        Claim::Acquired { item, resumed } => {
            assert!(!resumed);
            assert_eq!(item.state, "claimed");
            assert_eq!(item.attempts, 1);
            assert_eq!(item.lease_owner.as_deref(), Some("a"));
        }
        other => panic!("expected Acquired, got {other:?}"),
    }
    assert!(matches!(
        store.claim("k1", "b", LEASE).await.unwrap(),
        Claim::Busy(_)
    ));
}

#[tokio::test]
async fn concurrent_claims_have_exactly_one_winner() {
    let (_moto, store) = store().await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .claim("same", &format!("owner-{i}"), LEASE)
                .await
                .unwrap()
        }));
    }
    let mut winners = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), Claim::Acquired { .. }) {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}

#[tokio::test]
async fn expired_lease_is_taken_over_and_resumes_from_saved_state() {
    let (_moto, store) = store().await;
    store
        .claim("k", "crashed", Duration::from_millis(1))
        .await
        .unwrap();
    // The crashed attempt had recorded progress before it died.
    store
        .transition(
            "k",
            "crashed",
            "claimed",
            "uploading",
            r#"{"folder":1}"#,
            Duration::from_millis(1),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    match store.claim("k", "rescuer", LEASE).await.unwrap() {
        Claim::Acquired { item, resumed } => {
            assert!(resumed);
            assert_eq!(item.state, "uploading");
            assert_eq!(item.detail, r#"{"folder":1}"#);
            assert_eq!(item.attempts, 2);
        }
        other => panic!("expected takeover, got {other:?}"),
    }
    // The crashed attempt, if it wakes up, can no longer move the state.
    let stale = store
        .transition("k", "crashed", "uploading", "uploaded", "{}", LEASE)
        .await;
    assert!(matches!(stale, Err(StoreError::LeaseLost { .. })));
}

#[tokio::test]
async fn transitions_need_the_expected_state() {
    let (_moto, store) = store().await;
    store.claim("k", "a", LEASE).await.unwrap();
    let wrong_from = store
        .transition("k", "a", "uploading", "uploaded", "{}", LEASE)
        .await;
    assert!(matches!(wrong_from, Err(StoreError::LeaseLost { .. })));
    store
        .transition("k", "a", "claimed", "uploading", "{}", LEASE)
        .await
        .unwrap();
    assert_eq!(store.get("k").await.unwrap().unwrap().state, "uploading");
}

#[tokio::test]
async fn finished_items_are_never_claimed_again_and_carry_a_ttl() {
    let (_moto, store) = store().await;
    store.claim("k", "a", LEASE).await.unwrap();
    store
        .finish("k", "a", "claimed", "done", r#"{"node":7}"#)
        .await
        .unwrap();
    let item = store.get("k").await.unwrap().unwrap();
    assert_eq!(item.state, "done");
    assert!(item.lease_owner.is_none());
    let ttl = item.expires_at.expect("TTL set on finish");
    assert!(ttl > records_aws::workflow_store::now_ms() / 1000 + 24 * 3600);
    match store.claim("k", "b", LEASE).await.unwrap() {
        Claim::Finished(i) => assert_eq!(i.detail, r#"{"node":7}"#),
        other => panic!("expected Finished, got {other:?}"),
    }
}

#[tokio::test]
async fn release_lets_the_next_delivery_claim_at_once() {
    let (_moto, store) = store().await;
    store.claim("k", "a", LEASE).await.unwrap();
    store.release("k", "a").await.unwrap();
    assert!(matches!(
        store.claim("k", "b", LEASE).await.unwrap(),
        Claim::Acquired { resumed: true, .. }
    ));
    // a no longer holds it.
    assert!(matches!(
        store.release("k", "a").await,
        Err(StoreError::LeaseLost { .. })
    ));
}

#[tokio::test]
async fn items_past_their_ttl_read_as_absent() {
    let (_moto, store) = store().await;
    let store = store.with_finished_retention(Duration::ZERO);
    store.claim("k", "a", LEASE).await.unwrap();
    store
        .finish("k", "a", "claimed", "done", "{}")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(store.get("k").await.unwrap().is_none());
}

#[tokio::test]
async fn a_claim_can_start_a_new_item_at_its_first_step_but_never_rewinds_one() {
    let (_moto, store) = store().await;
    let plan = r#"{"state":"uploading","plan":"p1"}"#;
    match store
        .claim_starting_at("k1", "a", LEASE, "uploading", plan)
        .await
        .unwrap()
    {
        Claim::Acquired { item, resumed } => {
            assert!(!resumed);
            assert_eq!(item.state, "uploading");
            assert_eq!(item.detail, plan);
        }
        other => panic!("expected Acquired, got {other:?}"),
    }
    // Left mid-way, then taken over: the item keeps its own state and detail.
    store
        .transition("k1", "a", "uploading", "uploaded", r#"{"node":7}"#, LEASE)
        .await
        .unwrap();
    store.release("k1", "a").await.unwrap();
    match store
        .claim_starting_at("k1", "b", LEASE, "uploading", r#"{"plan":"p2"}"#)
        .await
        .unwrap()
    {
        Claim::Acquired { item, resumed } => {
            assert!(resumed);
            assert_eq!(item.state, "uploaded");
            assert_eq!(item.detail, r#"{"node":7}"#);
        }
        other => panic!("expected Acquired, got {other:?}"),
    }
}

#[tokio::test]
async fn finishing_with_other_writes_is_all_or_nothing() {
    let (moto, store) = store().await;
    let sdk = local_stack::sdk_config(moto.endpoint()).await;
    let links = records_aws::links::LinkStore::new(aws_sdk_dynamodb::Client::new(&sdk), "wf");
    let version = records_aws::links::LinkedVersion {
        bucket: "gov".into(),
        key: "a.pdf".into(),
        version_id: "v1".into(),
        sha256: "ab".repeat(32),
    };
    store.claim("k1", "a", LEASE).await.unwrap();

    // Not the lease holder: the finish is refused and the link is not written either.
    let err = store
        .finish_with(
            "k1",
            "intruder",
            "claimed",
            "done",
            "{}",
            vec![links.link_write(7, &version)],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::LeaseLost { .. }), "{err:?}");
    assert!(links.get(7).await.unwrap().versions.is_empty());
    assert_eq!(store.get("k1").await.unwrap().unwrap().state, "claimed");

    // The holder: both land together.
    store
        .finish_with(
            "k1",
            "a",
            "claimed",
            "done",
            r#"{"node":7}"#,
            vec![links.link_write(7, &version)],
        )
        .await
        .unwrap();
    let item = store.get("k1").await.unwrap().unwrap();
    assert_eq!(item.state, "done");
    assert!(item.lease_owner.is_none() && item.expires_at.is_some());
    assert!(links.get(7).await.unwrap().versions.contains(&version));
}
