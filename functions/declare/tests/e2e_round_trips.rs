//! P1 end to end: how many OpenText calls one declaration makes, with every guarantee kept
//! (provenance with the content's SHA-256, the RM classification and record details).

mod common;

use common::*;
use serde_json::Value;

/// The OpenText calls in the simulator's log, as `METHOD path -> status`.
async fn opentext_calls(stack: &local_stack::stack::Stack) -> Vec<String> {
    test_support::sim::opentext_calls(stack)
        .await
        .iter()
        .map(|r| {
            format!(
                "{} {} -> {}",
                r["method"].as_str().unwrap_or_default(),
                r["path"].as_str().unwrap_or_default(),
                r["status"]
            )
        })
        .collect()
}

#[tokio::test]
async fn a_new_object_is_declared_in_three_opentext_calls() {
    let stack = stack_with_minimum(server_minimum(false), &[]).await;
    // A first declaration warms the function (sign-in, the server's upload settings).
    upload(&stack, "finance/warm-up.txt", b"warm".to_vec()).await;
    stack.drain(20).await.unwrap();
    test_support::sim::clear_requests(&stack).await;

    let body = b"%PDF-1.7 one invoice, three calls".to_vec();
    let version = upload(&stack, "finance/invoice-3-calls.pdf", body.clone()).await;
    stack.drain(20).await.unwrap();
    assert_settled(&stack).await;

    let calls = opentext_calls(&stack).await;
    // The create (content, name, description, provenance and categories known before the
    // hash), the hash attribute, the RM classification with its record details.
    assert_eq!(
        calls.len(),
        3,
        "OpenText calls of one declaration: {calls:#?}"
    );
    assert!(
        calls[0].starts_with("POST ") && calls[0].contains("/api/v2/nodes -> "),
        "{calls:#?}"
    );
    assert!(
        calls[1].starts_with("PUT ") && calls[1].contains("/categories/3100"),
        "{calls:#?}"
    );
    assert!(calls[2].contains("/rmclassifications"), "{calls:#?}");

    // Nothing was given up for it.
    let doc = document_named(&stack, 2101, "invoice-3-calls.pdf")
        .await
        .expect("record");
    let text = |key: &str| category_value(&doc, key).and_then(|v| v.as_str().map(String::from));
    assert_eq!(text("3100_7"), Some(sha256_hex(&body)), "content hash");
    assert_eq!(text("3100_4"), Some(version.clone()), "S3 version");
    assert_eq!(
        text("3100_3").as_deref(),
        Some("finance/invoice-3-calls.pdf")
    );
    let records = &doc["rm"]["records"];
    let record: &Value = records
        .as_array()
        .and_then(|r| r.first())
        .unwrap_or(records);
    assert!(
        records.to_string().contains("4100"),
        "classified: {records}"
    );
    assert!(
        record.to_string().contains("FIN-7Y"),
        "record details (RSI) set with the classification: {record}"
    );
    let (state, _) = workflow_item(&stack, "finance/invoice-3-calls.pdf", &version)
        .await
        .unwrap();
    assert_eq!(state, "done");
}

#[tokio::test]
async fn a_new_version_of_an_existing_document_still_finds_it_through_the_clash() {
    let stack = stack_with_minimum(server_minimum(false), &[]).await;
    let key = "finance/statement.csv";
    upload(&stack, key, b"v1".to_vec()).await;
    stack.drain(20).await.unwrap();
    test_support::sim::clear_requests(&stack).await;

    let second = upload(&stack, key, b"v2, corrected".to_vec()).await;
    stack.drain(20).await.unwrap();
    assert_settled(&stack).await;

    let doc = document_named(&stack, 2101, "statement.csv")
        .await
        .expect("record");
    let versions = doc["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "one document, two versions: {doc}");
    assert_eq!(
        category_value(&doc, "3100_4").and_then(|v| v.as_str().map(String::from)),
        Some(second),
        "provenance follows the new version"
    );
    let calls = opentext_calls(&stack).await;
    assert!(
        calls[0].starts_with("POST ") && calls[0].ends_with("/api/v2/nodes -> 500"),
        "the optimistic create meets the name: {calls:#?}"
    );
}
