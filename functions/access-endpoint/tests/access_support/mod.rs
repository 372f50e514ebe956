//! What the P5 suites share: a governed record in Finance with its linked S3 version, and a
//! simulator user's ticket.

#![allow(dead_code)] // each test file uses its own part

use std::sync::Arc;

use aws_sdk_s3::primitives::ByteStream;
use local_stack::stack::Stack;
use opentext_client::{BytesSource, CreateOptions};
use records_aws::links::{LinkStore, LinkedVersion};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Finance: Records Managers (jdoe's group) may see its content.
pub const FINANCE: i64 = 2101;

/// A ticket of a simulator user, as their browser or script would hold it.
pub async fn ticket(stack: &Stack, user: &str, password: &str) -> String {
    let v: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/auth", stack.sim.base_url()))
        .form(&[("username", user), ("password", password)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["ticket"].as_str().expect("ticket").to_string()
}

/// A record in Finance whose content is one S3 version of `content_type` in the governed
/// bucket, tagged and linked as P1 does.
pub async fn record(
    stack: &Stack,
    name: &str,
    body: &[u8],
    content_type: &str,
) -> (u64, LinkedVersion) {
    let ot = test_support::opentext::service_client(stack);
    let node = ot
        .create_document(
            FINANCE,
            name,
            Arc::new(BytesSource::new(body.to_vec(), name.to_string())),
            &CreateOptions::default(),
        )
        .await
        .expect("record")
        .id as u64;
    let bucket = test_support::stack::governed_bucket(stack);
    let key = format!("finance/{name}");
    let version_id = stack
        .s3()
        .put_object()
        .bucket(&bucket)
        .key(&key)
        .content_type(content_type)
        .tagging(format!("records-bridge%3Anode-id={node}"))
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .unwrap()
        .version_id
        .unwrap();
    let v = LinkedVersion {
        bucket,
        key,
        version_id,
        sha256: hex::encode(Sha256::digest(body)),
    };
    LinkStore::new(stack.dynamodb(), stack.resource("WorkflowTable"))
        .link(node, &v)
        .await
        .unwrap();
    (node, v)
}
