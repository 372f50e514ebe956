//! The simulator's admin views (`/sim/admin/...`): what OpenText holds, without going
//! through the REST API under test.

use local_stack::stack::Stack;
use serde_json::Value;

/// Every live document (type 144) in a folder, as the simulator stores it (versions with
/// their SHA-256, categories, RM data).
pub async fn documents(stack: &Stack, folder: u64) -> Vec<Value> {
    let v = stack
        .sim_admin(&format!("nodes?parent_id={folder}"))
        .await
        .expect("admin nodes");
    v.as_array()
        .cloned()
        .or_else(|| v.get("nodes").and_then(Value::as_array).cloned())
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n["deleted"] != Value::Bool(true) && n["type"] == 144)
        .collect()
}

/// The live document named exactly `name` in a folder.
pub async fn document_named(stack: &Stack, folder: u64, name: &str) -> Option<Value> {
    documents(stack, folder)
        .await
        .into_iter()
        .find(|n| n["name"].as_str() == Some(name))
}

/// The simulator's view of one node (versions with SHA-256, categories, RM data, holds).
pub async fn node(stack: &Stack, node_id: u64) -> Value {
    stack
        .sim_admin(&format!("/nodes/{node_id}"))
        .await
        .expect("sim node")
}

/// A category attribute's value (`"3100_7"`) on a node of the admin view, in whichever
/// category holds it.
pub fn category_value(node: &Value, key: &str) -> Option<Value> {
    let cats = node.get("categories")?;
    cats.as_object()?.values().find_map(|c| {
        c.get(key)
            .cloned()
            .or_else(|| c.get("values").and_then(|v| v.get(key)).cloned())
    })
}

/// The simulator's request log: `{method, path, status, user}` per request, oldest first.
pub async fn requests(stack: &Stack) -> Vec<Value> {
    let log = stack.sim_admin("requests").await.expect("request log");
    log.as_array()
        .or_else(|| log.get("requests").and_then(Value::as_array))
        .cloned()
        .unwrap_or_default()
}

/// The request log without sign-in (`/api/v1/auth`: once per cold start, not per piece of
/// work): the OpenText calls the work itself made.
pub async fn opentext_calls(stack: &Stack) -> Vec<Value> {
    requests(stack)
        .await
        .into_iter()
        .filter(|r| {
            !r["path"]
                .as_str()
                .unwrap_or_default()
                .contains("/api/v1/auth")
        })
        .collect()
}

/// Empties the request log (so that setup calls are not counted as the function's).
pub async fn clear_requests(stack: &Stack) {
    reqwest::Client::new()
        .delete(format!("{}/requests", stack.sim.admin_url()))
        .send()
        .await
        .expect("clear request log")
        .error_for_status()
        .expect("cleared");
}
