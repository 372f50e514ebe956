//! P7 end-to-end setup: the real `lifecycle-worker` binary under the Runtime API emulator,
//! fed lifecycle events through the template's queue in moto, publishing from the simulator
//! into the template's publication bucket, invalidating the template's distribution (moto).

#![allow(dead_code)]

use std::sync::{Arc, LazyLock};

use local_stack::stack::{Stack, StackOptions};
use opentext_client::{BytesSource, Client, CreateOptions, VersionOptions};
use records_domain::AuditEvent;
use serde_json::{Map, Value, json};
pub use test_support::hashing::sha256_hex;
pub use test_support::opentext::service_client as opentext;
use test_support::stack::OptionsExt;

/// The publish folder (`Publications`) and the approval category of the seed.
pub const PUBLISH_FOLDER: u64 = 2300;
pub const APPROVAL_CATEGORY: i64 = 3300;
pub const HOLD: i64 = 6100;

/// Nothing declared; documents moved into Publications, approved, or requested through the
/// intake are published under `public/manuals/<node>/<name>` once every gate passes.
pub static POLICY: LazyLock<String> = LazyLock::new(|| {
    test_support::policy::policy(&[r#"  - name: nothing-declared-here
    match: {}
    action: ignore
publication:
  triggers:
    - folder_id: 2300
    - approval
    - request
  approval:
    status_attribute: "3300_2"
    approved_values: [Approved]
    version_attribute: "3300_3"
  audience: public
  key: "manuals/{node_id}/{name}"
  cache_control: "public, max-age=600"
"#])
});

pub async fn stack() -> Stack {
    stack_with(&[], &[]).await
}

/// A stack with extra function environment and template parameters.
pub async fn stack_with(env: &[(&str, &str)], parameters: &[(&str, &str)]) -> Stack {
    let options = StackOptions::new(
        env!("CARGO_BIN_EXE_lifecycle-worker"),
        "LifecycleWorkerFunction",
    );
    test_support::stack::start(
        options
            .with_policy(&POLICY)
            .with_env(env)
            .with_parameters(parameters),
    )
    .await
}

pub fn bucket(stack: &Stack) -> String {
    stack.resource("PublicationBucket")
}

/// How a test document is set up, as a records manager would have left it.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    pub classified: bool,
    pub official: bool,
    pub approval: Option<&'static str>,
    pub approved_version: Option<u32>,
    pub held: bool,
}

impl Setup {
    /// Every gate passes for version 2 of 2.
    pub const PASSING: Setup = Setup {
        classified: true,
        official: true,
        approval: Some("Approved"),
        approved_version: Some(2),
        held: false,
    };
}

/// The two versions' contents (the second above 1 MiB, so the copy really streams).
pub fn contents(name: &str) -> Vec<Vec<u8>> {
    vec![
        format!("{name}: draft for review").into_bytes(),
        (0..1_200_000u32).map(|i| (i % 241) as u8).collect(),
    ]
}

/// A two-version PDF in the publish folder, set up as `setup` says.
pub async fn document(stack: &Stack, name: &str, setup: Setup) -> u64 {
    let ot = opentext(stack);
    let file = format!("{name}.pdf");
    let bodies = contents(name);
    let node = ot
        .create_document(
            PUBLISH_FOLDER as i64,
            &file,
            Arc::new(BytesSource::new(bodies[0].clone(), file.clone())),
            &CreateOptions::default(),
        )
        .await
        .expect("create document");
    ot.add_version(
        node.id,
        Arc::new(BytesSource::new(bodies[1].clone(), file.clone())),
        &VersionOptions::default(),
    )
    .await
    .expect("add version");
    if setup.classified {
        let details = opentext_client::model::RecordUpdate {
            official: Some(setup.official),
            rsi: Some("FIN-7Y".into()),
            record_date: Some("2026-01-15".into()),
            ..Default::default()
        };
        ot.apply_rm_classification(node.id, 4100, &details, None)
            .await
            .expect("classify");
    }
    set_approval(&ot, node.id as u64, setup.approval, setup.approved_version).await;
    if setup.held {
        ot.apply_hold(node.id, HOLD).await.expect("hold");
    }
    node.id as u64
}

/// Sets (or applies) the Publication category: approval status and approved version.
pub async fn set_approval(ot: &Client, node: u64, status: Option<&str>, version: Option<u32>) {
    let mut values = Map::new();
    values.insert(
        "3300_2".into(),
        status.map(Value::from).unwrap_or(Value::Null),
    );
    values.insert(
        "3300_3".into(),
        version.map(Value::from).unwrap_or(Value::Null),
    );
    let applied = ot
        .get_category(node as i64, APPROVAL_CATEGORY)
        .await
        .expect("categories");
    if applied.is_some() {
        ot.update_category(node as i64, APPROVAL_CATEGORY, &values)
            .await
            .expect("update approval");
    } else {
        ot.apply_category(node as i64, APPROVAL_CATEGORY, &values)
            .await
            .expect("apply approval");
    }
}

/// Sends one lifecycle event (the contract's JSON) to the worker's queue.
pub async fn send(
    stack: &Stack,
    event_id: &str,
    event_type: &str,
    node_id: u64,
    version: Option<u32>,
    data: Value,
) {
    let mut body = json!({
        "schema": 1,
        "event_id": event_id,
        "type": event_type,
        "node_id": node_id,
        "occurred_at": "2026-12-01T10:00:00Z",
        "actor": {"user_id": 1001, "name": "jdoe"},
        "data": data,
    });
    if let Some(v) = version {
        body["version"] = v.into();
    }
    test_support::queue::send(stack, "LifecycleQueue", &body.to_string()).await;
}

/// The document arrived in the publish folder (what the poller or a callback reports).
pub async fn moved_in(stack: &Stack, event_id: &str, node: u64) {
    send(
        stack,
        event_id,
        "node.moved",
        node,
        None,
        json!({"to_parent_id": PUBLISH_FOLDER, "from_parent_id": 2101}),
    )
    .await;
}

/// The approval category changed (a callback from Content Server).
pub async fn approval_changed(stack: &Stack, event_id: &str, node: u64) {
    send(
        stack,
        event_id,
        "node.attributes_changed",
        node,
        None,
        json!({"category_id": APPROVAL_CATEGORY}),
    )
    .await;
}

/// Runs the worker until its queue is quiet; panics on a delivery the worker failed.
pub async fn run(stack: &Stack) {
    let reports = stack.drain(20).await.expect("drain");
    for r in &reports {
        assert!(
            r.failed_ids.is_empty() && r.function_error.is_none(),
            "a delivery failed: {r:?}\n{}",
            stack.function.logs().join("\n")
        );
    }
}

/// The publication workflow item: (state, detail).
pub async fn item(stack: &Stack, node: u64) -> Option<(String, Value)> {
    test_support::workflow::item(stack, &format!("publication#{node}")).await
}

/// Every version and delete marker under the node's publication prefix: (key, version id).
pub async fn objects(stack: &Stack, node: u64) -> Vec<(String, String)> {
    let out = stack
        .s3()
        .list_object_versions()
        .bucket(bucket(stack))
        .prefix(format!("public/manuals/{node}/"))
        .send()
        .await
        .expect("list object versions");
    let versions = out.versions().iter().map(|v| {
        (
            v.key().unwrap_or_default().to_string(),
            v.version_id().unwrap_or_default().to_string(),
        )
    });
    let markers = out.delete_markers().iter().map(|m| {
        (
            m.key().unwrap_or_default().to_string(),
            format!("marker:{}", m.version_id().unwrap_or_default()),
        )
    });
    versions.chain(markers).collect()
}

/// The bytes of the object now at `key`.
pub async fn body(stack: &Stack, key: &str) -> Vec<u8> {
    stack
        .s3()
        .get_object()
        .bucket(bucket(stack))
        .key(key)
        .send()
        .await
        .expect("get published copy")
        .body
        .collect()
        .await
        .expect("read")
        .into_bytes()
        .to_vec()
}

/// The paths of every invalidation on the template's distribution (moto).
pub async fn invalidated(stack: &Stack) -> Vec<String> {
    let cdn = records_aws::cdn::Invalidations::new(
        records_aws::config::cloudfront_client(&stack.sdk),
        stack.resource("PublicationDistribution"),
    );
    let mut paths: Vec<String> = cdn
        .invalidated_paths()
        .await
        .expect("invalidations")
        .into_iter()
        .flatten()
        .collect();
    paths.sort();
    paths
}

/// The node's audit events.
pub async fn audit(stack: &Stack, node: u64) -> Vec<AuditEvent> {
    test_support::audit::of_node(stack, node).await
}

/// The node's audit events of one action and outcome.
pub async fn audited(
    stack: &Stack,
    node: u64,
    action: records_domain::AuditAction,
    outcome: records_domain::Outcome,
) -> Vec<AuditEvent> {
    audit(stack, node)
        .await
        .into_iter()
        .filter(|e| e.action == action && e.outcome == outcome)
        .collect()
}
