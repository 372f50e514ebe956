use std::sync::Arc;

use opentext_client::{BytesSource, CreateOptions, Provenance, VersionOptions};

use crate::common::*;

#[tokio::test]
async fn versions_list_get_add_download_and_idempotency_key() {
    let sim = Sim::start().await;
    let c = sim.svc();
    let v1 = b"version one".to_vec();
    let doc = c
        .create_document(
            FINANCE,
            &unique("ver"),
            Arc::new(BytesSource::new(v1.clone(), "a.txt")),
            &CreateOptions::default(),
        )
        .await
        .unwrap();

    let v2 = b"version two, longer".to_vec();
    let opts = VersionOptions {
        description: Some("second".into()),
        provenance: Provenance {
            external_source: Some("cloud_storage".into()),
            external_identity: Some("idem-key-2".into()),
            external_identity_type: Some("generic_userid".into()),
        },
        ..VersionOptions::default()
    };
    let added = c
        .add_version(
            doc.id,
            Arc::new(BytesSource::new(v2.clone(), "a.txt")),
            &opts,
        )
        .await
        .unwrap();
    assert_eq!(added.version_number, 2);

    let all = c.list_versions(doc.id).await.unwrap();
    assert_eq!(
        all.iter().map(|v| v.version_number).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(all[0].file_size, Some(v1.len() as i64));

    let got = c.get_version(doc.id, 2).await.unwrap();
    assert_eq!(got.description.as_deref(), Some("second"));
    assert_eq!(got.external_identity.as_deref(), Some("idem-key-2"));
    assert_eq!(got.file_size, Some(v2.len() as i64));
    assert!(
        got.create_date
            .as_ref()
            .and_then(|d| d.datetime())
            .is_some()
    );

    let latest = c.latest_version(doc.id).await.unwrap();
    assert_eq!(latest.version_number, 2);

    let found = c
        .find_version_by_external_identity(doc.id, "idem-key-2")
        .await
        .unwrap();
    assert_eq!(found.map(|v| v.version_number), Some(2));
    assert!(
        c.find_version_by_external_identity(doc.id, "other")
            .await
            .unwrap()
            .is_none()
    );

    let (_, h1) = hash_download(c.download_version(doc.id, 1).await.unwrap()).await;
    assert_eq!(h1, sha256_hex(&v1));
    let (_, h) = hash_download(c.download(doc.id).await.unwrap()).await;
    assert_eq!(h, sha256_hex(&v2), "node content is the latest version");

    let admin = sim.node(doc.id).await;
    assert_eq!(
        admin["versions"][1]["external_identity"].as_str(),
        Some("idem-key-2")
    );
    assert_eq!(
        admin["versions"][1]["sha256"].as_str(),
        Some(sha256_hex(&v2).as_str())
    );
}

#[tokio::test]
async fn purge_versions_keeps_the_newest_and_is_refused_under_hold() {
    let sim = Sim::start().await;
    let c = sim.svc();
    let doc = c
        .create_document(
            FINANCE,
            &unique("purge"),
            Arc::new(BytesSource::new(b"one".to_vec(), "p.txt")),
            &CreateOptions::default(),
        )
        .await
        .unwrap();
    for body in [&b"two"[..], b"three"] {
        c.add_version(
            doc.id,
            Arc::new(BytesSource::new(body.to_vec(), "p.txt")),
            &VersionOptions::default(),
        )
        .await
        .unwrap();
    }
    assert!(c.purge_versions(doc.id, 0).await.is_err());
    c.purge_versions(doc.id, 1).await.unwrap();
    let left = c.list_versions(doc.id).await.unwrap();
    assert_eq!(
        left.iter().map(|v| v.version_number).collect::<Vec<_>>(),
        [3]
    );
    c.purge_versions(doc.id, 1).await.unwrap();
    assert_eq!(c.list_versions(doc.id).await.unwrap().len(), 1);

    c.apply_hold(doc.id, 6100).await.unwrap();
    let err = c.purge_versions(doc.id, 1).await.unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert!(err.to_string().contains("hold"), "{err}");
}
