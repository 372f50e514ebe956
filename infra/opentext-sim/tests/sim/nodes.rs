//! Nodes: duplicates, not-found forms, permissions per user, categories, delete, audit.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn duplicate_names_and_long_names_fail_like_content_server() {
    let t = start().await;
    let a = t.admin_ticket().await;
    let (s, v) = json(t.create_doc(&a, 2101, "Invoice 1.pdf", b"one").await).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // Case-insensitive, as Content Server compares names.
    let (s, v) = json(t.create_doc(&a, 2101, "invoice 1.PDF", b"two").await).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        v["error"],
        "An item with the name 'invoice 1.PDF' already exists."
    );
    let long = "x".repeat(249);
    let r = t
        .post_form(
            &a,
            "/v2/nodes",
            &[("type", "0"), ("parent_id", "2101"), ("name", &long)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let ok = "y".repeat(248);
    let r = t
        .post_form(
            &a,
            "/v2/nodes",
            &[("type", "0"), ("parent_id", "2101"), ("name", &ok)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // Rename onto an existing name fails the same way.
    let id = t.create_folder(&a, 2101, "Other").await;
    let r = t
        .put_form(&a, &format!("/v2/nodes/{id}"), &[("name", "Invoice 1.pdf")])
        .await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn missing_nodes_get_the_per_call_error_forms() {
    let t = start().await;
    let a = t.admin_ticket().await;
    let (s, v) = json(t.get(&a, "/v2/nodes/999999").await).await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "Could not get a node for 999999")
    );
    let (s, _) = json(t.get(&a, "/v1/nodes/999999").await).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, v) = json(t.get(&a, "/v2/nodes/999999/nodes").await).await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Could not get a node for 999999"
        )
    );
    let (s, _) = json(t.delete(&a, "/v2/nodes/999999").await).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    let (s, v) = json(t.get(&a, "/v1/nodes/999999/content").await).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .starts_with("Could not locate node")
    );
    let (s, v) = json(t.get(&a, "/v2/nodes/abc").await).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["error"].as_str().unwrap().contains("Invalid datatype"));
}

#[tokio::test]
async fn permissions_are_enforced_per_user() {
    let t = start().await;
    let a = t.admin_ticket().await;
    let jdoe = t.login("jdoe", "jdoe-pass").await;
    let auditor = t.login("auditor", "auditor-pass").await;
    let outsider = t.login("outsider", "outsider-pass").await;

    // Records Managers create under Finance; the owner gets full rights.
    let (s, v) = json(t.create_doc(&jdoe, 2101, "by-jdoe.txt", b"hi").await).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let doc = node_id(&v);

    // Outsider: nothing under Records is visible; not-found form, not 403.
    let (s, v) = json(t.get(&outsider, "/v2/nodes/2101").await).await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "Could not get a node for 2101")
    );
    let (s, _) = json(t.get(&outsider, &format!("/v1/nodes/{doc}/content")).await).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        t.get(&outsider, "/v2/nodes/2200").await.status(),
        StatusCode::OK
    );
    let (_, v) = json(t.get(&outsider, "/v2/nodes/2000/nodes").await).await;
    let names: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["data"]["properties"]["name"].as_str().unwrap())
        .collect();
    // Only the folders everyone may see (Records is not one).
    assert_eq!(names, ["Archive", "Publications"]);

    // Auditor: sees Legal but not Finance; cannot add items anywhere.
    assert_eq!(
        t.get(&auditor, "/v2/nodes/2103").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        t.get(&auditor, "/v2/nodes/2101").await.status(),
        StatusCode::BAD_REQUEST
    );
    let (s, v) = json(
        t.post_form(
            &auditor,
            "/v2/nodes",
            &[("type", "0"), ("parent_id", "2103"), ("name", "nope")],
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(v["error"].as_str().unwrap().contains("add_items"));

    // Effective rights: own id allowed, someone else's needs edit_permissions.
    let (s, v) = json(
        t.get(&auditor, "/v2/nodes/2103/permissions/effective/1002")
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v["results"]["data"]["permissions"]["permissions"],
        json!(["see", "see_contents"])
    );
    assert_eq!(
        t.get(&auditor, "/v2/nodes/2103/permissions/effective/1001")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let (_, v) = json(
        t.get(&a, &format!("/v2/nodes/{doc}/permissions/effective/1001"))
            .await,
    )
    .await;
    assert!(
        v["results"]["data"]["permissions"]["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("delete"))
    );

    // Granting auditors access on a Finance document (apply_to 0) makes it visible to them.
    let body = json!({"right_id": 1101, "permissions": ["see", "see_contents"], "apply_to": 0})
        .to_string();
    let r = t
        .post_form(
            &a,
            &format!("/v2/nodes/{doc}/permissions/custom"),
            &[("body", &body)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        t.get(&auditor, &format!("/v1/nodes/{doc}/content"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        t.delete(&auditor, &format!("/v2/nodes/{doc}"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let (_, v) = json(t.get(&a, &format!("/v2/nodes/{doc}/audit")).await).await;
    let events: Vec<i64> = v["results"]["data"]["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_i64().unwrap())
        .collect();
    assert!(events.contains(&9), "permission change audited: {events:?}");
}

#[tokio::test]
async fn children_filter_sort_and_page() {
    let t = start().await;
    let a = t.admin_ticket().await;
    let f = t.create_folder(&a, 2200, "Batch").await;
    for name in [
        "b-report.txt",
        "a-report.txt",
        "c-notes.txt",
        "D-Report.txt",
    ] {
        assert_eq!(
            t.create_doc(&a, f, name, b"x").await.status(),
            StatusCode::OK
        );
    }
    t.create_folder(&a, f, "sub").await;
    let (_, v) = json(
        t.get(
            &a,
            &format!("/v2/nodes/{f}/nodes?where_name=REPORT&sort=desc_name&limit=2&page=1"),
        )
        .await,
    )
    .await;
    let names: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["data"]["properties"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["D-Report.txt", "b-report.txt"]);
    let p = &v["collection"]["paging"];
    assert_eq!(
        (
            p["total_count"].as_i64(),
            p["page_total"].as_i64(),
            p["range_min"].as_i64(),
            p["range_max"].as_i64()
        ),
        (Some(3), Some(2), Some(1), Some(2))
    );
    let (_, v) = json(
        t.get(&a, &format!("/v2/nodes/{f}/nodes?where_type=-1"))
            .await,
    )
    .await;
    assert_eq!(v["results"].as_array().unwrap().len(), 1);
    let (_, v) = json(
        t.get(
            &a,
            &format!("/v2/nodes/{f}/nodes?where_type=144&page=2&limit=3"),
        )
        .await,
    )
    .await;
    assert_eq!(v["results"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn categories_at_creation_and_later_are_validated() {
    let t = start().await;
    let a = t.admin_ticket().await;
    let body = json!({"type": 0, "parent_id": 2200, "name": "with-cat",
        "roles": {"categories": {"3100_1": {}, "3100_2": "my-bucket", "3100_6": 42}}});
    let (s, v) = json(
        t.post_form(&a, "/v2/nodes", &[("body", &body.to_string())])
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let id = node_id(&v);
    let (_, v) = json(
        t.get(&a, &format!("/v2/nodes/{id}/categories?metadata"))
            .await,
    )
    .await;
    let cats = &v["results"][0]["data"]["categories"];
    assert_eq!(
        (
            cats["3100_2"].clone(),
            cats["3100_6"].clone(),
            cats["3100_3"].clone()
        ),
        (json!("my-bucket"), json!(42), Value::Null)
    );
    assert_eq!(
        v["results"][0]["metadata"]["categories"]["3100_6"]["type_name"],
        "Integer"
    );

    let bad = json!({"type": 0, "parent_id": 2200, "name": "bad-cat", "roles": {"categories": {"3100_6": "forty"}}});
    assert_eq!(
        t.post_form(&a, "/v2/nodes", &[("body", &bad.to_string())])
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );

    let r = t
        .put_form(
            &a,
            &format!("/v2/nodes/{id}/categories/3100"),
            &[("3100_6", "not-a-number")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = t
        .put_form(
            &a,
            &format!("/v2/nodes/{id}/categories/3100"),
            &[("3100_3", "key/one"), ("3100_6", "7")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = t
        .put_form(
            &a,
            &format!("/v2/nodes/{id}/categories/3100"),
            &[("3100_99", "x")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let (_, v) = json(t.get(&a, &format!("/v2/nodes/{id}/categories")).await).await;
    assert_eq!(v["results"][0]["data"]["categories"]["3100_6"], 7);
    assert_eq!(v["results"][0]["data"]["categories"]["3100_2"], "my-bucket");

    assert_eq!(
        t.delete(&a, &format!("/v2/nodes/{id}/categories/3100"))
            .await
            .status(),
        StatusCode::OK
    );
    let r = t
        .post_form(
            &a,
            &format!("/v2/nodes/{id}/categories"),
            &[("category_id", "3100"), ("3100_2", "b2")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = t
        .post_form(
            &a,
            &format!("/v2/nodes/{id}/categories"),
            &[("category_id", "3100")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let (_, v) = json(
        t.get(&a, &format!("/v2/nodes/{id}/audit?sort=asc_audit_date"))
            .await,
    )
    .await;
    let names = audit_names(&v["results"]["data"]["audit"]);
    assert_eq!(
        names,
        [
            "Create",
            "Category Added",
            "Attribute Value Changed",
            "Category Removed",
            "Category Added"
        ]
    );
}

#[tokio::test]
async fn update_moves_and_checks_the_metadata_token() {
    let t = start().await;
    let a = t.admin_ticket().await;
    let id = t.create_folder(&a, 2200, "movable").await;
    let (_, v) = json(t.get(&a, &format!("/v2/nodes/{id}?state")).await).await;
    let token = v["results"]["state"]["properties"]["metadata_token"]
        .as_str()
        .unwrap()
        .to_string();
    let body = json!({"name": "moved", "parent_id": 2101, "metadata_token": token}).to_string();
    assert_eq!(
        t.put_form(&a, &format!("/v2/nodes/{id}"), &[("body", &body)])
            .await
            .status(),
        StatusCode::OK
    );
    let (_, v) = json(t.get(&a, &format!("/v1/nodes/{id}")).await).await;
    assert_eq!(
        (v["data"]["name"].as_str(), v["data"]["parent_id"].as_i64()),
        (Some("moved"), Some(2101))
    );
    let r = t
        .put_form(
            &a,
            &format!("/v2/nodes/{id}"),
            &[("description", "d"), ("metadata_token", &token)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
}
