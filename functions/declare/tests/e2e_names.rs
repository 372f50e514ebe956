//! P1 end to end: document names as Content Server compares them. A name that differs only
//! in case (ASCII or not) is the same name to the server; a name taken by another object's
//! document is a clash that follows the rule's `on_name_clash`, never a silent new version.

mod common;

use common::*;
use local_stack::stack::Stack;
use serde_json::Value;

/// Documents in `folder` whose name the server takes for `name` (case-insensitive).
async fn named_like(stack: &Stack, folder: u64, name: &str) -> Vec<Value> {
    documents(stack, folder)
        .await
        .into_iter()
        .filter(|d| {
            d["name"]
                .as_str()
                .is_some_and(|n| n.to_lowercase() == name.to_lowercase())
        })
        .collect()
}

/// The document whose provenance names `key`, and its name.
async fn document_of_key(stack: &Stack, folder: u64, key: &str) -> Option<(String, Value)> {
    documents(stack, folder).await.into_iter().find_map(|d| {
        (category_value(&d, "3100_3")
            .and_then(|v| v.as_str().map(String::from))
            .as_deref()
            == Some(key))
        .then(|| (d["name"].as_str().unwrap_or_default().to_string(), d))
    })
}

async fn declared_in_turn(stack: &Stack, objects: &[(&str, &[u8])]) -> Vec<String> {
    let mut versions = Vec::new();
    for (key, body) in objects {
        versions.push(upload(stack, key, body.to_vec()).await);
        stack.drain(10).await.unwrap();
    }
    versions
}

#[tokio::test]
async fn names_differing_only_in_case_clash_and_are_disambiguated_under_either_on_existing_name() {
    let stack = stack().await;
    // finance: on_existing_name new_version; hr: refuse. Both clash-disambiguate (default).
    let pairs = [
        ("finance/plain.pdf", "finance/PLAIN.pdf", 2101),
        ("finance/Verträge Ü.pdf", "finance/verträge ü.pdf", 2101),
        ("hr/plain.pdf", "hr/PLAIN.pdf", 2102),
        ("hr/Ärzte Σίσυφος.txt", "hr/ärzte ΣΊΣΥΦΟΣ.txt", 2102),
    ];
    for (first, second, _) in &pairs {
        declared_in_turn(&stack, &[(first, b"first"), (second, b"second")]).await;
    }
    assert_settled(&stack).await;
    for (first, second, folder) in pairs {
        let (first_name, first_doc) = document_of_key(&stack, folder, first).await.unwrap();
        let (second_name, second_doc) = document_of_key(&stack, folder, second)
            .await
            .unwrap_or_else(|| panic!("{second} declared:\n{}", stack.function.logs().join("\n")));
        assert_ne!(
            first_doc["id"], second_doc["id"],
            "{second} did not merge into {first}"
        );
        assert_eq!(first_name, first.rsplit('/').next().unwrap());
        assert!(
            second_name.contains(" [s3 "),
            "disambiguated: {second_name}"
        );
        assert_eq!(
            first_doc["versions"].as_array().unwrap().len(),
            1,
            "{first}"
        );
        assert_eq!(second_doc["versions"][0]["sha256"], sha256_hex(b"second"));
        // The declaration says what happened to the name.
        let logs = stack.function.logs().join("\n");
        assert!(
            logs.contains("name clash: declaring under a disambiguated name"),
            "{logs}"
        );
    }
    // Each name's later versions find their own document again (same disambiguated name).
    declared_in_turn(&stack, &[("finance/PLAIN.pdf", b"second, v2")]).await;
    let (_, doc) = document_of_key(&stack, 2101, "finance/PLAIN.pdf")
        .await
        .unwrap();
    assert_eq!(doc["versions"].as_array().unwrap().len(), 2);
    let (_, doc) = document_of_key(&stack, 2101, "finance/plain.pdf")
        .await
        .unwrap();
    assert_eq!(doc["versions"].as_array().unwrap().len(), 1, "untouched");
    assert_settled(&stack).await;
}

#[tokio::test]
async fn a_clash_under_on_name_clash_refuse_fails_at_once_naming_the_document_in_the_way() {
    let stack = stack().await;
    let versions = declared_in_turn(
        &stack,
        &[
            ("strict/plain.pdf", b"first"),
            ("strict/PLAIN.pdf", b"second"),
        ],
    )
    .await;
    let (state, detail) = workflow_item(&stack, "strict/PLAIN.pdf", &versions[1])
        .await
        .unwrap();
    assert_eq!(state, "failed", "{detail}");
    let reason = detail["reason"].as_str().unwrap();
    assert!(
        reason.contains("\"PLAIN.pdf\"")
            && reason.contains("is taken by node")
            && reason.contains("on_name_clash"),
        "{reason}"
    );
    assert!(
        !stack
            .function
            .logs()
            .join("\n")
            .contains("appeared and vanished"),
        "no retry loop"
    );
    assert_eq!(named_like(&stack, 2102, "plain.pdf").await.len(), 1);
    let (_, doc) = document_of_key(&stack, 2102, "strict/plain.pdf")
        .await
        .unwrap();
    assert_eq!(
        doc["versions"].as_array().unwrap().len(),
        1,
        "no version from another key"
    );
}

#[tokio::test]
async fn distinct_objects_whose_names_render_alike_never_merge_into_one_record() {
    let stack = stack().await;
    let long = "n".repeat(260);
    let (a_long, b_long) = (
        format!("finance/{long}a.pdf"),
        format!("finance/{long}b.pdf"),
    );
    let objects: Vec<(&str, &[u8])> = vec![
        ("finance/x/same.pdf", b"x"),
        ("finance/y/same.pdf", b"y"),
        (a_long.as_str(), b"long a"),
        (b_long.as_str(), b"long b"),
        ("finance/12:30 minutes.txt", b"colon"),
        ("finance/1230 minutes.txt", b"no colon"),
    ];
    declared_in_turn(&stack, &objects).await;
    assert_settled(&stack).await;
    let mut ids = std::collections::BTreeSet::new();
    for (key, body) in &objects {
        let (name, doc) = document_of_key(&stack, 2101, key)
            .await
            .unwrap_or_else(|| panic!("{key} has its own record"));
        assert_eq!(doc["versions"].as_array().unwrap().len(), 1, "{key}");
        assert_eq!(doc["versions"][0]["sha256"], sha256_hex(body), "{key}");
        assert!(name.chars().count() <= 248, "{name}");
        ids.insert(doc["id"].to_string());
    }
    assert_eq!(ids.len(), objects.len(), "one record per object");
}
