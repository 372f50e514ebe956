//! Content: streamed upload (size + SHA-256 kept), downloads, versions, chunked upload.

use opentext_sim::SimConfig;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::*;

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

#[tokio::test]
async fn streamed_upload_keeps_size_and_sha256_and_downloads_stream_back() {
    let t = start().await;
    let a = t.admin_ticket().await;
    // ~3 MiB in many chunks, so the multipart reader sees several pieces.
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let stream = futures_util::stream::iter(
        data.chunks(64 * 1024)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let part = Part::stream_with_length(reqwest::Body::wrap_stream(stream), data.len() as u64)
        .file_name("big.bin")
        .mime_str("application/octet-stream")
        .unwrap();
    let form = Form::new()
        .text("type", "144")
        .text("parent_id", "2200")
        .text("name", "big.bin")
        .text("external_identity", "s3://b/k#v1")
        .text("external_identity_type", "s3-version")
        .part("file", part);
    let (s, v) = json(t.post_multipart(&a, "/v2/nodes", form).await.unwrap()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let id = node_id(&v);
    assert_eq!(v["results"]["data"]["properties"]["size"], data.len());
    let view = t.admin_json(&format!("/nodes/{id}")).await;
    assert_eq!(view["versions"][0]["size"], data.len());
    assert_eq!(view["versions"][0]["sha256"], sha(&data));
    assert_eq!(view["versions"][0]["external_identity"], "s3://b/k#v1");

    let r = t.get(&a, &format!("/v1/nodes/{id}/content")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/octet-stream");
    assert_eq!(h["content-length"], data.len().to_string().as_str());
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .contains("big.bin")
    );
    assert_eq!(sha(&r.bytes().await.unwrap()), sha(&data));
}

#[tokio::test]
async fn versions_count_from_one_and_keep_their_own_identity() {
    let t = start().await;
    let a = t.admin_ticket().await;
    let (_, v) = json(t.create_doc(&a, 2200, "v.txt", b"first").await).await;
    let id = node_id(&v);
    for (i, body) in ["second", "third"].iter().enumerate() {
        let form = Form::new()
            .text("description", format!("rev {i}"))
            .text("external_identity", format!("key-{i}"))
            .text("add_major_version", "true")
            .part(
                "file",
                Part::bytes(body.as_bytes().to_vec()).file_name("v.txt"),
            );
        let r = t
            .post_multipart(&a, &format!("/v2/nodes/{id}/versions"), form)
            .await
            .unwrap();
        let (s, v) = json(r).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["results"]["data"]["versions"]["version_number"], i + 2);
    }
    let (_, v) = json(t.get(&a, &format!("/v2/nodes/{id}/versions")).await).await;
    let nums: Vec<i64> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["data"]["versions"]["version_number"].as_i64().unwrap())
        .collect();
    assert_eq!(nums, [1, 2, 3]);
    assert_eq!(
        v["results"][2]["data"]["versions"]["external_identity"],
        "key-1"
    );
    let (_, v) = json(t.get(&a, &format!("/v1/nodes/{id}/versions/latest")).await).await;
    assert_eq!(v["data"]["version_number"], 3);
    let (_, v) = json(t.get(&a, &format!("/v2/nodes/{id}/versions/2")).await).await;
    assert_eq!(v["results"]["data"]["versions"]["file_size"], 6);
    let body = t
        .get(&a, &format!("/v2/nodes/{id}/versions/1/content"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(body, "first");
    let body = t
        .get(&a, &format!("/v1/nodes/{id}/content/v.txt"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(body, "third");
    assert_eq!(
        t.get(&a, &format!("/v2/nodes/{id}/versions/9"))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    // No file, no upload_key.
    let r = t
        .post_form(
            &a,
            &format!("/v2/nodes/{id}/versions"),
            &[("description", "x")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

async fn put_part(t: &T, a: &str, key: &str, n: u64, bytes: &[u8]) -> (StatusCode, Value) {
    let form = Form::new().part(
        "part_content",
        Part::bytes(bytes.to_vec()).file_name("blob"),
    );
    json(
        t.post_multipart(a, &format!("/v2/multipart/{key}/{n}"), form)
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn chunked_upload_flow_with_part_checks() {
    let t = start_with(SimConfig {
        multipart: small_multipart(),
        ..SimConfig::default()
    })
    .await;
    let a = t.admin_ticket().await;
    let (_, v) = json(t.get(&a, "/v2/multipart/settings").await).await;
    assert_eq!(
        v,
        json!({"is_enabled": true, "max_size": 1 << 20, "min_size": 10})
    );
    let data = b"0123456789abcdefghijklmnopqrstuvwxyz-0123"; // 41 bytes: parts 16, 16, 9
    let (s, v) = json(
        t.post_form(
            &a,
            "/v2/multipart",
            &[
                ("file_name", "c.txt"),
                ("file_size", "41"),
                ("mime_type", "text/plain"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["num_parts"].as_u64(), v["part_size"].as_u64()),
        (Some(3), Some(16))
    );
    let key = v["upload_key"].as_str().unwrap().to_string();

    assert_eq!(
        put_part(&t, &a, &key, 1, &data[..16]).await.0,
        StatusCode::OK
    );
    let (s, v) = put_part(&t, &a, &key, 1, &data[..16]).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("BlockID 1 has already been uploaded")
    );
    let (s, v) = put_part(&t, &a, &key, 2, &data[16..20]).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(v["error"].as_str().unwrap().contains("Invalid block size"));
    assert_eq!(
        put_part(&t, &a, &key, 4, &data[..9]).await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        put_part(&t, &a, &key, 3, &data[32..]).await.0,
        StatusCode::OK
    );
    // Part 2 still missing.
    let r = t.post_form(&a, &format!("/v2/multipart/{key}"), &[]).await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        put_part(&t, &a, &key, 2, &data[16..32]).await.0,
        StatusCode::OK
    );
    assert_eq!(
        t.post_form(&a, &format!("/v2/multipart/{key}"), &[])
            .await
            .status(),
        StatusCode::OK
    );

    let r = t
        .post_form(
            &a,
            "/v2/nodes",
            &[
                ("type", "144"),
                ("parent_id", "2200"),
                ("name", "chunked.txt"),
                ("upload_key", &key),
            ],
        )
        .await;
    let (s, v) = json(r).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let id = node_id(&v);
    let view = t.admin_json(&format!("/nodes/{id}")).await;
    assert_eq!(view["versions"][0]["sha256"], sha(data));
    assert_eq!(view["versions"][0]["mime_type"], "text/plain");
    assert_eq!(
        t.get(&a, &format!("/v2/nodes/{id}/content"))
            .await
            .bytes()
            .await
            .unwrap()
            .as_ref(),
        data
    );
    // The key is consumed.
    let r = t
        .post_form(
            &a,
            "/v2/nodes",
            &[
                ("type", "144"),
                ("parent_id", "2200"),
                ("name", "again.txt"),
                ("upload_key", &key),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Size limits and cancel.
    let r = t
        .post_form(
            &a,
            "/v2/multipart",
            &[
                ("file_name", "s"),
                ("file_size", "5"),
                ("mime_type", "text/plain"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let (_, v) = json(
        t.post_form(
            &a,
            "/v2/multipart",
            &[
                ("file_name", "c"),
                ("file_size", "20"),
                ("mime_type", "text/plain"),
            ],
        )
        .await,
    )
    .await;
    let key2 = v["upload_key"].as_str().unwrap().to_string();
    assert_eq!(
        t.delete(&a, &format!("/v2/multipart/{key2}"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        put_part(&t, &a, &key2, 1, &[0; 16]).await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );

    // Sessions expire.
    let (_, v) = json(
        t.post_form(
            &a,
            "/v2/multipart",
            &[
                ("file_name", "c"),
                ("file_size", "20"),
                ("mime_type", "text/plain"),
            ],
        )
        .await,
    )
    .await;
    let key3 = v["upload_key"].as_str().unwrap().to_string();
    t.admin_post("/uploads/expire", json!({})).await;
    let (s, v) = put_part(&t, &a, &key3, 1, &[0; 16]).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(v["error"], "Multipart Upload session expired");
}
