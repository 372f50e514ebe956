//! Drives the disposition and search operations for spec_conformance.rs.

use serde_json::Value;

use super::{Body, Call, Harness};

fn form(f: &[(&'static str, &str)]) -> Body {
    Body::Form(f.iter().map(|(k, v)| (*k, v.to_string())).collect())
}

/// Percent-encodes a qdate for a path segment.
fn seg(q: &str) -> String {
    q.replace(':', "%3A").replace('/', "%2F")
}

/// A record under `parent` due for disposition (FIN-7Y, record date 2010).
async fn due_record(h: &Harness, ticket: &str, parent: i64, name: &str) -> i64 {
    let c = Call {
        method: "post",
        spec_path: "",
        path: "/v2/nodes".into(),
        body: form(&[
            ("type", "0"),
            ("parent_id", &parent.to_string()),
            ("name", name),
        ]),
        ticket: Some(ticket.to_string()),
    };
    let v: Value = h.send(&c).await.json().await.unwrap();
    let id = v["results"]["data"]["properties"]["id"]
        .as_i64()
        .expect("node id");
    let c = Call {
        method: "post",
        spec_path: "",
        path: format!("/v1/nodes/{id}/rmclassifications"),
        body: form(&[("class_id", "4100"), ("record_date", "2010-01-01")]),
        ticket: Some(ticket.to_string()),
    };
    assert!(h.send(&c).await.status().is_success());
    id
}

pub async fn drive(h: &Harness, ticket: &str, parent: i64) {
    let t = Some(ticket.to_string());
    let call = |method, spec_path, path: String, body| Call {
        method,
        spec_path,
        path,
        body,
        ticket: t.clone(),
    };
    let rec = due_record(h, ticket, parent, "due-1").await;
    let rec2 = due_record(h, ticket, parent, "due-2").await;
    let v = h
        .check(call(
            "post",
            "/v1/nodes/{id}/startdispsearch",
            "/v1/nodes/7100/startdispsearch".into(),
            Body::None,
        ))
        .await;
    let q = v["results"]["data"]["qdate"]
        .as_str()
        .expect("qdate")
        .to_string();
    let qs = seg(&q);
    let d_form = format!("D/{}", q.replacen('T', ":", 1));
    let ids = format!("{rec}_1");
    let calls = vec![
        call(
            "get",
            "/v2/snapshottable/{id}",
            "/v2/snapshottable/7100?page=1&limit=5".into(),
            Body::None,
        ),
        call(
            "get",
            "/v2/nodes/{id}/disposition-snapshots/qdate/{qdate}",
            format!("/v2/nodes/7100/disposition-snapshots/qdate/{qs}"),
            Body::None,
        ),
        call(
            "get",
            "/v2/nodes/{id}/disposition-snapshots/qdate/{qdate}/reviewerid/{reviewerid}/reviewerstep/{reviewerstep}",
            format!(
                "/v2/nodes/7100/disposition-snapshots/qdate/{qs}/reviewerid/1000/reviewerstep/1"
            ),
            Body::None,
        ),
        call(
            "get",
            "/v1/disposition/{id}/qdate/{qdate}",
            format!("/v1/disposition/7100/qdate/{}", &q[..10]),
            Body::None,
        ),
        call(
            "post",
            "/v1/members/{id}/disposition/changeactions",
            "/v1/members/1000/disposition/changeactions".into(),
            form(&[
                ("objIdList", &ids),
                ("dispAction", "32"),
                ("dispNodeID", "7100"),
                ("qdate", &d_form),
            ]),
        ),
        call(
            "post",
            "/v1/members/{id}/disposition/changereviewdecision",
            "/v1/members/1000/disposition/changereviewdecision".into(),
            form(&[
                ("objIdList", &ids),
                ("applyTo", "thisPage"),
                ("decision", "approve"),
                ("dispNodeID", "7100"),
                ("qDate", &d_form),
                ("reviewComment", "ok"),
            ]),
        ),
        call(
            "post",
            "/v1/members/{id}/disposition/finishreview",
            "/v1/members/1000/disposition/finishreview".into(),
            form(&[
                ("dispNodeID", "7100"),
                ("qdate", &q.replacen('T', ":", 1).replace(':', "\\:")),
            ]),
        ),
        call(
            "post",
            "/v1/members/{id}/disposition/performactions",
            "/v1/members/1000/disposition/performactions".into(),
            form(&[
                ("objIdList", &format!("{ids} {rec2}_1")),
                ("applyto", "thisPage"),
                ("dispNodeID", "7100"),
                ("qdate", &d_form),
            ]),
        ),
        // Error forms the RM spec documents: unknown member, unknown search.
        call(
            "post",
            "/v1/members/{id}/disposition/performactions",
            "/v1/members/424242/disposition/performactions".into(),
            form(&[
                ("applyto", "allPages"),
                ("dispNodeID", "7100"),
                ("qdate", &q),
            ]),
        ),
        call(
            "get",
            "/v2/nodes/{id}/disposition-snapshots/qdate/{qdate}",
            format!("/v2/nodes/424242/disposition-snapshots/qdate/{qs}"),
            Body::None,
        ),
        call(
            "post",
            "/v1/nodes/{id}/startdispsearch",
            "/v1/nodes/424242/startdispsearch".into(),
            Body::None,
        ),
        call(
            "delete",
            "/v1/disposition/{id}/qdate/{qdate}",
            format!("/v1/disposition/7100/qdate/{qs}"),
            Body::None,
        ),
        call(
            "post",
            "/v2/search",
            "/v2/search".into(),
            form(&[
                (
                    "where",
                    &format!("OTParentID:{parent} AND OTName:\"due 2\""),
                ),
                ("limit", "5"),
                ("page", "1"),
                ("select", "{'OTName','OTObjectDate'}"),
            ]),
        ),
        call(
            "post",
            "/v2/search",
            "/v2/search".into(),
            form(&[("where", "OTName:a OR OTName:b")]),
        ),
    ];
    for c in calls {
        h.check(c).await;
    }
    let check = h
        .send(&call("get", "", format!("/v2/nodes/{rec}"), Body::None))
        .await;
    assert_eq!(
        check.status().as_u16(),
        400,
        "approved Destroy deleted {rec}"
    );
}
