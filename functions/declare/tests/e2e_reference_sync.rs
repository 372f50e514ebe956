//! P3 S3 → OpenText with the real binary: a new S3 version of a referenced object becomes a
//! new version of the reference record (and a new link), and a delete marker on a governed
//! object is audited and flagged on the record.

mod common;

use common::*;
use serde_json::json;
use test_support::opentext::service_client as opentext;

#[tokio::test]
async fn a_new_s3_version_becomes_a_new_version_of_the_reference_record_and_a_new_link() {
    let stack = stack().await;
    let bodies = [b"contract v1".to_vec(), b"contract v2, amended".to_vec()];
    let mut versions = Vec::new();
    for body in &bodies {
        versions.push(upload(&stack, "p3/contract.pdf", body.clone()).await);
        stack.drain(20).await.unwrap();
    }
    assert_settled(&stack).await;
    let doc = document_named(&stack, 2103, "contract.pdf")
        .await
        .expect("reference record");
    assert_eq!(
        doc["versions"].as_array().unwrap().len(),
        2,
        "one record, two versions: {doc}"
    );
    let node_id = doc["id"].as_u64().unwrap();
    let links = test_support::workflow::links(&stack)
        .get(node_id)
        .await
        .unwrap();
    let mut linked: Vec<_> = links
        .versions
        .iter()
        .map(|l| (l.version_id.clone(), l.sha256.clone()))
        .collect();
    linked.sort();
    let mut expected: Vec<_> = versions
        .iter()
        .zip(&bodies)
        .map(|(v, b)| (v.clone(), sha256_hex(b)))
        .collect();
    expected.sort();
    assert_eq!(
        linked, expected,
        "both S3 versions linked with their SHA-256"
    );

    // P5: the reference names its content's link on the access endpoint (the template's
    // ACCESS_URL), which opens exactly the newest version.
    let download = test_support::opentext::service_client(&stack)
        .download(node_id as i64)
        .await
        .expect("manifest");
    let mut text = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut download.into_reader(), &mut text)
        .await
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("JSON manifest");
    let link = manifest["access_url"].as_str().expect("access_url");
    assert!(
        link.starts_with("https://access-function.lambda-url.us-east-1.on.aws/content?uri="),
        "{link}"
    );
    let encoded = link.split_once("?uri=").unwrap().1;
    let uri = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .unwrap()
        .into_owned();
    assert_eq!(uri, manifest["uri"].as_str().unwrap());
    let v = records_domain::access::parse_s3_uri(&uri).unwrap();
    assert_eq!(v.key, "p3/contract.pdf");
    assert!(versions.contains(&v.version_id));
}

#[tokio::test]
async fn a_delete_marker_on_a_governed_object_is_audited_and_flagged_on_the_record() {
    let stack = stack().await;
    upload(&stack, "p3/memo.txt", b"memo".to_vec()).await;
    stack.drain(20).await.unwrap();
    let node_id = document_named(&stack, 2103, "memo.txt")
        .await
        .expect("record")["id"]
        .as_u64()
        .unwrap();

    let marker = stack
        .s3()
        .delete_object()
        .bucket(bucket(&stack))
        .key("p3/memo.txt")
        .send()
        .await
        .unwrap()
        .version_id
        .expect("a delete marker");
    // moto 5.1.22 sends no DeleteMarkerCreated notification; real S3 does, in this shape.
    let body = json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-25T19:00:00.000Z", "eventName": "ObjectRemoved:DeleteMarkerCreated",
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "governed",
               "bucket": {"name": bucket(&stack), "arn": format!("arn:aws:s3:::{}", bucket(&stack))},
               "object": {"key": "p3/memo.txt", "versionId": marker, "sequencer": "0055AED6DCD90281E5"}}
    }]});
    for _ in 0..2 {
        send(&stack, &body.to_string()).await;
        stack.drain(20).await.unwrap();
    }
    assert_settled(&stack).await;

    let description = opentext(&stack)
        .get_node(node_id as i64)
        .await
        .unwrap()
        .description
        .unwrap_or_default();
    let flag = format!(
        "S3 delete marker {marker} on s3://{}/p3/memo.txt",
        bucket(&stack)
    );
    assert_eq!(
        description.matches(&flag).count(),
        1,
        "flagged once: {description:?}"
    );

    let trail =
        test_support::audit::of_version(&stack, &bucket(&stack), "p3/memo.txt", &marker).await;
    assert_eq!(trail.len(), 1, "one audit event for the marker: {trail:?}");
    assert_eq!(trail[0].record.as_ref().unwrap().node_id, node_id);
    assert_eq!(
        trail[0].details["trigger"],
        "ObjectRemoved:DeleteMarkerCreated"
    );
}
