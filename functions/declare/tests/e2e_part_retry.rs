//! P1 end to end: a chunked upload's part that fails is read again from S3 (a ranged GET of
//! the same version) rather than held in memory, and the record is still exact.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn a_failed_part_is_re_read_from_its_s3_range_and_the_record_hash_is_right() {
    const MIB: usize = 1024 * 1024;
    // 12 MiB in 5 MiB parts: part 2 is bytes 5..10 MiB, the one that fails once.
    let stack = stack_with_minimum(server_minimum(true), &[]).await;
    let size = 12 * MIB + 7;
    let body: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
    let expected = sha256_hex(&body);
    stack
        .sim_admin_post(
            "faults/next",
            json!({"status": 503, "count": 1, "retry_after_secs": 0, "method": "POST",
                   "path_contains": "/multipart/", "path_ends_with": "/2"}),
        )
        .await
        .unwrap();
    let version = upload(&stack, "finance/part retry.bin", body).await;
    stack.drain(20).await.unwrap();
    assert_settled(&stack).await;

    let doc = document_named(&stack, 2101, "part retry.bin")
        .await
        .expect("record");
    let v = &doc["versions"][0];
    assert_eq!(v["size"].as_u64().unwrap(), size as u64);
    assert_eq!(
        v["sha256"].as_str().unwrap(),
        expected,
        "OpenText holds the exact bytes"
    );
    assert_eq!(
        category_value(&doc, "3100_7").and_then(|v| v.as_str().map(String::from)),
        Some(expected),
        "the recorded hash is the content's"
    );
    let (state, _) = workflow_item(&stack, "finance/part retry.bin", &version)
        .await
        .unwrap();
    assert_eq!(state, "done");

    let part_two: Vec<_> = test_support::sim::requests(&stack)
        .await
        .into_iter()
        .filter(|r| {
            r["method"] == "POST"
                && r["path"]
                    .as_str()
                    .is_some_and(|p| p.contains("/multipart/") && p.ends_with("/2"))
        })
        .map(|r| r["status"].clone())
        .collect();
    assert_eq!(
        part_two,
        vec![json!(503), json!(200)],
        "part 2 failed once, then went through"
    );
    let reread = stack
        .function
        .logs()
        .into_iter()
        .find(|l| l.contains("re-reading a part's bytes from S3"))
        .expect("the retry re-read its range");
    assert!(
        reread.contains(&format!("\"offset\":{}", 5 * MIB))
            && reread.contains(&format!("\"len\":{}", 5 * MIB)),
        "part 2's range: {reread}"
    );
}
