//! S3 object facts, streaming hashed reads, tag merging and the service-account secret,
//! against moto over the real wire protocols.

use std::collections::BTreeMap;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use local_stack::moto::Moto;
use records_aws::hashing::DigestSlot;
use records_aws::s3_objects::{S3Error, S3Objects};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

async fn s3() -> (Moto, aws_sdk_s3::Client) {
    let (moto, sdk) = test_support::stack::moto().await;
    let client = local_stack::s3_client(&sdk);
    client.create_bucket().bucket("gov").send().await.unwrap();
    client
        .put_bucket_versioning()
        .bucket("gov")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    (moto, client)
}

#[tokio::test]
async fn facts_and_streamed_hash_of_a_specific_version() {
    let (_moto, client) = s3().await;
    let key = "finance/q1 report+final café.pdf";
    let v1 = client
        .put_object()
        .bucket("gov")
        .key(key)
        .body(ByteStream::from_static(b"first"))
        .metadata("Department", "finance")
        .tagging("records-bridge%3Astatus=final&owner=ap")
        .send()
        .await
        .unwrap();
    let body: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    client
        .put_object()
        .bucket("gov")
        .key(key)
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .unwrap();
    let objects = S3Objects::new(client);
    let v1_id = v1.version_id().unwrap();
    let facts = objects.facts("gov", key, Some(v1_id)).await.unwrap();
    assert_eq!(facts.size, 5);
    assert_eq!(facts.version_id.as_deref(), Some(v1_id));
    assert_eq!(
        facts.metadata.get("department").map(String::as_str),
        Some("finance")
    );
    assert_eq!(
        facts.tags.get("records-bridge:status").map(String::as_str),
        Some("final")
    );
    assert!(!facts.etag.contains('"'));

    // The latest version streams with its hash computed on the way.
    let slot = DigestSlot::default();
    let mut reader = objects.open("gov", key, None, slot.clone()).await.unwrap();
    let mut sink = Vec::new();
    reader.read_to_end(&mut sink).await.unwrap();
    assert_eq!(sink.len(), body.len());
    let digest = slot.get().unwrap();
    assert_eq!(digest.size, body.len() as u64);
    assert_eq!(digest.sha256_hex, hex::encode(Sha256::digest(&body)));

    // As the body's own chunks (the chunked upload's path): same bytes, same digest, and
    // the first version's 5 bytes when it is named.
    let slot = DigestSlot::default();
    let mut chunks = objects
        .open_chunks("gov", key, None, body.len() as u64, slot.clone())
        .await
        .unwrap();
    let mut streamed = Vec::new();
    while let Some(chunk) = futures_util::StreamExt::next(&mut chunks).await {
        streamed.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(streamed, body);
    assert_eq!(slot.get().unwrap(), digest);
    let slot = DigestSlot::default();
    let mut chunks = objects
        .open_chunks("gov", key, Some(v1_id), 5, slot.clone())
        .await
        .unwrap();
    while futures_util::StreamExt::next(&mut chunks).await.is_some() {}
    assert_eq!(
        slot.get().unwrap().sha256_hex,
        hex::encode(Sha256::digest(b"first"))
    );
}

#[tokio::test]
async fn merging_tags_keeps_the_owners_tags_and_respects_the_limit() {
    let (_moto, client) = s3().await;
    client
        .put_object()
        .bucket("gov")
        .key("a.txt")
        .body(ByteStream::from_static(b"x"))
        .tagging("owner=ap&project=x")
        .send()
        .await
        .unwrap();
    let objects = S3Objects::new(client);
    let ours = BTreeMap::from([
        ("records-bridge:node-id".to_string(), "10001".to_string()),
        ("records-bridge:state".to_string(), "declared".to_string()),
    ]);
    objects
        .merge_tags("gov", "a.txt", None, &ours)
        .await
        .unwrap();
    let tags = objects.tags("gov", "a.txt", None).await.unwrap();
    assert_eq!(tags.len(), 4);
    assert_eq!(tags["owner"], "ap");
    assert_eq!(tags["records-bridge:node-id"], "10001");

    let many: BTreeMap<String, String> = (0..9).map(|i| (format!("t{i}"), "v".into())).collect();
    let err = objects
        .merge_tags("gov", "a.txt", None, &many)
        .await
        .unwrap_err();
    assert!(
        matches!(err, S3Error::TooManyTags { count: 13, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn a_missing_object_is_not_found_not_a_transport_error() {
    let (_moto, client) = s3().await;
    let objects = S3Objects::new(client);
    let err = objects.facts("gov", "nope", None).await.unwrap_err();
    assert!(matches!(err, S3Error::NotFound { .. }), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn service_account_secret_is_read_and_never_printed() {
    let (_moto, sdk) = test_support::stack::moto().await;
    let sm = aws_sdk_secretsmanager::Client::new(&sdk);
    sm.create_secret()
        .name("ot/svc")
        .secret_string(r#"{"username":"svc-records","password":"s3cr3t-pw"}"#)
        .send()
        .await
        .unwrap();
    sm.create_secret()
        .name("ot/bad")
        .secret_string(r#"{"username":"svc-records","pass":"s3cr3t-pw"}"#)
        .send()
        .await
        .unwrap();
    let account = records_aws::secrets::service_account(&sm, "ot/svc")
        .await
        .unwrap();
    assert_eq!(account.username, "svc-records");
    assert_eq!(account.password, "s3cr3t-pw");
    assert!(!format!("{account:?}").contains("s3cr3t"));

    let err = records_aws::secrets::service_account(&sm, "ot/bad")
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("ot/bad") && !text.contains("s3cr3t"),
        "{text}"
    );
    let missing = records_aws::secrets::service_account(&sm, "ot/none")
        .await
        .unwrap_err();
    assert!(
        missing.to_string().contains("ResourceNotFound"),
        "{missing}"
    );
}
