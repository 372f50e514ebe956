//! The link store against moto: idempotent adds, concurrent adds kept, the Scan that
//! enumerates only link items.

use aws_sdk_dynamodb::types::AttributeValue;
use local_stack::moto::Moto;
use records_aws::links::{LinkStore, LinkedVersion};

async fn store() -> (Moto, aws_sdk_dynamodb::Client, LinkStore) {
    let (moto, ddb) = test_support::stack::moto_with_workflow_table("wf").await;
    let links = LinkStore::new(ddb.clone(), "wf");
    (moto, ddb, links)
}

fn v(key: &str, version: &str) -> LinkedVersion {
    LinkedVersion {
        bucket: "gov".into(),
        key: key.into(),
        version_id: version.into(),
        sha256: "ab".repeat(32),
    }
}

#[tokio::test]
async fn links_are_idempotent_kept_under_concurrency_and_enumerated_alone() {
    let (_moto, ddb, links) = store().await;
    // An unrelated idempotency item in the same table is not a link.
    ddb.put_item()
        .table_name("wf")
        .item("pk", AttributeValue::S("declare#gov#a#1".into()))
        .send()
        .await
        .unwrap();
    assert!(links.get(10001).await.unwrap().versions.is_empty());
    links.link(10001, &v("a", "1")).await.unwrap();
    links.link(10001, &v("a", "1")).await.unwrap();
    let (a2, b1) = (v("a", "2"), v("b", "1"));
    let (r1, r2) = tokio::join!(links.link(10001, &a2), links.link(10002, &b1));
    r1.unwrap();
    r2.unwrap();
    let one = links.get(10001).await.unwrap();
    assert_eq!(
        one.versions.into_iter().collect::<Vec<_>>(),
        vec![v("a", "1"), v("a", "2")]
    );
    let all = links.all().await.unwrap();
    assert_eq!(
        all.iter()
            .map(|r| (r.node_id, r.versions.len()))
            .collect::<Vec<_>>(),
        vec![(10001, 2), (10002, 1)]
    );
}
