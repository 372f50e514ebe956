use std::sync::Arc;

use opentext_client::{
    BytesSource, ContentSource, CreateOptions, Error, FileSource, ListOptions, NodeUpdate,
    Provenance, ReaderSource,
};
use serde_json::{Map, json};

use crate::common::*;

fn provenance(key: &str) -> Provenance {
    Provenance {
        external_source: Some("cloud_storage".into()),
        external_identity: Some(key.into()),
        external_identity_type: Some("generic_userid".into()),
    }
}

#[tokio::test]
async fn create_get_update_delete_document_with_provenance_and_categories() {
    let sim = Sim::start().await;
    let c = sim.svc();
    let folder = c
        .create_folder(FINANCE, &unique("batch"), &CreateOptions::default())
        .await
        .unwrap();
    assert_eq!(folder.parent_id, Some(FINANCE));
    assert!(folder.container);

    let body = b"invoice 42".to_vec();
    let mut cats = Map::new();
    cats.insert(format!("{CAT_S3}_2"), json!("bucket-a"));
    cats.insert(format!("{CAT_S3}_3"), json!("inv/42.pdf"));
    cats.insert(format!("{CAT_S3}_6"), json!(10));
    let opts = CreateOptions {
        description: Some("from S3".into()),
        provenance: provenance("s3://bucket-a/inv/42.pdf?versionId=v1"),
        categories: cats,
        ..CreateOptions::default()
    };
    let src = Arc::new(BytesSource::new(body.clone(), "42.pdf"));
    let doc = c
        .create_document(folder.id, "42.pdf", src, &opts)
        .await
        .unwrap();
    assert!(doc.id >= 10000);
    assert!(doc.is_document());

    let got = c.get_node(doc.id).await.unwrap();
    assert_eq!(got.name, "42.pdf");
    assert_eq!(got.description.as_deref(), Some("from S3"));
    assert_eq!(got.external_source.as_deref(), Some("cloud_storage"));
    assert_eq!(
        got.external_identity.as_deref(),
        Some("s3://bucket-a/inv/42.pdf?versionId=v1")
    );
    assert_eq!(got.mime_type.as_deref(), Some("application/pdf"));
    assert!(
        got.create_date
            .as_ref()
            .and_then(|d| d.datetime())
            .is_some()
    );

    let admin = sim.node(doc.id).await;
    assert_eq!(
        admin["versions"][0]["sha256"].as_str(),
        Some(sha256_hex(&body).as_str())
    );

    // Categories read back with names.
    let cat = c
        .get_category(doc.id, CAT_S3)
        .await
        .unwrap()
        .expect("category applied");
    assert_eq!(cat.name.as_deref(), Some("S3 Provenance"));
    assert_eq!(cat.text(2).as_deref(), Some("bucket-a"));
    assert_eq!(cat.value_by_name("Key"), Some(&json!("inv/42.pdf")));

    // Update attribute values.
    let mut upd = Map::new();
    upd.insert(format!("{CAT_S3}_7"), json!(sha256_hex(&body)));
    c.update_category(doc.id, CAT_S3, &upd).await.unwrap();
    let cat = c.get_category(doc.id, CAT_S3).await.unwrap().unwrap();
    assert_eq!(cat.text(7), Some(sha256_hex(&body)));

    // Download streams the same bytes back.
    let (n, hash) = hash_download(c.download(doc.id).await.unwrap()).await;
    assert_eq!((n, hash), (body.len() as u64, sha256_hex(&body)));

    let renamed = c
        .update_node(
            doc.id,
            &NodeUpdate {
                name: Some("42-renamed.pdf".into()),
                description: Some("renamed".into()),
                ..NodeUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "42-renamed.pdf");
    assert_eq!(renamed.description.as_deref(), Some("renamed"));

    c.delete_node(doc.id).await.unwrap();
    let err = c.get_node(doc.id).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test]
async fn apply_and_remove_category_after_create() {
    let sim = Sim::start().await;
    let c = sim.svc();
    let src = Arc::new(BytesSource::new(&b"x"[..], "plain.txt"));
    let doc = c
        .create_document(FINANCE, &unique("plain"), src, &CreateOptions::default())
        .await
        .unwrap();
    assert!(c.get_category(doc.id, CAT_S3).await.unwrap().is_none());
    let mut vals = Map::new();
    vals.insert(format!("{CAT_S3}_2"), json!("b"));
    c.apply_category(doc.id, CAT_S3, &vals).await.unwrap();
    let cats = c.get_categories(doc.id).await.unwrap();
    assert_eq!(cats.len(), 1);
    assert_eq!(cats[0].text(2).as_deref(), Some("b"));
    c.remove_category(doc.id, CAT_S3).await.unwrap();
    assert!(c.get_categories(doc.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn list_children_pages_and_find_by_exact_name() {
    let sim = Sim::start().await;
    let c = sim.svc();
    let folder = c
        .create_folder(FINANCE, &unique("paging"), &CreateOptions::default())
        .await
        .unwrap();
    // "inv-1" is a substring of every other name: where_name alone is not enough.
    let names = ["inv-10", "inv-11", "inv-1x", "inv-12", "inv-13", "inv-1"];
    for n in names {
        c.create_folder(folder.id, n, &CreateOptions::default())
            .await
            .unwrap();
    }
    let opts = ListOptions {
        limit: 2,
        ..ListOptions::default()
    };
    let first = c.list_children(folder.id, &opts).await.unwrap();
    assert_eq!(first.items.len(), 2);
    assert_eq!(first.paging.total_count, Some(6));
    assert!(first.has_more(2));
    let all = c.list_all_children(folder.id, &opts).await.unwrap();
    let mut got: Vec<_> = all.iter().map(|n| n.name.clone()).collect();
    got.sort();
    let mut want: Vec<_> = names.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(got, want);

    let filtered = c
        .list_children(
            folder.id,
            &ListOptions {
                where_name: Some("inv-1".into()),
                limit: 100,
                ..ListOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(filtered.items.len(), 6, "where_name is a contains filter");

    let found = c
        .find_child_by_name(folder.id, "inv-1")
        .await
        .unwrap()
        .expect("found");
    assert_eq!(found.name, "inv-1");
    assert!(
        c.find_child_by_name(folder.id, "inv-")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        c.find_child_by_name(folder.id, "nope")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn duplicate_name_and_missing_node_errors() {
    let sim = Sim::start().await;
    let c = sim.svc();
    let name = unique("dup");
    c.create_folder(FINANCE, &name, &CreateOptions::default())
        .await
        .unwrap();
    let err = c
        .create_document(
            FINANCE,
            &name,
            Arc::new(BytesSource::new(&b"1"[..], "a.txt")),
            &CreateOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::NameExists { status: 500, .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert!(err.message().unwrap().contains("already exists"));

    let err = c.get_node(987_654).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let err = c
        .list_children(987_654, &ListOptions::default())
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    let err = c.download(987_654).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

/// Content Server compares names with case folded, in every script: a name differing only in
/// case is "already exists" (500), and a lookup by name finds the item the server means.
#[tokio::test]
async fn names_differing_only_in_case_clash_and_are_found_as_the_server_compares() {
    let sim = Sim::start().await;
    let c = sim.svc();
    let tag = unique("case");
    for (first, second) in [
        (format!("plain {tag}.pdf"), format!("PLAIN {tag}.PDF")),
        (
            format!("Verträge Ü {tag}.pdf"),
            format!("verträge ü {tag}.pdf"),
        ),
    ] {
        let doc = c
            .create_document(
                FINANCE,
                &first,
                Arc::new(BytesSource::new(&b"1"[..], "a.txt")),
                &CreateOptions::default(),
            )
            .await
            .unwrap();
        let err = c
            .create_document(
                FINANCE,
                &second,
                Arc::new(BytesSource::new(&b"2"[..], "b.txt")),
                &CreateOptions::default(),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::NameExists { status: 500, .. }),
            "{second}: {err:?}"
        );
        let found = c.find_child_by_name(FINANCE, &second).await.unwrap();
        assert_eq!(found.map(|n| n.id), Some(doc.id), "{second} finds {first}");
    }
}

#[tokio::test]
async fn file_and_one_shot_reader_sources() {
    let sim = Sim::start().await;
    let c = sim.svc();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.csv");
    let data: Vec<u8> = (0..100_000u32).flat_map(|i| i.to_le_bytes()).collect();
    std::fs::write(&path, &data).unwrap();
    let src = Arc::new(FileSource::new(&path).await.unwrap());
    let doc = c
        .create_document(FINANCE, &unique("file"), src, &CreateOptions::default())
        .await
        .unwrap();
    assert_eq!(
        sim.node(doc.id).await["versions"][0]["sha256"].as_str(),
        Some(sha256_hex(&data).as_str())
    );
    assert_eq!(
        c.get_node(doc.id).await.unwrap().mime_type.as_deref(),
        Some("text/csv")
    );

    let reader = std::io::Cursor::new(data.clone());
    let src = Arc::new(ReaderSource::new(reader, data.len() as u64, "stream.bin"));
    let doc = c
        .create_document(
            FINANCE,
            &unique("reader"),
            src.clone(),
            &CreateOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        sim.node(doc.id).await["versions"][0]["sha256"].as_str(),
        Some(sha256_hex(&data).as_str())
    );
    assert!(!src.can_reopen(), "one-shot reader is spent");
}

#[tokio::test]
async fn multipart_settings_are_read() {
    let sim = Sim::start().await;
    let s = sim.svc().multipart_settings().await.unwrap();
    assert!(s.is_enabled);
    assert_eq!(s.min_size, Some(5 * 1024 * 1024));
}
