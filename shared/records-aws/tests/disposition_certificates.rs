//! P4 disposition certificates against moto: KMS signing (and what moto 5.1.22 gets wrong)
//! and the write-once store in an Object Lock bucket.

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, KeyUsageType, MessageType, SigningAlgorithmSpec};
use aws_sdk_s3::types::{
    DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockRetentionMode,
    ObjectLockRule,
};
use base64::Engine;
use local_stack::moto::Moto;
use records_aws::certificate_signer::{CertificateSigner, fetch_public_key};
use records_aws::certificate_store::{CertificateStore, Encryption, StoreError, StoreOutcome};
use records_domain::disposition::{
    Approval, ApprovalSource, CERTIFICATE_SCHEMA, CanonicalCertificate, CertificateVersion,
    CertifiedRecord, DispositionCertificate, SignedCertificate, SigningAlgorithm, VersionDisposal,
};
use time::macros::datetime;

fn certificate(id: &str) -> DispositionCertificate {
    DispositionCertificate {
        schema_version: CERTIFICATE_SCHEMA,
        certificate_id: id.into(),
        dry_run: false,
        generated_at: datetime!(2031-06-01 12:00 UTC),
        approval: Approval {
            source: ApprovalSource::Callback,
            disposition_search_id: 52001,
            qdate: "2031-05-31".into(),
            reviewer: "rm.lead".into(),
            decided_at: datetime!(2031-06-01 09:30 UTC),
        },
        policy_rule: "claims-settled".into(),
        records: vec![CertifiedRecord {
            node_id: 4711,
            name: "c-17.pdf".into(),
            classification: Some("FIN-CLAIMS".into()),
            rsi: Some("CLAIMS-7Y".into()),
            disposition_date: Some(datetime!(2031-05-01 00:00 UTC)),
            versions: vec![CertificateVersion {
                bucket: "records".into(),
                key: "claims/c-17.pdf".into(),
                version_id: "v1".into(),
                sha256: Some("ab".repeat(32)),
                size: 5,
                disposal: VersionDisposal::Deleted {
                    at: datetime!(2031-06-01 11:59 UTC),
                },
            }],
        }],
        refused: vec![],
    }
}

async fn kms_key(kms: &aws_sdk_kms::Client, spec: KeySpec) -> String {
    kms.create_key()
        .key_usage(KeyUsageType::SignVerify)
        .key_spec(spec)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string()
}

async fn kms() -> (Moto, aws_sdk_kms::Client) {
    let (moto, sdk) = test_support::stack::moto().await;
    (moto, aws_sdk_kms::Client::new(&sdk))
}

/// KMS's own Verify of an envelope's signature over its digest.
async fn kms_says_valid(kms: &aws_sdk_kms::Client, key: &str, env: &SignedCertificate) -> bool {
    let digest = hex::decode(&env.sha256).unwrap();
    let signature = base64::engine::general_purpose::STANDARD
        .decode(&env.signature)
        .unwrap();
    let algorithm = SigningAlgorithmSpec::from(env.signing_algorithm.as_str());
    kms.verify()
        .key_id(key)
        .message(Blob::new(digest))
        .message_type(MessageType::Raw)
        .signature(Blob::new(signature))
        .signing_algorithm(algorithm)
        .send()
        .await
        .unwrap()
        .signature_valid()
}

#[tokio::test]
async fn an_ecc_p256_key_signs_the_certificate_digest() {
    let (_moto, kms) = kms().await;
    let key = kms_key(&kms, KeySpec::EccNistP256).await;
    let signer = CertificateSigner::new(kms.clone(), &key);
    let public = signer.public_key().await.unwrap().clone();
    assert_eq!(public.algorithm, SigningAlgorithm::EcdsaSha256);
    assert!(public.key_id.contains(&key), "{}", public.key_id);

    let canonical = CanonicalCertificate::of(&certificate("disp-1")).unwrap();
    let envelope = signer.sign(&canonical).await.unwrap();
    assert_eq!(envelope.sha256, canonical.sha256_hex());
    assert_eq!(envelope.signing_algorithm, SigningAlgorithm::EcdsaSha256);
    assert!(envelope.key_id.contains(&key));
    assert!(kms_says_valid(&kms, &key, &envelope).await);

    // The digest was signed as a RAW message: the offline check agrees with KMS.
    records_domain::disposition::verify(&envelope, &public.spki_der)
        .expect("a KMS signature verifies offline");
}

#[tokio::test]
async fn an_rsa_key_signs_with_pss_sha256() {
    let (_moto, kms) = kms().await;
    let key = kms_key(&kms, KeySpec::Rsa2048).await;
    let public = fetch_public_key(&kms, &key).await.unwrap();
    assert_eq!(public.algorithm, SigningAlgorithm::RsassaPssSha256);
    // GetPublicKey's DER is a SubjectPublicKeyInfo aws-lc-rs reads.
    assert!(aws_lc_rs::rsa::PublicEncryptingKey::from_der(&public.spki_der).is_ok());
    let signer = CertificateSigner::new(kms.clone(), &key);
    let canonical = CanonicalCertificate::of(&certificate("disp-2")).unwrap();
    let envelope = signer.sign(&canonical).await.unwrap();
    assert_eq!(
        envelope.signing_algorithm,
        SigningAlgorithm::RsassaPssSha256
    );
    assert!(kms_says_valid(&kms, &key, &envelope).await);
}

#[tokio::test]
async fn a_key_that_cannot_sign_certificates_is_refused_by_name() {
    let (_moto, kms) = kms().await;
    let key = kms_key(&kms, KeySpec::EccNistP384).await;
    let err = fetch_public_key(&kms, &key).await.unwrap_err().to_string();
    assert!(err.contains("cannot sign certificates"), "{err}");
    let err = fetch_public_key(&kms, "no-such-key").await.unwrap_err();
    assert!(err.to_string().contains("NotFoundException"), "{err}");
    assert!(!err.is_retryable());
}

async fn worm_bucket() -> (Moto, aws_sdk_s3::Client, aws_sdk_kms::Client) {
    let (moto, sdk) = test_support::stack::moto().await;
    let s3 = local_stack::s3_client(&sdk);
    s3.create_bucket()
        .bucket("audit")
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
    s3.put_object_lock_configuration()
        .bucket("audit")
        .object_lock_configuration(
            ObjectLockConfiguration::builder()
                .object_lock_enabled(ObjectLockEnabled::Enabled)
                .rule(
                    ObjectLockRule::builder()
                        .default_retention(
                            DefaultRetention::builder()
                                .mode(ObjectLockRetentionMode::Compliance)
                                .days(1)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    (moto, s3, aws_sdk_kms::Client::new(&sdk))
}

#[tokio::test]
async fn a_certificate_is_written_once_into_the_worm_bucket() {
    let (_moto, s3, kms) = worm_bucket().await;
    let key = kms_key(&kms, KeySpec::EccNistP256).await;
    let signer = CertificateSigner::new(kms.clone(), &key);
    let store = CertificateStore::new(s3.clone(), "audit", Encryption::S3Managed);
    let canonical = CanonicalCertificate::of(&certificate("disp-2031-06-01-0001")).unwrap();
    let envelope = signer.sign(&canonical).await.unwrap();

    let stored = store.put(&envelope).await.unwrap();
    assert_eq!(
        stored.key,
        "disposition-certificates/disp-2031-06-01-0001.json"
    );
    assert!(matches!(
        stored.outcome,
        StoreOutcome::Written {
            version_id: Some(_)
        }
    ));
    let head = s3
        .head_object()
        .bucket("audit")
        .key(&stored.key)
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("application/json"));
    assert_eq!(
        head.server_side_encryption().map(|s| s.as_str()),
        Some("AES256")
    );
    assert_eq!(
        head.object_lock_mode(),
        Some(&aws_sdk_s3::types::ObjectLockMode::Compliance)
    );
    assert_eq!(store.get("disp-2031-06-01-0001").await.unwrap(), envelope);

    // A retry, even re-signed (ECDSA gives new bytes), counts as written; nothing is added.
    let resigned = signer.sign(&canonical).await.unwrap();
    assert_ne!(resigned.signature, envelope.signature);
    for again in [&envelope, &resigned] {
        assert_eq!(
            store.put(again).await.unwrap().outcome,
            StoreOutcome::AlreadyWritten
        );
    }
    let versions = s3
        .list_object_versions()
        .bucket("audit")
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions().len(), 1);
    assert_eq!(store.get("disp-2031-06-01-0001").await.unwrap(), envelope);

    // Other content under the same id is refused, naming both hashes.
    let mut other = certificate("disp-2031-06-01-0001");
    other.records[0].versions[0].version_id = "v2".into();
    let other = signer
        .sign(&CanonicalCertificate::of(&other).unwrap())
        .await
        .unwrap();
    let err = store.put(&other).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    assert!(err.to_string().contains(&envelope.sha256), "{err}");
}

#[tokio::test]
async fn sse_kms_ids_and_missing_certificates() {
    let (_moto, s3, kms) = worm_bucket().await;
    let data_key = kms
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string();
    let store = CertificateStore::new(
        s3.clone(),
        "audit",
        Encryption::Kms {
            key_id: Some(data_key.clone()),
        },
    )
    .with_prefix("certs/");
    // Signed locally: the store does not care who signed.
    let canonical = CanonicalCertificate::of(&certificate("disp-9")).unwrap();
    let envelope =
        SignedCertificate::seal(&canonical, b"sig", "k", SigningAlgorithm::EcdsaSha256).unwrap();
    let stored = store.put(&envelope).await.unwrap();
    assert_eq!(stored.key, "certs/disp-9.json");
    let head = s3
        .head_object()
        .bucket("audit")
        .key(&stored.key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.server_side_encryption().map(|s| s.as_str()),
        Some("aws:kms")
    );
    assert!(head.ssekms_key_id().unwrap_or_default().contains(&data_key));

    let err = store.get("disp-404").await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::S3(records_aws::s3_objects::S3Error::NotFound { .. })
        ),
        "{err}"
    );
    assert!(matches!(
        store.get("../x").await,
        Err(StoreError::InvalidId(_))
    ));
    let mut no_id = envelope.clone();
    no_id.certificate = serde_json::json!({"schema_version": 1});
    assert!(matches!(store.put(&no_id).await, Err(StoreError::NoId)));
}
