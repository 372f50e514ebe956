//! P7's publication adapters against moto 5.1.22: the publication bucket (streamed put with
//! SHA-256, head, withdrawal of every version and delete marker of exactly one key) and the
//! CloudFront invalidations of a distribution created in moto.

use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::BoxError;
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use bytes::Bytes;
use futures_util::stream;
use local_stack::moto::Moto;
use records_aws::cdn::{CdnError, Invalidations};
use records_aws::publication_bucket::{NewPublication, PublicationBucket};
use records_aws::s3_objects::S3Error;
use test_support::hashing::{sha256_b64, sha256_hex};

const BUCKET: &str = "publication";

/// moto with a versioned publication bucket; `page` makes ListObjectVersions answer two
/// entries a page (S3 pages by 1,000), so paging is exercised with a handful of versions.
async fn bucket(page: bool) -> (Moto, aws_sdk_s3::Client, PublicationBucket) {
    let (moto, sdk) = test_support::stack::moto().await;
    let client = local_stack::s3_client(&sdk);
    client.create_bucket().bucket(BUCKET).send().await.unwrap();
    client
        .put_bucket_versioning()
        .bucket(BUCKET)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let adapter_client = if page {
        let conf = client.config().to_builder().interceptor(TwoPerPage).build();
        aws_sdk_s3::Client::from_conf(conf)
    } else {
        client.clone()
    };
    (moto, client, PublicationBucket::new(adapter_client, BUCKET))
}

#[derive(Debug)]
struct TwoPerPage;

impl Intercept for TwoPerPage {
    fn name(&self) -> &'static str {
        "TwoPerPage"
    }

    fn modify_before_signing(
        &self,
        ctx: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let req = ctx.request_mut();
        if req.uri().contains("?versions") {
            let uri = format!("{}&max-keys=2", req.uri());
            req.set_uri(uri)?;
        }
        Ok(())
    }
}

/// `data` as a stream of chunks of at most `chunk` bytes.
fn chunks(
    data: &[u8],
    chunk: usize,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + use<> {
    let parts: Vec<_> = data
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    stream::iter(parts)
}

fn publication<'a>(key: &'a str, data: &[u8], sha256: &'a str) -> NewPublication<'a> {
    NewPublication {
        key,
        size: data.len() as u64,
        sha256,
        content_type: "application/pdf",
        cache_control: None,
        content_disposition: None,
        metadata: &[],
    }
}

async fn put(bucket: &PublicationBucket, key: &str, data: &[u8]) -> String {
    let sha = sha256_hex(data);
    bucket
        .put(&publication(key, data, &sha), chunks(data, 7))
        .await
        .expect("put")
        .expect("a versioned bucket gives a version id")
}

#[tokio::test]
async fn put_streams_the_body_and_head_gives_back_what_was_published() {
    let (_moto, s3, bucket) = bucket(false).await;
    let key = "policies/Travel policy 2026.pdf";
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let sha = sha256_hex(&data);
    let metadata = [("record-id", "41234".to_string()), ("edition", "3".into())];
    let p = NewPublication {
        cache_control: Some("public, max-age=300"),
        content_disposition: Some("inline; filename=\"Travel policy 2026.pdf\""),
        metadata: &metadata,
        ..publication(key, &data, &sha)
    };
    let version = bucket.put(&p, chunks(&data, 65_536)).await.unwrap();
    assert!(version.is_some());

    let got = bucket.head(key, None).await.unwrap().expect("published");
    assert_eq!(got.key, key);
    assert_eq!(got.version_id, version);
    assert_eq!(got.size, data.len() as u64);
    assert_eq!(got.sha256_b64.as_deref(), Some(sha256_b64(&data).as_str()));
    assert_eq!(got.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(got.cache_control.as_deref(), Some("public, max-age=300"));
    assert_eq!(
        got.metadata.into_iter().collect::<Vec<_>>(),
        [
            ("edition".into(), "3".into()),
            ("record-id".into(), "41234".into())
        ]
    );
    // PublishedObject has no disposition; S3 keeps the one sent.
    let raw = s3.head_object().bucket(BUCKET).key(key).send().await;
    assert_eq!(raw.unwrap().content_disposition(), p.content_disposition);
    let body = s3.get_object().bucket(BUCKET).key(key).send().await;
    let body = body.unwrap().body.collect().await.unwrap().into_bytes();
    assert_eq!(body, data);

    // That version by id; a key never published is none.
    let by_id = bucket.head(key, version.as_deref()).await.unwrap();
    assert_eq!(by_id.map(|o| o.size), Some(data.len() as u64));
    assert_eq!(bucket.head("policies/none.pdf", None).await.unwrap(), None);
}

#[tokio::test]
async fn the_callers_sha256_is_sent_and_a_short_body_is_refused() {
    let (_moto, _s3, bucket) = bucket(false).await;
    // Real S3 answers BadDigest (S3Error::Rejected) to a body whose SHA-256 is not the
    // x-amz-checksum-sha256 sent. moto 5.1.22 checks nothing: it stores the body and reports
    // the digest it was sent. That it reports the *claimed* digest (not the body's) shows
    // the header carries the caller's digest rather than one the SDK computed.
    let claimed = sha256_hex(b"the approved text");
    let tampered = b"a tampered text!!";
    let p = publication("p/tampered.pdf", tampered, &claimed);
    let put_tampered = bucket.put(&p, chunks(tampered, 4)).await;
    put_tampered.expect("moto accepts it");
    let got = bucket.head("p/tampered.pdf", None).await.unwrap().unwrap();
    assert_eq!(got.sha256_b64, Some(sha256_b64(b"the approved text")));
    assert_ne!(got.sha256_b64, Some(sha256_b64(tampered)));

    // A body that ends before the size given never becomes an object: the request declares
    // that length, and the client does not send less.
    let data = b"0123456789";
    let sha = sha256_hex(data);
    let p = NewPublication {
        size: 20,
        ..publication("p/short.pdf", data, &sha)
    };
    let err = bucket
        .put(&p, chunks(data, 4))
        .await
        .expect_err("short body");
    assert!(matches!(err, S3Error::Transport { .. }), "{err:?}");
    assert_eq!(bucket.head("p/short.pdf", None).await.unwrap(), None);
}

#[tokio::test]
async fn odd_keys_are_published_and_withdrawn_exactly() {
    let (_moto, s3, bucket) = bucket(false).await;
    // S3's longest key, 1,024 bytes of UTF-8 with spaces and two-byte characters.
    let mut long = String::from("long/");
    while long.len() + 3 <= 1_020 {
        long.push_str("é ");
    }
    while long.len() < 1_020 {
        long.push('x');
    }
    long.push_str(".pdf");
    assert_eq!(long.len(), 1_024);
    let keys = [
        "odd/a b.pdf",
        "odd/a+b.pdf",
        "odd/a%2Bb.pdf",
        "odd/Überprüfung 審査 ✓.pdf",
        long.as_str(),
    ];
    for key in keys {
        put(&bucket, key, key.as_bytes()).await;
    }
    // Each key is its own object: no decoding merged `+`, `%2B` and the space.
    for key in keys {
        let got = bucket.head(key, None).await.unwrap().expect(key);
        assert_eq!(got.size, key.len() as u64, "{key}");
        assert_eq!(got.sha256_b64, Some(sha256_b64(key.as_bytes())), "{key}");
    }
    for key in [keys[1], keys[4]] {
        assert_eq!(bucket.remove_all(key).await.unwrap().len(), 1, "{key}");
        assert_eq!(bucket.head(key, None).await.unwrap(), None, "{key}");
    }
    let listed = s3.list_object_versions().bucket(BUCKET).send().await;
    let listed = listed.unwrap();
    let mut left: Vec<_> = listed.versions().iter().filter_map(|v| v.key()).collect();
    left.sort();
    assert_eq!(
        left,
        ["odd/a b.pdf", "odd/a%2Bb.pdf", "odd/Überprüfung 審査 ✓.pdf"]
    );
}

#[tokio::test]
async fn remove_all_withdraws_every_version_and_marker_of_exactly_the_key() {
    let (_moto, s3, bucket) = bucket(true).await;
    let key = "a/x.pdf";
    let v1 = put(&bucket, key, b"edition 1").await;
    let v2 = put(&bucket, key, b"edition 2").await;
    assert_ne!(v1, v2, "a second put is a second version");
    assert_eq!(
        bucket.head(key, None).await.unwrap().unwrap().version_id,
        Some(v2.clone())
    );
    assert!(bucket.head(key, Some(&v1)).await.unwrap().is_some());
    let marker = s3.delete_object().bucket(BUCKET).key(key).send().await;
    let marker = marker.unwrap().version_id.expect("a delete marker");
    // A delete marker is none, as the latest (404) and by its id (405).
    assert_eq!(bucket.head(key, None).await.unwrap(), None);
    assert_eq!(bucket.head(key, Some(&marker)).await.unwrap(), None);
    let v3 = put(&bucket, key, b"edition 3").await;
    let sibling = put(&bucket, "a/x.pdf.old", b"older").await;

    // Versions oldest first (the current one last), then the marker: across pages of two.
    let removed = bucket.remove_all(key).await.unwrap();
    assert_eq!(removed, [v1.clone(), v2, v3, marker]);

    let listed = s3.list_object_versions().bucket(BUCKET).prefix(key).send();
    let listed = listed.await.unwrap();
    let versions: Vec<_> = listed
        .versions()
        .iter()
        .map(|v| (v.key().unwrap(), v.version_id().unwrap()))
        .collect();
    assert_eq!(versions, [("a/x.pdf.old", sibling.as_str())]);
    assert!(listed.delete_markers().is_empty());
    let get = s3.get_object().bucket(BUCKET).key(key).send().await;
    let err = get.expect_err("nothing readable");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));
    assert!(bucket.head("a/x.pdf.old", None).await.unwrap().is_some());

    assert_eq!(bucket.remove_all(key).await.unwrap(), Vec::<String>::new());
    bucket.remove_version(key, &v1).await.expect("already gone");
    bucket
        .remove_version("a/x.pdf.old", &sibling)
        .await
        .unwrap();
    assert_eq!(bucket.head("a/x.pdf.old", None).await.unwrap(), None);
}

async fn distribution(cf: &aws_sdk_cloudfront::Client) -> String {
    use aws_sdk_cloudfront::types::{
        DefaultCacheBehavior, DistributionConfig, Origin, Origins, S3OriginConfig,
        ViewerProtocolPolicy,
    };
    let origin = Origin::builder()
        .id("publication")
        .domain_name("publication.s3.us-east-1.amazonaws.com")
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        .build()
        .unwrap();
    let config = DistributionConfig::builder()
        .caller_reference("publication-distribution")
        .origins(
            Origins::builder()
                .quantity(1)
                .items(origin)
                .build()
                .unwrap(),
        )
        .default_cache_behavior(
            DefaultCacheBehavior::builder()
                .target_origin_id("publication")
                .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
                // AWS's managed CachingOptimized policy.
                .cache_policy_id("658327ea-f89d-4fab-a63d-7e88639e58f6")
                .build()
                .unwrap(),
        )
        .comment("P7 publication")
        .enabled(true)
        .build()
        .unwrap();
    // moto 5.1.22 creates the distribution but answers under a <CreateDistributionResult>
    // root, which aws-sdk-cloudfront cannot decode (it expects <Distribution>); the answer's
    // Location names the new distribution (as local-stack's template deployment reads it).
    let err = cf
        .create_distribution()
        .distribution_config(config)
        .send()
        .await
        .expect_err("moto's CreateDistribution answer does not decode");
    let raw = err.raw_response().expect("an answer");
    assert_eq!(raw.status().as_u16(), 200);
    assert!(
        format!("{err:?}").contains("CreateDistributionResult"),
        "{err:?}"
    );
    let location = raw.headers().get("location").expect("Location");
    let (_, id) = location
        .rsplit_once("/distribution/")
        .expect("a distribution URL");
    // (GetDistribution's answer does not decode either: moto writes `<Enabled>False`.) That
    // the distribution exists shows below: its invalidations are made, another id's are not.
    id.to_string()
}

#[tokio::test]
async fn invalidations_of_a_moto_distribution() {
    let (_moto, sdk) = test_support::stack::moto().await;
    let cf = records_aws::config::cloudfront_client(&sdk);
    let cdn = Invalidations::new(cf.clone(), distribution(&cf).await);
    assert_eq!(
        cdn.invalidated_paths().await.unwrap(),
        Vec::<Vec<String>>::new()
    );

    let paths = vec![
        "/policies/Travel%20policy%202026.pdf".to_string(),
        "/policies/a%2Bb.pdf".to_string(),
    ];
    let first = cdn.invalidate(&paths, "effect-1").await.unwrap();
    assert!(!first.is_empty());
    let single = vec!["/policies/index.html".to_string()];
    let second = cdn.invalidate(&single, "effect-2").await.unwrap();
    assert_ne!(first, second);
    // CloudFront lists newest first; moto lists in creation order. Each invalidation's paths
    // are read back as sent (a single path too).
    assert_eq!(
        cdn.invalidated_paths().await.unwrap(),
        [paths.clone(), single.clone()]
    );

    // CloudFront answers a repeated reference with the same paths by the existing
    // invalidation; moto does not: it makes another one under a new id.
    let again = cdn.invalidate(&paths, "effect-1").await.unwrap();
    assert_ne!(
        again, first,
        "moto 5.1.22 does not deduplicate caller references"
    );
    assert_eq!(cdn.invalidated_paths().await.unwrap().len(), 3);

    // No paths: refused before any call (a call on this id would be NoSuchDistribution).
    let nowhere = Invalidations::new(cf.clone(), "ENOSUCHDIST");
    let err = nowhere
        .invalidate(&[], "effect-3")
        .await
        .expect_err("empty");
    assert!(matches!(err, CdnError::NoPaths), "{err:?}");
    let err = nowhere
        .invalidate(&single, "effect-3")
        .await
        .expect_err("no dist");
    assert!(
        matches!(&err, CdnError::NoSuchDistribution { distribution_id } if distribution_id == "ENOSUCHDIST"),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert_eq!(cdn.invalidated_paths().await.unwrap().len(), 3);
}

#[tokio::test]
async fn the_cloudfront_client_is_us_east_1_without_a_region_and_unreachable_is_retryable() {
    let sdk = |region: Option<&'static str>| {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(region.map(aws_config::Region::from_static))
            .endpoint_url("http://127.0.0.1:1") // nothing listens there
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build()
    };
    let region = |cf: &aws_sdk_cloudfront::Client| cf.config().region().map(|r| r.to_string());
    let cf = records_aws::config::cloudfront_client(&sdk(Some("eu-west-1")));
    assert_eq!(region(&cf).as_deref(), Some("eu-west-1"));
    let cf = records_aws::config::cloudfront_client(&sdk(None));
    assert_eq!(region(&cf).as_deref(), Some("us-east-1"));

    // An endpoint that does not answer: transport trouble, worth another try.
    let err = Invalidations::new(cf, "E1")
        .invalidate(&["/x".to_string()], "effect-4")
        .await
        .expect_err("unreachable");
    assert!(matches!(err, CdnError::Transport { .. }), "{err:?}");
    assert!(err.is_retryable());
}
