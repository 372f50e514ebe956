//! Holds on nodes: inheritance and the delete block.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn holds_block_delete_directly_and_inherited() {
    let t = start().await;
    let a = t.admin_ticket().await;
    let folder = t.create_folder(&a, 2103, "Case files").await;
    let (_, v) = json(t.create_doc(&a, folder, "contract.pdf", b"%PDF").await).await;
    let doc = node_id(&v);
    // hold_id as a query parameter.
    let r = t
        .http
        .post(t.api(&format!("/v1/nodes/{folder}/holds?hold_id=6100")))
        .header("OTCSTicket", &a)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, v) = json(t.get(&a, &format!("/v1/nodes/{doc}/holds")).await).await;
    assert_eq!(v["data"][0]["hold_id"], 6100);
    assert_eq!(v["data"][0]["removable"], false);
    let (s, v) = json(t.delete(&a, &format!("/v2/nodes/{doc}")).await).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["error"].as_str().unwrap().contains("on hold"), "{v}");
    // Deleting the folder is refused too, and adding a version is still allowed.
    assert_eq!(
        t.delete(&a, &format!("/v2/nodes/{folder}")).await.status(),
        StatusCode::BAD_REQUEST
    );
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"v2".to_vec()).file_name("contract.pdf"),
    );
    let r = t
        .post_multipart(&a, &format!("/v2/nodes/{doc}/versions"), form)
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Removing from the document (not where it was applied) fails; from the folder works.
    let (s, v) = json(t.delete(&a, &format!("/v1/nodes/{doc}/holds/6100")).await).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("Object does not have this Hold")
        )
    );
    assert_eq!(
        t.delete(&a, &format!("/v1/nodes/{folder}/holds/6100"))
            .await
            .status(),
        StatusCode::OK
    );
    // hold_id inside `body`, then as a plain form field on a fresh hold.
    let b = json!({"hold_id": 6100}).to_string();
    assert_eq!(
        t.post_form(&a, &format!("/v1/nodes/{doc}/holds"), &[("body", &b)])
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        t.delete(&a, &format!("/v2/nodes/{doc}")).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        t.delete(&a, &format!("/v1/nodes/{doc}/holds/6100"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        t.delete(&a, &format!("/v2/nodes/{folder}")).await.status(),
        StatusCode::OK
    );
    let view = t.admin_json(&format!("/nodes/{doc}")).await;
    assert_eq!(view["deleted"], true);
    assert_eq!(
        t.get(&a, &format!("/v2/nodes/{doc}")).await.status(),
        StatusCode::BAD_REQUEST
    );
    let (_, v) = json(t.get(&a, &format!("/v2/nodes/{folder}/nodes")).await).await;
    assert_eq!(v["error"], format!("Could not get a node for {folder}"));
    let names = audit_names(&view["audit"]);
    assert_eq!(
        names,
        [
            "Create",
            "Add Version",
            "Hold Applied",
            "Hold Removed",
            "Delete"
        ]
    );
}
