//! Replay refusal against moto over the real DynamoDB wire protocol.

use std::time::Duration;

use local_stack::moto::Moto;
use records_aws::replay_guard::{Begin, ReplayGuard};

async fn guard(lease: Duration) -> (Moto, ReplayGuard, aws_sdk_dynamodb::Client) {
    let (moto, ddb) = test_support::stack::moto_with_workflow_table("wf").await;
    let g = ReplayGuard::new(ddb.clone(), "wf", Duration::from_secs(86_700), lease);
    (moto, g, ddb)
}

fn token(b: Begin) -> String {
    match b {
        Begin::Fresh { token } => token,
        other => panic!("expected fresh, got {other:?}"),
    }
}

#[tokio::test]
async fn an_accepted_id_is_refused_ever_after_and_carries_a_ttl() {
    let (_moto, g, ddb) = guard(Duration::from_secs(60)).await;
    let t = token(g.begin("event#a").await.unwrap());
    assert_eq!(g.begin("event#a").await.unwrap(), Begin::InFlight);
    g.accept("event#a", &t).await.unwrap();
    assert_eq!(g.begin("event#a").await.unwrap(), Begin::Replayed);
    // Another id is independent.
    token(g.begin("event#b").await.unwrap());

    let item = ddb
        .get_item()
        .table_name("wf")
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("event#a".into()),
        )
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let ttl: u64 = item["expires_at"].as_n().unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(ttl >= now + 86_000 && ttl <= now + 87_000, "ttl {ttl}");
    assert_eq!(item["guard_state"].as_s().unwrap(), "accepted");
}

#[tokio::test]
async fn a_released_id_can_be_taken_again_and_only_its_holder_finishes_it() {
    let (_moto, g, _ddb) = guard(Duration::from_secs(60)).await;
    let t = token(g.begin("event#r").await.unwrap());
    assert!(g.accept("event#r", "someone-else").await.is_err());
    g.release("event#r", &t).await.unwrap();
    let t2 = token(g.begin("event#r").await.unwrap());
    // The first holder's token no longer finishes it.
    assert!(g.accept("event#r", &t).await.is_err());
    g.accept("event#r", &t2).await.unwrap();
    assert_eq!(g.begin("event#r").await.unwrap(), Begin::Replayed);
}

#[tokio::test]
async fn a_pending_id_whose_lease_expired_is_taken_over() {
    // A zero lease: the first call "crashed" before accepting; the retry gets through.
    let (_moto, g, _ddb) = guard(Duration::ZERO).await;
    token(g.begin("event#c").await.unwrap());
    std::thread::sleep(Duration::from_millis(5));
    let t2 = token(g.begin("event#c").await.unwrap());
    g.accept("event#c", &t2).await.unwrap();
    assert_eq!(g.begin("event#c").await.unwrap(), Begin::Replayed);
}

#[tokio::test]
async fn concurrent_calls_with_one_id_let_exactly_one_through() {
    let (_moto, g, _ddb) = guard(Duration::from_secs(60)).await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let g = g.clone();
            tokio::spawn(async move { g.begin("event#same").await.unwrap() })
        })
        .collect();
    let mut fresh = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), Begin::Fresh { .. }) {
            fresh += 1;
        }
    }
    assert_eq!(fresh, 1);
}
