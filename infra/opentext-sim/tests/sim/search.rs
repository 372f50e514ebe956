//! `POST /api/v2/search`: the LQL subset, paging, permissions, the 400 for the rest.

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::*;

fn ids(v: &Value) -> Vec<i64> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["data"]["properties"]["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn lql_clauses_paging_and_shape() {
    let t = start().await;
    let a = t.admin_ticket().await;
    let f = t.create_folder(&a, 2101, "Search here").await;
    let mut docs = Vec::new();
    for name in ["Q1 Report.pdf", "q1 report final.pdf", "Budget.xlsx"] {
        let (_, v) = json(t.create_doc(&a, f, name, b"x").await).await;
        docs.push(node_id(&v));
    }
    let cat = [
        ("category_id", "3100"),
        ("3100_2", "bucket-a"),
        ("3100_6", "12"),
    ];
    let r = t
        .post_form(&a, &format!("/v2/nodes/{}/categories", docs[2]), &cat)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let search = |q: String, extra: Vec<(&'static str, String)>| {
        let mut form = vec![("where", q)];
        form.extend(extra);
        let (t, a) = (&t, &a);
        async move {
            let r = t
                .http
                .post(t.api("/v2/search"))
                .header("OTCSTicket", a)
                .form(&form)
                .send()
                .await
                .unwrap();
            json(r).await
        }
    };
    let (s, v) = search(
        format!("OTParentID:{f} AND OTSubType:144"),
        vec![("limit", "2".into()), ("page", "2".into())],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(ids(&v), vec![docs[2]]);
    let paging = &v["collection"]["paging"];
    assert_eq!(
        (
            paging["total_count"].as_i64(),
            paging["page_total"].as_i64(),
            paging["range_min"].as_i64()
        ),
        (Some(3), Some(2), Some(3))
    );
    assert!(v["collection"]["searching"]["cache_id"].is_i64());
    assert_eq!(
        v["results"][0]["search_result_metadata"]["object_id"],
        format!("DataId={}&Version=1", docs[2])
    );
    let (_, v) = search(
        format!("OTParentID:{f} and OTName:\"Q1 REPORT\""),
        vec![("sort", "desc_OTName".into())],
    )
    .await;
    assert_eq!(
        ids(&v),
        vec![docs[0], docs[1]],
        "\"q1 report.pdf\" sorts after \"q1 report final.pdf\""
    );
    let (_, v) = search(
        "Attr_3100_2:BUCKET-A AND Attr_3100_6:12".into(),
        vec![("select", "{'OTName'}".into())],
    )
    .await;
    assert_eq!(ids(&v), vec![docs[2]]);
    assert_eq!(v["results"][0]["data"]["regions"]["OTName"], "Budget.xlsx");
    assert!(
        v["results"][0]["data"]["regions"]
            .get("OTObjectDate")
            .is_none()
    );
    let (_, v) = search(
        format!("OTParentID:{f} AND OTObjectDate:>=20000101"),
        vec![],
    )
    .await;
    assert_eq!(ids(&v).len(), 3);
    // Users see only what they may see: the outsider has no rights under Finance.
    let o = t.login("outsider", "outsider-pass").await;
    let r = t
        .http
        .post(t.api("/v2/search"))
        .header("OTCSTicket", &o)
        .form(&[("where", format!("OTParentID:{f}"))])
        .send()
        .await
        .unwrap();
    let (_, v) = json(r).await;
    assert_eq!(ids(&v), Vec::<i64>::new());
}

#[tokio::test]
async fn unsupported_lql_answers_400_in_content_servers_shape() {
    let t = start().await;
    let a = t.admin_ticket().await;
    for q in ["OTName:a OR OTName:b", "report", "OTFileSize:12", ""] {
        let (s, v) = json(t.post_form(&a, "/v2/search", &[("where", q)]).await).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}");
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .starts_with("Error Evaluating Query"),
            "{q}: {v}"
        );
    }
}
