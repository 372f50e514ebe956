//! P1 end to end, happy paths: the real binary, real S3 notifications from moto's queue,
//! the OpenText simulator over HTTP.

mod common;

use common::*;

#[tokio::test]
async fn small_zero_byte_and_odd_keys_become_one_record_each_server_chunking_from_1_byte() {
    small_zero_byte_and_odd_keys(true).await;
}

#[tokio::test]
async fn small_zero_byte_and_odd_keys_become_one_record_each_server_chunking_from_64_mib() {
    small_zero_byte_and_odd_keys(false).await;
}

async fn small_zero_byte_and_odd_keys(small_minimum: bool) {
    let stack = stack_with_minimum(server_minimum(small_minimum), &[]).await;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "finance/invoice 2026-001.pdf",
            b"%PDF-1.7 small invoice".to_vec(),
        ),
        ("finance/empty.txt", Vec::new()),
        (
            "finance/a+b=c & 100% café.csv",
            "unicode ✓ content".as_bytes().to_vec(),
        ),
        ("finance/日本語/報告書.txt", b"nihongo".to_vec()),
    ];
    let mut versions = Vec::new();
    for (key, body) in &cases {
        versions.push(upload(&stack, key, body.clone()).await);
    }
    // moto also sends an ObjectTagging:Put for every PutObject (real S3 does not), so each
    // upload arrives twice at once: one attempt wins the claim, the other retries and finds
    // the version declared. That is the duplicate handling under test here too.
    stack.drain(20).await.unwrap();
    assert_settled(&stack).await;

    for ((key, body), version) in cases.iter().zip(&versions) {
        let name = key.rsplit('/').next().unwrap();
        let doc = document_named(&stack, 2101, name)
            .await
            .unwrap_or_else(|| panic!("no record for {key:?}"));
        let v = &doc["versions"].as_array().unwrap()[0];
        assert_eq!(v["size"].as_u64().unwrap(), body.len() as u64, "{key}");
        assert_eq!(v["sha256"].as_str().unwrap(), sha256_hex(body), "{key}");
        assert_eq!(
            category_value(&doc, "3100_3")
                .and_then(|v| v.as_str().map(String::from))
                .as_deref(),
            Some(*key)
        );
        assert_eq!(
            category_value(&doc, "3100_7").and_then(|v| v.as_str().map(String::from)),
            Some(sha256_hex(body))
        );
        assert_eq!(
            category_value(&doc, "3100_4")
                .and_then(|v| v.as_str().map(String::from))
                .as_deref(),
            Some(version.as_str())
        );
        let rm = &doc["rm"]["records"];
        assert!(
            rm.to_string().contains("4100"),
            "classification applied: {rm}"
        );
        let (state, _) = workflow_item(&stack, key, version).await.unwrap();
        assert_eq!(state, "done");
        let t = tags(&stack, key, version).await;
        assert_eq!(t["records-bridge:node-id"], doc["id"].to_string());
        assert_eq!(t["records-bridge:state"], "declared");
    }
    assert_eq!(used_chunked_api(&stack).await, small_minimum);
}

#[tokio::test]
async fn a_file_above_a_64_mib_chunked_threshold_streams_through_the_chunked_api() {
    chunked_upload(false, 64 * 1024 * 1024 + 123).await;
}

#[tokio::test]
async fn a_12_mib_file_streams_in_5_mib_parts_on_a_server_chunking_from_1_byte() {
    chunked_upload(true, 12 * 1024 * 1024 + 7).await;
}

async fn chunked_upload(small_minimum: bool, size: usize) {
    let stack = stack_with_minimum(server_minimum(small_minimum), &[]).await;
    let body: Vec<u8> = (0..size).map(|i| (i % 253) as u8).collect();
    let expected = sha256_hex(&body);
    upload(&stack, "finance/big ledger.bin", body).await;
    stack.drain(20).await.unwrap();
    let doc = document_named(&stack, 2101, "big ledger.bin")
        .await
        .expect("record");
    let v = &doc["versions"][0];
    assert_eq!(v["size"].as_u64().unwrap(), size as u64);
    assert_eq!(v["sha256"].as_str().unwrap(), expected);
    assert!(used_chunked_api(&stack).await, "chunked API used");
}

#[tokio::test]
async fn the_same_key_uploaded_twice_becomes_two_versions_and_refuse_rules_refuse_server_chunking_from_1_byte()
 {
    same_key_twice(true).await;
}

#[tokio::test]
async fn the_same_key_uploaded_twice_becomes_two_versions_and_refuse_rules_refuse_server_chunking_from_64_mib()
 {
    same_key_twice(false).await;
}

async fn same_key_twice(small_minimum: bool) {
    let stack = stack_with_minimum(server_minimum(small_minimum), &[]).await;
    upload(&stack, "finance/report.txt", b"first".to_vec()).await;
    stack.drain(10).await.unwrap();
    let v2 = upload(&stack, "finance/report.txt", b"second, longer".to_vec()).await;
    stack.drain(10).await.unwrap();
    let doc = document_named(&stack, 2101, "report.txt").await.unwrap();
    let versions = doc["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1]["sha256"], sha256_hex(b"second, longer"));
    let named = documents(&stack, 2101)
        .await
        .into_iter()
        .filter(|d| d["name"] == "report.txt")
        .count();
    assert_eq!(named, 1, "one document, two versions");
    assert_eq!(category_value(&doc, "3100_4").unwrap(), v2.as_str());

    upload(&stack, "hr/person.txt", b"a".to_vec()).await;
    stack.drain(10).await.unwrap();
    let refused = upload(&stack, "hr/person.txt", b"b".to_vec()).await;
    let reports = stack.drain(3).await.unwrap();
    assert!(reports.iter().any(|r| !r.failed_ids.is_empty()));
    let (state, detail) = workflow_item(&stack, "hr/person.txt", &refused)
        .await
        .unwrap();
    assert_eq!(state, "failed");
    assert!(
        detail["reason"]
            .as_str()
            .unwrap()
            .contains("refuses new versions"),
        "{detail}"
    );
    assert_eq!(
        document_named(&stack, 2102, "person.txt").await.unwrap()["versions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn ungoverned_and_ignored_objects_make_no_record_and_tagging_final_declares() {
    let stack = stack().await;
    let v_other = upload(&stack, "misc/notes.txt", b"not governed".to_vec()).await;
    let v_draft = upload(&stack, "drafts/x.txt", b"draft".to_vec()).await;
    let v_contract = upload(&stack, "contracts/msa.pdf", b"signed".to_vec()).await;
    stack.drain(10).await.unwrap();
    assert_settled(&stack).await;
    for (key, v) in [
        ("misc/notes.txt", &v_other),
        ("drafts/x.txt", &v_draft),
        ("contracts/msa.pdf", &v_contract),
    ] {
        assert_eq!(
            workflow_item(&stack, key, v).await.unwrap().0,
            "skipped",
            "{key}"
        );
    }
    assert!(documents(&stack, 2103).await.is_empty());

    // The approval arrives as a tag: S3 sends ObjectTagging:Put and the rule now matches.
    tag_final(&stack, "contracts/msa.pdf", &v_contract).await;
    stack.drain(10).await.unwrap();
    let doc = document_named(&stack, 2103, "msa.pdf")
        .await
        .expect("declared on tagging");
    assert_eq!(doc["versions"][0]["sha256"], sha256_hex(b"signed"));
    assert_eq!(
        workflow_item(&stack, "contracts/msa.pdf", &v_contract)
            .await
            .unwrap()
            .0,
        "done"
    );
    // Our own tags were merged with the approval tag, not written over it.
    let t = tags(&stack, "contracts/msa.pdf", &v_contract).await;
    assert_eq!(t["records-bridge:status"], "final");
    assert_eq!(t["records-bridge:state"], "declared");
}

#[tokio::test]
async fn a_tagging_event_caused_by_records_bridges_own_role_is_dropped_and_a_persons_declares() {
    // As the template sets it: the roles of the functions that tag governed versions.
    const DECLARE_ROLE: &str = "AROAEXAMPLEDECLAREFN1";
    const WORKER_ROLE: &str = "AROAEXAMPLEWORKERFN1";
    let stack = stack_with_env(&[(
        "SELF_WRITER_ROLE_IDS",
        &format!("{DECLARE_ROLE},{WORKER_ROLE}"),
    )])
    .await;
    // Both contracts carry their approval, so either tagging event would declare its version.
    let echo = "contracts/echo.pdf";
    let approved = "contracts/approved.pdf";
    let mut notifications = Vec::new();
    for (key, body, principal) in [
        (
            echo,
            &b"tagged by records-bridge"[..],
            format!("AWS:{DECLARE_ROLE}:declare-fn"),
        ),
        (
            approved,
            &b"tagged by alice"[..],
            "AWS:AIDAEXAMPLE:alice".to_string(),
        ),
    ] {
        let version = upload(&stack, key, body.to_vec()).await;
        tag_final(&stack, key, &version).await;
        let etag = test_support::s3::head(&stack, &bucket(&stack), key, &version)
            .await
            .e_tag()
            .unwrap()
            .trim_matches('"')
            .to_string();
        let event = real_s3_notification_by(
            "ObjectTagging:Put",
            &principal,
            &bucket(&stack),
            key,
            &version,
            body.len(),
            &etag,
        );
        notifications.push((key, version, event));
    }
    purge(&stack).await; // moto's own notifications: only the two below are delivered
    for (_, _, event) in &notifications {
        send(&stack, event).await;
    }
    let report = stack.poll().await.unwrap();
    assert_eq!(report.received, 2, "{report:?}");
    assert!(
        report.failed_ids.is_empty() && report.function_error.is_none(),
        "both messages succeed: {report:?}"
    );
    stack.drain(10).await.unwrap(); // the echoes of alice's declaration (moto: no principal)
    assert_settled(&stack).await;

    let (_, echo_version, _) = &notifications[0];
    assert_eq!(
        workflow_item(&stack, echo, echo_version).await,
        None,
        "no claim: the workflow table was never written for records-bridge's own tagging"
    );
    assert!(document_named(&stack, 2103, "echo.pdf").await.is_none());
    let logs = stack.function.logs();
    let about_echo: Vec<&String> = logs.iter().filter(|l| l.contains(echo)).collect();
    assert_eq!(
        about_echo.len(),
        1,
        "one line about the echo, nothing read or written for it:\n{}",
        logs.join("\n")
    );
    assert!(
        about_echo[0].contains("self-caused tagging event") && about_echo[0].contains(echo_version),
        "{}",
        about_echo[0]
    );

    let (_, approved_version, _) = &notifications[1];
    assert_eq!(
        workflow_item(&stack, approved, approved_version)
            .await
            .unwrap()
            .0,
        "done"
    );
    let doc = document_named(&stack, 2103, "approved.pdf")
        .await
        .expect("a person's tagging declares");
    assert_eq!(doc["versions"][0]["sha256"], sha256_hex(b"tagged by alice"));
}

#[tokio::test]
async fn reference_mode_records_a_manifest_pointing_at_the_s3_version() {
    let stack = stack().await;
    let body = b"contract bytes stay in S3".to_vec();
    let v = upload(&stack, "legal/nda.pdf", body.clone()).await;
    stack.drain(10).await.unwrap();
    let doc = document_named(&stack, 2103, "nda.pdf")
        .await
        .expect("reference record");
    assert_eq!(
        category_value(&doc, "3100_7").unwrap(),
        sha256_hex(&body).as_str()
    );
    let stored = doc["versions"][0]["size"].as_u64().unwrap();
    assert_ne!(
        stored,
        body.len() as u64,
        "the record holds a manifest, not the bytes"
    );
    assert_eq!(
        workflow_item(&stack, "legal/nda.pdf", &v).await.unwrap().0,
        "done"
    );
}
