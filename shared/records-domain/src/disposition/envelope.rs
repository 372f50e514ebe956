//! The signed envelope of a certificate and its offline verification (aws-lc-rs).
//!
//! KMS signs the SHA-256 of the canonical bytes as a digest (`MessageType::Digest`), which
//! is the same signature as one over the canonical bytes themselves with SHA-256: so the
//! verifier checks the signature over the canonical bytes.

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::certificate::{
    CERTIFICATE_SCHEMA, CanonicalCertificate, CanonicalError, DispositionCertificate,
};

/// JSON schema version of [`SignedCertificate`].
pub const ENVELOPE_SCHEMA: u32 = 1;

/// KMS signing algorithms the verifier accepts (KMS's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SigningAlgorithm {
    /// ECC_NIST_P256 keys; the signature is DER (ASN.1) encoded.
    #[serde(rename = "ECDSA_SHA_256")]
    EcdsaSha256,
    /// RSA keys, PSS padding with MGF1-SHA-256 and a 32-byte salt.
    #[serde(rename = "RSASSA_PSS_SHA_256")]
    RsassaPssSha256,
}

impl SigningAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlgorithm::EcdsaSha256 => "ECDSA_SHA_256",
            SigningAlgorithm::RsassaPssSha256 => "RSASSA_PSS_SHA_256",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ECDSA_SHA_256" => Some(SigningAlgorithm::EcdsaSha256),
            "RSASSA_PSS_SHA_256" => Some(SigningAlgorithm::RsassaPssSha256),
            _ => None,
        }
    }

    fn verifier(self) -> &'static dyn VerificationAlgorithm {
        match self {
            SigningAlgorithm::EcdsaSha256 => &signature::ECDSA_P256_SHA256_ASN1,
            SigningAlgorithm::RsassaPssSha256 => &signature::RSA_PSS_2048_8192_SHA256,
        }
    }
}

/// A certificate with its hash and signature, as stored in the WORM bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedCertificate {
    pub envelope_schema: u32,
    /// The certificate as a JSON object; its RFC 8785 form is what was hashed and signed.
    pub certificate: serde_json::Value,
    /// Lower-case hex SHA-256 of the certificate's canonical bytes.
    pub sha256: String,
    /// Base64 (standard) of the signature KMS returned.
    pub signature: String,
    /// The KMS key (ARN or id) that signed.
    pub key_id: String,
    pub signing_algorithm: SigningAlgorithm,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("not a signed disposition certificate: {0}")]
    Malformed(String),
    #[error("envelope schema {0} is not supported (this build reads {ENVELOPE_SCHEMA})")]
    UnsupportedSchema(u32),
}

impl SignedCertificate {
    /// Wraps a canonical certificate and the signature of its digest.
    pub fn seal(
        canonical: &CanonicalCertificate,
        signature: &[u8],
        key_id: impl Into<String>,
        signing_algorithm: SigningAlgorithm,
    ) -> Result<Self, CanonicalError> {
        let certificate = serde_json::from_slice(canonical.bytes())
            .map_err(|e| CanonicalError::Serialise(e.to_string()))?;
        Ok(SignedCertificate {
            envelope_schema: ENVELOPE_SCHEMA,
            certificate,
            sha256: canonical.sha256_hex(),
            signature: base64::engine::general_purpose::STANDARD.encode(signature),
            key_id: key_id.into(),
            signing_algorithm,
        })
    }

    /// Reads an envelope from its JSON file.
    pub fn from_json(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let envelope: SignedCertificate =
            serde_json::from_slice(bytes).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        if envelope.envelope_schema != ENVELOPE_SCHEMA {
            return Err(EnvelopeError::UnsupportedSchema(envelope.envelope_schema));
        }
        Ok(envelope)
    }

    /// The envelope as stored: indented JSON, for people reading the audit bucket.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// The certificate id, without verifying anything (for naming and look-ups).
    pub fn certificate_id(&self) -> Option<&str> {
        self.certificate.get("certificate_id")?.as_str()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the certificate cannot be canonicalised: {0}")]
    Canonical(#[from] CanonicalError),
    #[error("hash mismatch: the envelope states {stated} but the certificate hashes to {computed}")]
    HashMismatch { stated: String, computed: String },
    #[error("the signature is not valid base64: {0}")]
    SignatureEncoding(String),
    #[error("the signature does not verify with this public key ({algorithm})")]
    BadSignature { algorithm: &'static str },
    #[error("the hash and signature verify, but the certificate is not readable: {0}")]
    Unreadable(String),
}

/// A certificate whose hash and signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCertificate {
    pub certificate: DispositionCertificate,
    pub sha256: String,
}

/// Recomputes the canonical bytes and their SHA-256, compares it with the envelope's, and
/// checks the signature with the signer's public key (X.509 SubjectPublicKeyInfo DER, as
/// KMS GetPublicKey returns it).
pub fn verify(
    envelope: &SignedCertificate,
    public_key_spki_der: &[u8],
) -> Result<VerifiedCertificate, VerifyError> {
    let canonical = CanonicalCertificate::of_value(&envelope.certificate)?;
    let computed = canonical.sha256_hex();
    if !computed.eq_ignore_ascii_case(envelope.sha256.trim()) {
        return Err(VerifyError::HashMismatch {
            stated: envelope.sha256.clone(),
            computed,
        });
    }
    let signature = base64::engine::general_purpose::STANDARD
        .decode(envelope.signature.trim())
        .map_err(|e| VerifyError::SignatureEncoding(e.to_string()))?;
    let algorithm = envelope.signing_algorithm;
    // A key of the wrong type or size fails here too: aws-lc-rs parses it at verify time.
    UnparsedPublicKey::new(algorithm.verifier(), public_key_spki_der)
        // KMS signed the digest as its message (records_aws::certificate_signer).
        .verify(canonical.sha256(), &signature)
        .map_err(|_| VerifyError::BadSignature {
            algorithm: algorithm.as_str(),
        })?;
    let certificate: DispositionCertificate = serde_json::from_value(envelope.certificate.clone())
        .map_err(|e| VerifyError::Unreadable(e.to_string()))?;
    if certificate.schema_version != CERTIFICATE_SCHEMA {
        return Err(VerifyError::Unreadable(format!(
            "certificate schema {} (this build reads {CERTIFICATE_SCHEMA})",
            certificate.schema_version
        )));
    }
    Ok(VerifiedCertificate {
        certificate,
        sha256: computed,
    })
}
