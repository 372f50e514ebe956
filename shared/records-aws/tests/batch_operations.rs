//! Batch Operations adapters against moto 5.1.22: the batch items (written in chunks,
//! read back per version, others refused), the manifest object and its ETag, and what moto
//! does with S3 Control's CreateJob / DescribeJob (it has no job API: see the last test).

use aws_sdk_s3::primitives::ByteStream;
use records_aws::batch_operations::{
    BatchItem, BatchItems, BatchOpsError, JobSpec, create_job, delete_version, describe_job,
    manifest_csv, write_manifest,
};
use records_domain::ObjectVersion;

fn item(batch: &str, i: usize) -> BatchItem {
    BatchItem {
        batch_id: batch.into(),
        node_id: 10_000 + i as u64,
        version: ObjectVersion::new(
            "gov",
            &format!("legal/doc {i}+ü.pdf"),
            Some(&format!("v{i}")),
        ),
        sha256: i.is_multiple_of(2).then(|| "ab".repeat(32)),
        size: Some(i as u64 * 10),
    }
}

#[tokio::test]
async fn batch_items_are_written_in_chunks_and_read_back_per_version_and_batch() {
    let (_moto, ddb) = test_support::stack::moto_with_workflow_table("wf").await;
    let items = BatchItems::new(ddb.clone(), "wf");
    // 60 items: three BatchWriteItem calls (25 + 25 + 10).
    let all: Vec<BatchItem> = (0..60).map(|i| item("b-1", i)).collect();
    items.put_all(&all).await.expect("put");
    items.put_all(&all[..3]).await.expect("idempotent rerun");
    for it in [&all[0], &all[25], &all[59]] {
        assert_eq!(
            items.get("b-1", &it.version).await.unwrap().as_ref(),
            Some(it)
        );
    }
    // Another batch, or a version not in the batch: not approved for destruction.
    assert_eq!(items.get("b-2", &all[0].version).await.unwrap(), None);
    let other = ObjectVersion::new("gov", "legal/doc 0+ü.pdf", Some("v-other"));
    assert_eq!(items.get("b-1", &other).await.unwrap(), None);
    // The items carry the TTL and sit under the prefix the task's IAM policy names.
    let scan = ddb.scan().table_name("wf").send().await.unwrap();
    assert_eq!(scan.items().len(), 60);
    for it in scan.items() {
        assert!(it["pk"].as_s().unwrap().starts_with("dispbatch#b-1#"));
        assert!(it.contains_key("expires_at"));
    }
    let unversioned = BatchItem {
        version: ObjectVersion::new("gov", "k", None),
        ..item("b-1", 1)
    };
    assert!(matches!(
        items.put_all(&[unversioned]).await,
        Err(BatchOpsError::Invalid(_))
    ));
}

#[tokio::test]
async fn the_manifest_is_written_with_its_etag_and_a_version_is_deleted_not_marked() {
    let (_moto, sdk) = test_support::stack::moto().await;
    let s3 = local_stack::s3_client(&sdk);
    s3.create_bucket().bucket("audit").send().await.unwrap();
    s3.create_bucket().bucket("gov").send().await.unwrap();
    s3.put_bucket_versioning()
        .bucket("gov")
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let key = "legal/a b+c €.pdf";
    let vid = s3
        .put_object()
        .bucket("gov")
        .key(key)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap()
        .version_id
        .unwrap();
    let v = ObjectVersion::new("gov", key, Some(&vid));
    let csv = manifest_csv(std::slice::from_ref(&v)).unwrap();
    assert_eq!(csv, format!("gov,legal/a%20b%2Bc%20%E2%82%AC.pdf,{vid}\n"));
    let loc = write_manifest(&s3, "audit", "batch-ops/manifests/b-1.csv", &csv)
        .await
        .unwrap();
    let head = s3
        .head_object()
        .bucket("audit")
        .key(&loc.key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.e_tag().map(|e| e.trim_matches('"')),
        Some(loc.etag.as_str())
    );
    let body = s3
        .get_object()
        .bucket("audit")
        .key(&loc.key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        body.body.collect().await.unwrap().into_bytes().as_ref(),
        csv.as_bytes()
    );

    delete_version(&s3, &v).await.expect("delete");
    let versions = s3
        .list_object_versions()
        .bucket("gov")
        .send()
        .await
        .unwrap();
    assert!(versions.versions().is_empty(), "the version is gone");
    assert!(
        versions.delete_markers().is_empty(),
        "and no delete marker was added"
    );
    let again = delete_version(&s3, &v).await;
    // moto answers a delete of a version already gone with 204, as S3 does.
    assert!(again.is_ok(), "{again:?}");
}

fn spec() -> JobSpec {
    JobSpec {
        account_id: "123456789012".into(),
        batch_id: "b-1".into(),
        function_arn: "arn:aws:lambda:us-east-1:123456789012:function:rb-disposition-batch-task"
            .into(),
        manifest: records_aws::batch_operations::ManifestLocation {
            bucket: "audit".into(),
            key: "batch-ops/manifests/b-1.csv".into(),
            etag: "60e460c9d1046e73f7dde5043ac3ae85".into(),
            version_id: None,
        },
        report_bucket: "audit".into(),
        report_prefix: "batch-ops/reports".into(),
        role_arn: "arn:aws:iam::123456789012:role/rb-batch-ops".into(),
        priority: 10,
    }
}

/// What moto 5.1.22 does with S3 Control jobs (measured here):
/// - with only an endpoint URL the SDK's S3 Control rules prefix the host with the account
///   id (`123456789012.127.0.0.1:PORT`), which does not resolve: "dispatch failure";
/// - sent to moto's own host (the resolver below), `POST /v20180820/jobs` (CreateJob) and
///   `GET /v20180820/jobs/{id}` (DescribeJob) answer HTTP 404 with no S3 Control error body:
///   moto's S3 Control serves access points, public access blocks, Storage Lens,
///   multi-region access points and tags, and no Batch Operations job.
///
/// So the job itself is exercised on AWS only; this test pins moto's answer down so an
/// upgrade that adds the API shows up here.
#[tokio::test]
async fn moto_serves_no_batch_operations_jobs() {
    let (moto, sdk) = test_support::stack::moto().await;
    // With only an endpoint URL the SDK prefixes the host with the account id
    // (`123456789012.127.0.0.1`), which does not resolve ("dispatch failure"): send the
    // requests to moto's own host instead, as S3 Control's rules would for a real host.
    let control = aws_sdk_s3control::Client::from_conf(
        aws_sdk_s3control::config::Builder::from(&sdk)
            .endpoint_resolver(records_aws::config::VerbatimEndpoint(
                moto.endpoint().to_string(),
            ))
            .build(),
    );
    let created = create_job(&control, &spec()).await;
    eprintln!("CreateJob against moto: {created:?}");
    let err = created.expect_err("moto has no CreateJob");
    assert!(
        matches!(&err, BatchOpsError::Control { op: "CreateJob", message, retryable: false, .. } if message.starts_with("HTTP 404")),
        "{err:?}"
    );
    let described = describe_job(&control, "123456789012", "j-1").await;
    eprintln!("DescribeJob against moto: {described:?}");
    assert!(
        matches!(&described, Err(BatchOpsError::Control { op: "DescribeJob", message, .. }) if message.starts_with("HTTP 404")),
        "{described:?}"
    );
}
