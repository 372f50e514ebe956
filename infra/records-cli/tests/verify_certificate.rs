//! The built `records-certificate` binary against moto: valid certificates verify, a changed
//! byte or version id does not, and `--check-s3` fails while a listed version still exists.

use std::path::{Path, PathBuf};
use std::process::Output;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use base64::Engine;
use local_stack::moto::Moto;
use records_aws::certificate_store::{CertificateStore, Encryption};
use records_domain::disposition::{
    Approval, ApprovalSource, CERTIFICATE_SCHEMA, CanonicalCertificate, CertificateVersion,
    CertifiedRecord, DispositionCertificate, SignedCertificate, SigningAlgorithm, VersionDisposal,
};
use time::macros::datetime;

struct World {
    moto: Moto,
    s3: aws_sdk_s3::Client,
    kms: aws_sdk_kms::Client,
    dir: tempfile::TempDir,
    key: EcdsaKeyPair,
    /// A version deleted by its id, and one still there.
    gone: String,
    present: String,
}

async fn world() -> World {
    let (moto, sdk) = test_support::stack::moto().await;
    let s3 = local_stack::s3_client(&sdk);
    s3.create_bucket().bucket("records").send().await.unwrap();
    s3.put_bucket_versioning()
        .bucket("records")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut ids = Vec::new();
    for body in ["first", "second"] {
        let out = s3
            .put_object()
            .bucket("records")
            .key("claims/c-17.pdf")
            .body(ByteStream::from_static(body.as_bytes()))
            .send()
            .await
            .unwrap();
        ids.push(out.version_id().unwrap().to_string());
    }
    s3.delete_object()
        .bucket("records")
        .key("claims/c-17.pdf")
        .version_id(&ids[0])
        .send()
        .await
        .unwrap();
    let key = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let der = key.public_key().as_der().unwrap().as_ref().to_vec();
    std::fs::write(dir.path().join("key.der"), &der).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
    std::fs::write(
        dir.path().join("key.pem"),
        format!("-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n"),
    )
    .unwrap();
    World {
        moto,
        kms: aws_sdk_kms::Client::new(&sdk),
        s3,
        dir,
        key,
        gone: ids[0].clone(),
        present: ids[1].clone(),
    }
}

fn certificate(version_id: &str) -> DispositionCertificate {
    DispositionCertificate {
        schema_version: CERTIFICATE_SCHEMA,
        certificate_id: "disp-0001".into(),
        dry_run: false,
        generated_at: datetime!(2031-06-01 12:00 UTC),
        approval: Approval {
            source: ApprovalSource::Snapshot,
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
                version_id: version_id.into(),
                sha256: Some(test_support::hashing::sha256_hex(b"first")),
                size: 5,
                disposal: VersionDisposal::Deleted {
                    at: datetime!(2031-06-01 11:59 UTC),
                },
            }],
        }],
        refused: vec![],
    }
}

impl World {
    fn sign(&self, certificate: &DispositionCertificate) -> SignedCertificate {
        let canonical = CanonicalCertificate::of(certificate).unwrap();
        let sig = self
            .key
            .sign(&SystemRandom::new(), canonical.sha256())
            .unwrap();
        SignedCertificate::seal(
            &canonical,
            sig.as_ref(),
            "test-key",
            SigningAlgorithm::EcdsaSha256,
        )
        .unwrap()
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn key_file(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn run(&self, args: &[&str]) -> (i32, String) {
        let out: Output = std::process::Command::new(env!("CARGO_BIN_EXE_records-certificate"))
            .args(args)
            .env("AWS_ENDPOINT_URL", self.moto.endpoint())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("S3_FORCE_PATH_STYLE", "true")
            .env_remove("AWS_PROFILE")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }
}

fn path_arg(p: &Path) -> String {
    p.display().to_string()
}

#[tokio::test]
async fn a_valid_certificate_verifies_from_a_file_and_from_s3() {
    let w = world().await;
    let envelope = w.sign(&certificate(&w.gone));
    let file = w.write("cert.json", &envelope.to_json());
    let (code, out) = w.run(&[
        "verify",
        "--certificate",
        &path_arg(&file),
        "--public-key",
        &w.key_file("key.pem"),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("RESULT: VERIFIED") && out.contains("certificate of destruction"),
        "{out}"
    );

    w.s3.create_bucket()
        .bucket("audit")
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
    let stored = CertificateStore::new(w.s3.clone(), "audit", Encryption::S3Managed)
        .put(&envelope)
        .await
        .unwrap();
    let uri = format!("s3://audit/{}", stored.key);
    let (code, out) = w.run(&[
        "verify",
        "--certificate",
        &uri,
        "--public-key",
        &w.key_file("key.der"),
        "--check-s3",
    ]);
    println!("{out}");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("versionId={} gone", w.gone)), "{out}");
}

#[tokio::test]
async fn one_changed_byte_fails() {
    let w = world().await;
    let stored = String::from_utf8(w.sign(&certificate(&w.gone)).to_json()).unwrap();
    let tampered = stored.replacen("\"size\": 5", "\"size\": 6", 1);
    assert_eq!(tampered.len(), stored.len());
    let file = w.write("cert.json", tampered.as_bytes());
    let (code, out) = w.run(&[
        "verify",
        "--certificate",
        &path_arg(&file),
        "--public-key",
        &w.key_file("key.pem"),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("NOT VERIFIED") && out.contains("hash mismatch"),
        "{out}"
    );
}

#[tokio::test]
async fn one_changed_version_id_fails() {
    let w = world().await;
    let mut envelope = w.sign(&certificate(&w.gone));
    envelope.certificate["records"][0]["versions"][0]["version_id"] = w.present.clone().into();
    let file = w.write("cert.json", &envelope.to_json());
    let (code, out) = w.run(&[
        "verify",
        "--certificate",
        &path_arg(&file),
        "--public-key",
        &w.key_file("key.pem"),
    ]);
    assert_eq!(code, 1, "{out}");
    // With the hash recomputed too, the signature gives it away.
    envelope.sha256 = CanonicalCertificate::of_value(&envelope.certificate)
        .unwrap()
        .sha256_hex();
    let file = w.write("cert2.json", &envelope.to_json());
    let (code, out) = w.run(&[
        "verify",
        "--certificate",
        &path_arg(&file),
        "--public-key",
        &w.key_file("key.pem"),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("signature does not verify"), "{out}");
}

#[tokio::test]
async fn a_version_still_present_fails_check_s3() {
    let w = world().await;
    let file = w.write("cert.json", &w.sign(&certificate(&w.present)).to_json());
    let args = [
        "verify",
        "--certificate",
        &path_arg(&file),
        "--public-key",
        &w.key_file("key.pem"),
    ];
    assert_eq!(w.run(&args).0, 0, "the signature alone is fine");
    let (code, out) = w.run(&[&args[..], &["--check-s3"]].concat());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("STILL PRESENT"), "{out}");

    // Hidden behind a delete marker is not gone either.
    w.s3.delete_object()
        .bucket("records")
        .key("claims/c-17.pdf")
        .send()
        .await
        .unwrap();
    let (code, out) = w.run(&[&args[..], &["--check-s3"]].concat());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("STILL PRESENT"), "{out}");
}

#[tokio::test]
async fn usage_errors_exit_2_and_malformed_certificates_exit_1() {
    let w = world().await;
    let file = w.write("cert.json", &w.sign(&certificate(&w.gone)).to_json());
    let cert = path_arg(&file);
    let pem = w.key_file("key.pem");
    for args in [
        vec!["verify", "--certificate", &cert],
        vec![
            "verify",
            "--certificate",
            &cert,
            "--public-key",
            &pem,
            "--kms-key-id",
            "k",
        ],
        vec![
            "verify",
            "--certificate",
            "/nonexistent.json",
            "--public-key",
            &pem,
        ],
        vec![
            "verify",
            "--certificate",
            &cert,
            "--public-key",
            "/nonexistent.pem",
        ],
        vec![
            "verify",
            "--certificate",
            "s3://bucket-only",
            "--public-key",
            &pem,
        ],
        vec!["frobnicate"],
    ] {
        let (code, out) = w.run(&args);
        assert_eq!(code, 2, "{args:?}: {out}");
    }
    let garbage = w.write("garbage.json", b"{\"certificate\": [");
    let (code, out) = w.run(&[
        "verify",
        "--certificate",
        &path_arg(&garbage),
        "--public-key",
        &pem,
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("not a signed disposition certificate"),
        "{out}"
    );
}

#[tokio::test]
async fn kms_key_id_reads_the_public_key_from_kms() {
    // moto 5.1.22 signs SHA-256(digest) for MessageType DIGEST (see certificate_signer.rs),
    // so a moto-signed certificate cannot verify offline: this checks the wiring (the key
    // is fetched and used) and that the result is an honest 1, not a crash.
    let w = world().await;
    let key_id = w
        .kms
        .create_key()
        .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
        .key_spec(aws_sdk_kms::types::KeySpec::EccNistP256)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string();
    let signer = records_aws::certificate_signer::CertificateSigner::new(w.kms.clone(), &key_id);
    let canonical = CanonicalCertificate::of(&certificate(&w.gone)).unwrap();
    let file = w.write(
        "cert.json",
        &signer.sign(&canonical).await.unwrap().to_json(),
    );
    let (code, out) = w.run(&[
        "verify",
        "--certificate",
        &path_arg(&file),
        "--kms-key-id",
        &key_id,
    ]);
    // moto's GetPublicKey answers the bare key id where KMS gives the ARN.
    assert!(
        out.contains(&format!("public key    KMS {key_id}")),
        "{out}"
    );
    // Signed by KMS, verified offline with the public key KMS gives.
    assert_eq!(code, 0, "{out}");
    let (code, out) = w.run(&[
        "verify",
        "--certificate",
        &path_arg(&file),
        "--kms-key-id",
        "no-such-key",
    ]);
    assert_eq!(code, 2, "{out}");
}
