//! `POST /api/v2/search` against the simulator.

use std::sync::Arc;

use opentext_client::{BytesSource, CreateOptions, Error};
use serde_json::{Map, json};

use crate::common::*;

#[tokio::test]
async fn search_follows_pages_and_filters_by_parent_type_name_and_attribute() {
    let sim = Sim::start().await;
    let c = sim.svc();
    let folder = c
        .create_folder(FINANCE, &unique("search"), &CreateOptions::default())
        .await
        .unwrap()
        .id;
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut opts = CreateOptions::default();
        let mut cats = Map::new();
        cats.insert(
            "3100_2".into(),
            json!(if i == 3 { "bucket-b" } else { "bucket-a" }),
        );
        opts.categories = cats;
        let name = format!("Invoice {i} Q1 Report.pdf");
        let n = c
            .create_document(
                folder,
                &name,
                Arc::new(BytesSource::new(&b"x"[..], "x.pdf")),
                &opts,
            )
            .await
            .unwrap();
        ids.push(n.id);
    }
    let hits = c
        .search(&format!("OTParentID:{folder} AND OTSubType:144"), 2)
        .await
        .unwrap();
    assert_eq!(
        hits.iter().map(|h| h.id).collect::<Vec<_>>(),
        ids,
        "5 hits over 3 pages"
    );
    assert_eq!(hits[0].name, "Invoice 0 Q1 Report.pdf");
    assert_eq!(sim.count("POST", "/api/v2/search").await, 3);

    let b = c
        .search(
            &format!("OTParentID:{folder} AND Attr_3100_2:\"BUCKET-B\""),
            10,
        )
        .await
        .unwrap();
    assert_eq!(b.iter().map(|h| h.id).collect::<Vec<_>>(), vec![ids[3]]);
    let named = c
        .search(&format!("OTParentID:{folder} AND OTName:\"invoice 4\""), 10)
        .await
        .unwrap();
    assert_eq!(named.len(), 1);
    assert!(
        c.search("OTName:nothing-like-this", 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn unsupported_lql_is_a_clear_400() {
    let sim = Sim::start().await;
    let c = sim.svc();
    let err = c.search("OTName:a OR OTName:b", 10).await.unwrap_err();
    assert_eq!(err.status(), Some(400), "{err:?}");
    assert!(
        matches!(err, Error::Api { .. } | Error::NotFound { .. }),
        "{err:?}"
    );
    assert!(
        err.message()
            .is_some_and(|m| m.contains("Error Evaluating Query")),
        "{err}"
    );
}
