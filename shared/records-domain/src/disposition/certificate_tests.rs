use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use time::macros::datetime;

use super::*;
use crate::idempotency::ObjectVersion;

fn certificate() -> DispositionCertificate {
    DispositionCertificate {
        schema_version: CERTIFICATE_SCHEMA,
        certificate_id: "disp-2031-06-01-0001".into(),
        dry_run: false,
        generated_at: datetime!(2031-06-01 12:00:05 UTC),
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
            name: "Claim C-17 — settlement.pdf".into(),
            classification: Some("FIN-CLAIMS".into()),
            rsi: Some("CLAIMS-7Y".into()),
            disposition_date: Some(datetime!(2031-05-01 00:00 UTC)),
            versions: vec![CertificateVersion {
                bucket: "records".into(),
                key: "claims/c-17.pdf".into(),
                version_id: "3HL4kqtJlcpXroDTDmJ".into(),
                sha256: Some("ab".repeat(32)),
                size: 1_048_576,
                disposal: VersionDisposal::Deleted {
                    at: datetime!(2031-06-01 12:00:01 UTC),
                },
            }],
        }],
        refused: vec![RefusedRecord {
            node_id: 4712,
            name: "Claim C-18.pdf".into(),
            reasons: vec![
                RefusalReason::S3LegalHold {
                    version: ObjectVersion::new("records", "claims/c-18.pdf", Some("v9")),
                }
                .into(),
            ],
        }],
    }
}

fn ec_key() -> (EcdsaKeyPair, Vec<u8>) {
    let key = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
    let spki = key.public_key().as_der().unwrap().as_ref().to_vec();
    (key, spki)
}

fn sign_ec(cert: &DispositionCertificate, key: &EcdsaKeyPair) -> SignedCertificate {
    let canonical = CanonicalCertificate::of(cert).unwrap();
    let sig = key.sign(&SystemRandom::new(), canonical.sha256()).unwrap();
    SignedCertificate::seal(
        &canonical,
        sig.as_ref(),
        "arn:aws:kms:eu-west-1:1:key/k",
        SigningAlgorithm::EcdsaSha256,
    )
    .unwrap()
}

#[test]
fn canonical_bytes_sort_keys_and_have_no_whitespace() {
    let canonical = CanonicalCertificate::of(&certificate()).unwrap();
    let text = std::str::from_utf8(canonical.bytes()).unwrap();
    assert!(text.starts_with(
        r#"{"approval":{"decided_at":"2031-06-01T09:30:00Z","disposition_search_id":52001,"#
    ));
    assert!(!text.contains(": ") && !text.contains(", ") && !text.contains('\n'));
    // Non-ASCII stays as UTF-8, not \u escapes (RFC 8785 §3.2.2.2).
    assert!(text.contains("Claim C-17 — settlement.pdf"));
    // The refusal's code and message sit next to its fields, sorted.
    assert!(text.contains(r#"{"code":"s3_legal_hold","message":"S3 legal hold is on for s3://records/claims/c-18.pdf?versionId=v9","version":"#));
}

#[test]
fn canonical_form_is_stable_across_field_order_and_formatting() {
    let canonical = CanonicalCertificate::of(&certificate()).unwrap();
    // The same document written with another key order and indentation.
    let pretty = serde_json::to_string_pretty(&certificate()).unwrap();
    let reordered: serde_json::Value = serde_json::from_str(&pretty).unwrap();
    let again = CanonicalCertificate::of_value(&reordered).unwrap();
    assert_eq!(again, canonical);
    assert_eq!(canonical.sha256_hex().len(), 64);
    // RFC 8785 §3.2.3's own sorting example, as a canary for the serialiser.
    let sample = serde_json::json!({"b": [1, 2.5, "x"], "a": {"z": null, "é": true}});
    assert_eq!(
        serde_jcs::to_string(&sample).unwrap(),
        r#"{"a":{"z":null,"é":true},"b":[1,2.5,"x"]}"#
    );
}

#[test]
fn integers_beyond_2_53_are_refused_not_rounded() {
    let mut cert = certificate();
    cert.records[0].versions[0].size = (1 << 53) + 1;
    let err = CanonicalCertificate::of(&cert).unwrap_err();
    assert!(
        matches!(err, CanonicalError::UnsafeNumber(_, ref at) if at.contains("size")),
        "{err}"
    );
}

#[test]
fn an_ecdsa_signed_certificate_verifies_and_round_trips_through_json() {
    let (key, spki) = ec_key();
    let envelope = sign_ec(&certificate(), &key);
    let stored = envelope.to_json();
    let read = SignedCertificate::from_json(&stored).unwrap();
    let verified = verify(&read, &spki).unwrap();
    assert_eq!(verified.certificate, certificate());
    assert_eq!(verified.sha256, envelope.sha256);
    assert_eq!(read.certificate_id(), Some("disp-2031-06-01-0001"));
    assert!(verified.certificate.inconsistencies().is_empty());
}

#[test]
fn an_rsa_pss_signed_certificate_verifies() {
    let key = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let spki = key.public_key().as_der().unwrap().as_ref().to_vec();
    let canonical = CanonicalCertificate::of(&certificate()).unwrap();
    let mut sig = vec![0; key.public_modulus_len()];
    key.sign(
        &signature::RSA_PSS_SHA256,
        &SystemRandom::new(),
        canonical.sha256(),
        &mut sig,
    )
    .unwrap();
    let envelope =
        SignedCertificate::seal(&canonical, &sig, "k", SigningAlgorithm::RsassaPssSha256).unwrap();
    assert!(verify(&envelope, &spki).is_ok());
    // The same signature under the other algorithm's name does not pass.
    let mut wrong = envelope.clone();
    wrong.signing_algorithm = SigningAlgorithm::EcdsaSha256;
    assert!(matches!(
        verify(&wrong, &spki),
        Err(VerifyError::BadSignature { .. })
    ));
}

#[test]
fn one_changed_byte_fails_verification() {
    let (key, spki) = ec_key();
    let stored = String::from_utf8(sign_ec(&certificate(), &key).to_json()).unwrap();
    // 1_048_576 → 1_048_577: one byte of the stored file.
    let tampered = stored.replacen("1048576", "1048577", 1);
    assert_ne!(tampered, stored);
    let envelope = SignedCertificate::from_json(tampered.as_bytes()).unwrap();
    assert!(matches!(
        verify(&envelope, &spki),
        Err(VerifyError::HashMismatch { .. })
    ));
}

#[test]
fn a_changed_version_id_fails_even_with_the_hash_recomputed() {
    let (key, spki) = ec_key();
    let mut envelope = sign_ec(&certificate(), &key);
    envelope.certificate["records"][0]["versions"][0]["version_id"] = "otherVersion".into();
    assert!(matches!(
        verify(&envelope, &spki),
        Err(VerifyError::HashMismatch { .. })
    ));
    // A forger who also fixes the hash still lacks the signature.
    envelope.sha256 = CanonicalCertificate::of_value(&envelope.certificate)
        .unwrap()
        .sha256_hex();
    let err = verify(&envelope, &spki).unwrap_err();
    assert_eq!(
        err,
        VerifyError::BadSignature {
            algorithm: "ECDSA_SHA_256"
        }
    );
}

#[test]
fn another_key_or_a_garbled_signature_fails() {
    let (key, _) = ec_key();
    let (_, other_spki) = ec_key();
    let envelope = sign_ec(&certificate(), &key);
    assert!(matches!(
        verify(&envelope, &other_spki),
        Err(VerifyError::BadSignature { .. })
    ));
    assert!(matches!(
        verify(&envelope, b"not a key"),
        Err(VerifyError::BadSignature { .. })
    ));
    let mut garbled = envelope.clone();
    garbled.signature = "%%%".into();
    assert!(matches!(
        verify(&garbled, &other_spki),
        Err(VerifyError::SignatureEncoding(_))
    ));
}

#[test]
fn a_signature_over_the_certificate_bytes_instead_of_its_digest_does_not_verify() {
    // The scheme is fixed: KMS signs the digest as a RAW message; a signature over anything
    // else (here the canonical bytes themselves) is refused.
    let (key, spki) = ec_key();
    let canonical = CanonicalCertificate::of(&certificate()).unwrap();
    let sig = key.sign(&SystemRandom::new(), canonical.bytes()).unwrap();
    let envelope =
        SignedCertificate::seal(&canonical, sig.as_ref(), "k", SigningAlgorithm::EcdsaSha256)
            .unwrap();
    assert!(verify(&envelope, &spki).is_err());
}

#[test]
fn malformed_envelopes_are_errors_not_panics() {
    for bad in [
        &b""[..],
        b"{}",
        b"[1,2]",
        b"{\"envelope_schema\":1}",
        b"\xff\xfe",
    ] {
        assert!(
            matches!(
                SignedCertificate::from_json(bad),
                Err(EnvelopeError::Malformed(_))
            ),
            "{bad:?}"
        );
    }
    let (key, spki) = ec_key();
    let mut envelope = sign_ec(&certificate(), &key);
    envelope.envelope_schema = 2;
    let err = SignedCertificate::from_json(&envelope.to_json()).unwrap_err();
    assert_eq!(err, EnvelopeError::UnsupportedSchema(2));
    envelope.certificate = serde_json::json!("just a string");
    assert!(matches!(
        verify(&envelope, &spki),
        Err(VerifyError::Canonical(CanonicalError::NotAnObject))
    ));
}

#[test]
fn a_dry_run_is_marked_in_the_signed_document() {
    let mut draft = certificate();
    draft.dry_run = true;
    assert_ne!(
        CanonicalCertificate::of(&draft).unwrap(),
        CanonicalCertificate::of(&certificate()).unwrap()
    );
    // A draft that claims deletions, or a final certificate with "would delete", is flagged.
    assert_eq!(draft.inconsistencies().len(), 1);
    let mut final_cert = certificate();
    final_cert.records[0].versions[0].disposal = VersionDisposal::WouldDelete;
    assert_eq!(final_cert.inconsistencies().len(), 1);
    draft.records[0].versions[0].disposal = VersionDisposal::WouldDelete;
    assert!(draft.inconsistencies().is_empty());
}
