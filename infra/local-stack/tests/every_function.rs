//! Every function of `template.yaml`, started with exactly the environment the template gives
//! it under default parameters (plus the local endpoints), reaches its first Runtime API poll;
//! and a policy change at the one policy source reaches every function that reads it.
//!
//! The function binaries are the workspace's debug builds (`make test` builds them before any
//! test runs); a missing one fails with what to build.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use local_stack::stack::{Companion, Stack, StackOptions, set_policy};

fn binary(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| local_stack::workspace_root().join("target"));
    let path = target.join("debug").join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --workspace` (make test builds it)",
        path.display()
    );
    path
}

const FUNCTIONS: [(&str, &str); 5] = [
    ("declare", "DeclareFunction"),
    ("lifecycle-worker", "LifecycleWorkerFunction"),
    ("event-poller", "EventPollerFunction"),
    ("event-intake", "EventIntakeFunction"),
    ("reconciler", "ReconcilerFunction"),
];

#[tokio::test]
async fn every_function_starts_with_the_template_environment_under_default_parameters() {
    // No policy, no parameter but the Content Server URL (the simulator's): a default deploy.
    let (bin, logical) = FUNCTIONS[0];
    let stack = Stack::start(StackOptions::new(binary(bin), logical))
        .await
        .unwrap_or_else(|e| panic!("{logical} did not start: {e}"));
    let logs = stack.function.logs().join("\n");
    assert!(
        logs.contains("records policy version 1 loaded"),
        "the stack's sample: {logs}"
    );
    for (bin, logical) in &FUNCTIONS[1..] {
        let started = stack.companion(&binary(bin), logical, false).await;
        let mut c = started.unwrap_or_else(|e| panic!("{logical} did not start: {e}"));
        c.function.kill();
    }
}

async fn logs_until(companion: &Companion, needle: &str) -> bool {
    for _ in 0..50 {
        if companion.function.logs().iter().any(|l| l.contains(needle)) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// What the records team puts at the source: a rule the template's sample does not have.
static NEW_POLICY: LazyLock<String> = LazyLock::new(|| {
    test_support::policy::policy(&[r#"  - name: newly-governed
    match: { key_prefix: "new-rule/" }
    destination: { folder_id: 2101 }
    document_name: "{key}"
    mode: copy
    on_existing_name: new_version
    classification: { id: 4100 }
    record: { official: true, record_date: upload_time }
"#])
});

#[tokio::test]
async fn a_policy_changed_at_its_source_reaches_every_function_and_a_bad_one_is_refused() {
    let refresh = BTreeMap::from([("POLICY_REFRESH_SECS".to_string(), "0".to_string())]);
    let mut options = StackOptions::new(binary("declare"), "DeclareFunction");
    options.extra_env = refresh.clone();
    let stack = Stack::start(options).await.unwrap();
    let worker = stack
        .companion_with_env(
            &binary("lifecycle-worker"),
            "LifecycleWorkerFunction",
            false,
            &refresh,
        )
        .await
        .unwrap();
    let poller = stack
        .companion_with_env(
            &binary("event-poller"),
            "EventPollerFunction",
            false,
            &refresh,
        )
        .await
        .unwrap();
    let bucket = stack.resource("GovernedBucket");
    let put = |key: &'static str| {
        let s3 = stack.s3();
        let bucket = bucket.clone();
        async move {
            s3.put_object()
                .bucket(bucket)
                .key(key)
                .body(ByteStream::from_static(b"under the new rule"))
                .send()
                .await
                .unwrap()
        }
    };

    // Under the sample, new-rule/ is not governed.
    put("new-rule/before.txt").await;
    stack.drain(10).await.unwrap();
    // The records team puts a new version at the source; no function is restarted.
    set_policy(&stack.sdk, &stack.deployed, &NEW_POLICY)
        .await
        .unwrap();
    put("new-rule/after.txt").await;
    stack.drain(10).await.unwrap();
    let docs = stack
        .sim_admin("nodes?parent_id=2101")
        .await
        .unwrap()
        .to_string();
    assert!(
        docs.contains("new-rule/after.txt"),
        "declared under the new policy: {docs}"
    );
    assert!(
        !docs.contains("new-rule/before.txt"),
        "not under the old one"
    );
    let loaded = "records policy version 2 loaded";
    assert!(
        stack.function.logs().iter().any(|l| l.contains(loaded)),
        "declare"
    );

    // The worker and the poller pick it up at their next invocation.
    let sqs = stack.sqs();
    sqs.send_message()
        .queue_url(stack.resource("LifecycleQueue"))
        .message_body(
            serde_json::json!({"schema": 1, "event_id": "policy-change-probe", "type": "node.version_added",
                "node_id": 2101, "occurred_at": "2026-12-01T10:00:00Z", "actor": {"user_id": 1000},
                "data": {"version": 1}})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    worker.drain(5).await.unwrap();
    assert!(
        logs_until(&worker, loaded).await,
        "worker:\n{}",
        worker.function.logs().join("\n")
    );
    let scheduled = serde_json::json!({"version": "0", "id": "probe", "detail-type": "Scheduled Event",
        "source": "aws.events", "time": "2026-12-01T10:00:00Z", "resources": [], "detail": {}});
    poller
        .runtime
        .invoke(&scheduled, Duration::from_secs(60))
        .await
        .unwrap();
    assert!(
        logs_until(&poller, loaded).await,
        "poller:\n{}",
        poller.function.logs().join("\n")
    );

    // An invalid version is refused, naming the source, and the one in force stays.
    set_policy(
        &stack.sdk,
        &stack.deployed,
        "version: 1\nrules: [ {name: broken} ]\n",
    )
    .await
    .unwrap();
    put("new-rule/still-governed.txt").await;
    stack.drain(10).await.unwrap();
    let docs = stack
        .sim_admin("nodes?parent_id=2101")
        .await
        .unwrap()
        .to_string();
    assert!(
        docs.contains("new-rule/still-governed.txt"),
        "version 2 stayed in force"
    );
    let logs = stack.function.logs().join("\n");
    assert!(logs.contains("new records policy refused"), "{logs}");
    assert!(
        logs.contains("SSM parameter /rb/"),
        "names the source: {logs}"
    );
}
