//! End to end: the real `event-intake` binary behind an emulated Function URL (the exact
//! payload-2.0 JSON AWS sends), the template's secret, table and lifecycle queue in moto.
//! Every refusal asserts that nothing reached the queue.

use std::collections::BTreeMap;

use local_stack::function_url::{UrlResponse, call, request, signed_headers, unix_now};
use local_stack::stack::{Stack, StackOptions};
use serde_json::{Value, json};
use test_support::stack::OptionsExt;

const QUEUE: &str = "LifecycleQueue";
const SECRET: &str = "EventSigningSecret";
const KEY_A: &str = "key-A-0123456789abcdefghijklmnopqrstuvwxyz";
const KEY_B: &str = "key-B-0123456789abcdefghijklmnopqrstuvwxyz";

async fn stack(env: &[(&str, &str)]) -> Stack {
    let o = StackOptions::new(env!("CARGO_BIN_EXE_event-intake"), "EventIntakeFunction");
    test_support::stack::start(o.with_env(env)).await
}

fn event(id: &str, kind: &str) -> String {
    let data = match kind {
        "hold.applied" | "hold.removed" => json!({"hold_id": 6100, "hold_name": "LIT-2026-001"}),
        "record.status_changed" => json!({"status": "ARCHIVE"}),
        _ => json!({}),
    };
    json!({
        "schema": 1,
        "event_id": id,
        "type": kind,
        "node_id": 10001,
        "version": 2,
        "occurred_at": "2026-11-25T10:00:00Z",
        "actor": {"user_id": 1000, "name": "Admin"},
        "data": data,
    })
    .to_string()
}

/// POSTs `body` with the given headers (plain text body unless `base64`).
async fn post(s: &Stack, headers: &[(String, String)], body: &[u8], base64: bool) -> UrlResponse {
    post_as(s, "POST", headers, body, base64).await
}

async fn post_as(
    s: &Stack,
    method: &str,
    headers: &[(String, String)],
    body: &[u8],
    base64: bool,
) -> UrlResponse {
    let mut h: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    h.push(("Content-Type", "application/json"));
    let req = request(method, "/", &h, body, base64);
    call(&s.runtime, &req, std::time::Duration::from_secs(30))
        .await
        .expect("invocation")
}

async fn signed_post(s: &Stack, key: &str, body: &str) -> UrlResponse {
    post(
        s,
        &signed_headers(key, unix_now(), body.as_bytes()),
        body.as_bytes(),
        false,
    )
    .await
}

/// Messages on the lifecycle queue (visible and in flight).
async fn depth(s: &Stack) -> usize {
    test_support::queue::queue_depth(s, QUEUE).await
}

/// Bodies of the queued messages, left on the queue.
async fn queued(s: &Stack) -> Vec<Value> {
    test_support::queue::peek(s, QUEUE).await
}

async fn set_keys(s: &Stack, keys: Value) {
    secrets(s)
        .put_secret_value()
        .secret_id(s.resource(SECRET))
        .secret_string(keys.to_string())
        .send()
        .await
        .unwrap();
}

fn secrets(s: &Stack) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&s.sdk)
}

/// The key the template's `GenerateSecretString` made (what an admin copies to OpenText).
async fn generated_key(s: &Stack) -> String {
    let text = secrets(s)
        .get_secret_value()
        .secret_id(s.resource(SECRET))
        .send()
        .await
        .unwrap()
        .secret_string
        .unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["current"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_signed_callback_is_enqueued_once_and_its_replay_refused() {
    let s = stack(&[]).await;
    let key = generated_key(&s).await;
    assert_eq!(key.len(), 64);

    let body = event("otcs-hold-1", "hold.applied");
    let r = signed_post(&s, &key, &body).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.json(), json!({"accepted": "otcs-hold-1"}));
    assert_eq!(r.headers["content-type"], "application/json");

    let messages = queued(&s).await;
    assert_eq!(messages.len(), 1);
    let mut expected: Value = serde_json::from_str(&body).unwrap();
    expected["source"] = json!("callback");
    assert_eq!(messages[0], expected);

    // The same signed call again (a replay), and a fresh signature over the same id.
    let replay = signed_post(&s, &key, &body).await;
    assert_eq!(replay.status, 409, "{}", replay.body);
    assert!(
        replay.json()["error"]
            .as_str()
            .unwrap()
            .contains("otcs-hold-1")
    );
    let other_body = event("otcs-hold-1", "hold.removed");
    assert_eq!(signed_post(&s, &key, &other_body).await.status, 409);
    assert_eq!(depth(&s).await, 1, "a replay enqueues nothing");

    // A body the Function URL delivers base64-encoded is verified on its decoded bytes.
    let body2 = event("otcs-status-2", "record.status_changed");
    let r = post(
        &s,
        &signed_headers(&key, unix_now(), body2.as_bytes()),
        body2.as_bytes(),
        true,
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(depth(&s).await, 2);
}

#[tokio::test]
async fn refused_calls_get_their_status_and_enqueue_nothing() {
    let s = stack(&[]).await;
    let key = generated_key(&s).await;
    // Stale and future timestamps sit far outside the window, so a slow machine cannot
    // bring them back inside it between here and the call.
    let now = unix_now();
    let body = event("otcs-refused-1", "hold.applied");
    let good = signed_headers(&key, now, body.as_bytes());
    let with_sig = |sig: &str| vec![good[0].clone(), (good[1].0.clone(), sig.to_string())];
    let wrong_key = signed_headers(
        "not-the-configured-key-0123456789abcdef",
        now,
        body.as_bytes(),
    );
    let tampered = body.replace("10001", "10002");
    let malformed = r#"{"schema":1,"event_id":"otcs-x""#.to_string();
    let unknown = event("otcs-unknown", "node.exploded");
    let missing_data = event("otcs-nodata", "hold.applied").replace(r#""hold_id":6100,"#, "");
    let oversize = format!(
        r#"{{"schema":1,"event_id":"big","pad":"{}"}}"#,
        "x".repeat(256 * 1024)
    );
    // Within the body limit, but the source records-bridge writes onto it takes the enqueued
    // message past SQS's 256 KiB.
    let at_limit = {
        let mut v: serde_json::Value =
            serde_json::from_str(&event("otcs-at-limit", "hold.applied")).unwrap();
        v["data"]["pad"] = json!("");
        let room = 256 * 1024 - v.to_string().len() - 2;
        v["data"]["pad"] = json!("x".repeat(room));
        v.to_string()
    };

    type Case<'a> = (&'a str, Vec<(String, String)>, String, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "bad signature",
            wrong_key,
            body.clone(),
            401,
            "does not match",
        ),
        (
            "garbage signature",
            with_sig("v1=nothex"),
            body.clone(),
            401,
            "v1=",
        ),
        (
            "body changed after signing",
            good.clone(),
            tampered,
            401,
            "does not match",
        ),
        (
            "stale timestamp",
            signed_headers(&key, now - 1000, body.as_bytes()),
            body.clone(),
            401,
            "window",
        ),
        (
            "timestamp from the future",
            signed_headers(&key, now + 1000, body.as_bytes()),
            body.clone(),
            401,
            "window",
        ),
        (
            "missing headers",
            vec![],
            body.clone(),
            401,
            "X-Records-Bridge-Timestamp",
        ),
        (
            "missing signature",
            vec![good[0].clone()],
            body.clone(),
            401,
            "X-Records-Bridge-Signature",
        ),
        (
            "malformed JSON",
            signed_headers(&key, now, malformed.as_bytes()),
            malformed.clone(),
            400,
            "invalid lifecycle event",
        ),
        (
            "unknown type",
            signed_headers(&key, now, unknown.as_bytes()),
            unknown.clone(),
            400,
            "unknown variant `node.exploded`",
        ),
        (
            "missing type-specific data",
            signed_headers(&key, now, missing_data.as_bytes()),
            missing_data.clone(),
            400,
            "data.hold_id",
        ),
        (
            "oversize body",
            signed_headers(&key, now, oversize.as_bytes()),
            oversize.clone(),
            413,
            "larger than 262144 bytes",
        ),
        (
            "too large once enqueued",
            signed_headers(&key, now, at_limit.as_bytes()),
            at_limit.clone(),
            413,
            "once enqueued",
        ),
    ];
    for (name, headers, body, status, says) in cases {
        let r = post(&s, &headers, body.as_bytes(), false).await;
        assert_eq!(r.status, status, "{name}: {}", r.body);
        let error = r.json()["error"].as_str().unwrap_or_default().to_string();
        assert!(
            error.contains(says),
            "{name}: {error:?} should say {says:?}"
        );
        assert!(!error.contains(&key), "{name}: the key never appears");
        assert_eq!(depth(&s).await, 0, "{name}: nothing enqueued");
    }
    let r = post_as(&s, "GET", &good, b"", false).await;
    assert_eq!(r.status, 405);
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let mut headers: Vec<(&str, &str)> =
            good.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        headers.push(("Content-Type", content_type));
        let req = request("POST", "/", &headers, body.as_bytes(), false);
        let r = call(&s.runtime, &req, std::time::Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(r.status, 415, "{content_type}: {}", r.body);
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap()
                .contains("application/json")
        );
        assert_eq!(depth(&s).await, 0, "{content_type}: nothing enqueued");
    }

    // None of the refused calls burned the event id: the genuine call is accepted.
    let r = post(&s, &good, body.as_bytes(), false).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(depth(&s).await, 1);
}

#[tokio::test]
async fn key_rotation_accepts_both_keys_then_only_the_new_one() {
    // Keys re-read on every call here; deployed, they are re-read every 5 minutes.
    let s = stack(&[("SIGNING_KEYS_CACHE_SECS", "0")]).await;
    set_keys(&s, json!({"current": KEY_A})).await;
    assert_eq!(
        signed_post(&s, KEY_A, &event("rot-1", "node.version_added"))
            .await
            .status,
        202
    );
    assert_eq!(
        signed_post(&s, KEY_B, &event("rot-2", "node.version_added"))
            .await
            .status,
        401
    );

    // Step 1: the new key is added; senders still on the old key keep working.
    set_keys(&s, json!({"current": KEY_B, "previous": KEY_A})).await;
    assert_eq!(
        signed_post(&s, KEY_A, &event("rot-3", "node.version_added"))
            .await
            .status,
        202
    );
    assert_eq!(
        signed_post(&s, KEY_B, &event("rot-4", "node.version_added"))
            .await
            .status,
        202
    );
    // A sender in transition may sign with both keys at once.
    let body = event("rot-5", "node.version_added");
    let ts = unix_now();
    let a = signed_headers(KEY_A, ts, body.as_bytes());
    let b = signed_headers(KEY_B, ts, body.as_bytes());
    let both = vec![
        a[0].clone(),
        (a[1].0.clone(), format!("{}, {}", a[1].1, b[1].1)),
    ];
    assert_eq!(post(&s, &both, body.as_bytes(), false).await.status, 202);
    assert_eq!(depth(&s).await, 4);

    // Step 3: the old key is dropped; it is refused without a redeploy, nothing enqueued.
    set_keys(&s, json!({"current": KEY_B})).await;
    let r = signed_post(&s, KEY_A, &event("rot-6", "node.version_added")).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(depth(&s).await, 4);
    assert_eq!(
        signed_post(&s, KEY_B, &event("rot-7", "node.version_added"))
            .await
            .status,
        202
    );
    assert_eq!(depth(&s).await, 5);
}

#[tokio::test]
async fn keys_are_cached_then_reread_at_cold_start_and_a_bad_secret_stops_the_start() {
    let mut s = stack(&[]).await;
    let key = generated_key(&s).await;
    set_keys(&s, json!({"current": KEY_B})).await;
    // Within the cache period the keys in hand are used (no Secrets Manager call per event).
    assert_eq!(
        signed_post(&s, &key, &event("c-1", "retention.changed"))
            .await
            .status,
        202
    );
    assert_eq!(
        signed_post(&s, KEY_B, &event("c-2", "retention.changed"))
            .await
            .status,
        401
    );

    // A cold start reads the secret again.
    s.restart_function(BTreeMap::new()).await.unwrap();
    assert_eq!(
        signed_post(&s, KEY_B, &event("c-3", "retention.changed"))
            .await
            .status,
        202
    );
    assert_eq!(
        signed_post(&s, &key, &event("c-4", "retention.changed"))
            .await
            .status,
        401
    );
    assert_eq!(depth(&s).await, 2);

    // A secret that is not the expected JSON refuses to start, naming the problem but not
    // the value.
    set_keys(&s, json!({"current": "too-short"})).await;
    let err = s
        .restart_function(BTreeMap::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("shorter than 32"), "{err}");
    assert!(!err.contains("too-short"), "{err}");
}

#[tokio::test]
async fn a_failed_enqueue_answers_503_and_the_same_signed_call_succeeds_on_retry() {
    let mut s = stack(&[]).await;
    let real_queue = s.resource(QUEUE);
    let missing = format!("{}-missing", real_queue);
    s.restart_function(BTreeMap::from([(
        "LIFECYCLE_QUEUE_URL".to_string(),
        missing,
    )]))
    .await
    .unwrap();
    let key = generated_key(&s).await;
    let body = event("otcs-retry-1", "node.moved").replace("{}", r#"{"to_parent_id":2200}"#);
    let headers = signed_headers(&key, unix_now(), body.as_bytes());
    let r = post(&s, &headers, body.as_bytes(), false).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.headers.get("retry-after").map(String::as_str), Some("5"));
    assert_eq!(depth(&s).await, 0);

    // The queue is back: the sender's identical retry is not mistaken for a replay.
    s.restart_function(BTreeMap::from([(
        "LIFECYCLE_QUEUE_URL".to_string(),
        real_queue,
    )]))
    .await
    .unwrap();
    let r = post(&s, &headers, body.as_bytes(), false).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(depth(&s).await, 1);
    assert_eq!(queued(&s).await[0]["data"]["to_parent_id"], 2200);
}
