//! P4 disposition certificates signed with an asymmetric KMS key: `kms:Sign` with the
//! certificate's SHA-256 as the (RAW, 32-byte) message, so a certificate of any size signs in
//! one call, and `kms:GetPublicKey` for verifiers. The signature is over
//! SHA-256(SHA-256(canonical certificate)); the verifier checks exactly that.
//!
//! The algorithm follows the key's spec: ECC_NIST_P256 → ECDSA_SHA_256, RSA_2048/3072/4096
//! → RSASSA_PSS_SHA_256 (the two [`SigningAlgorithm`]s the offline verifier accepts).
//!
//! Why RAW and not `MessageType::Digest`: moto 5.1.22 (the local stack) ignores DIGEST and
//! hashes the digest again, so DIGEST signatures would verify against real KMS and not
//! locally; RAW over the digest means the same bytes to both. moto also uses the maximum
//! salt length for RSASSA_PSS where KMS uses 32 bytes, so the template's key is ECC_NIST_P256.
//!
//! It also leaves `KeySpec` out of GetPublicKey (only the deprecated
//! `CustomerMasterKeySpec` and the algorithms): hence [`algorithm_for`]'s fallbacks.

use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, MessageType, SigningAlgorithmSpec};
use records_domain::disposition::{CanonicalCertificate, SignedCertificate, SigningAlgorithm};
use tokio::sync::OnceCell;

#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    #[error("KMS refused {op} for key {key_id}: {code}: {message}")]
    Refused {
        op: &'static str,
        key_id: String,
        code: String,
        message: String,
    },
    #[error("KMS {op} failed: {message}")]
    Transport { op: &'static str, message: String },
    #[error(
        "KMS key {key_id} ({spec}) cannot sign certificates: use ECC_NIST_P256 or RSA_2048/3072/4096"
    )]
    UnsupportedKey { key_id: String, spec: String },
    #[error("KMS {op} for key {key_id} answered without {field}")]
    Incomplete {
        op: &'static str,
        key_id: String,
        field: &'static str,
    },
    #[error("sealing the certificate: {0}")]
    Seal(String),
}

/// KMS answers worth another try later.
const RETRYABLE_CODES: &[&str] = &[
    "ThrottlingException",
    "KMSInternalException",
    "DependencyTimeoutException",
    "ServiceUnavailable",
];

impl SignerError {
    pub fn is_retryable(&self) -> bool {
        match self {
            SignerError::Transport { .. } => true,
            SignerError::Refused { code, .. } => RETRYABLE_CODES.contains(&code.as_str()),
            _ => false,
        }
    }
}

fn kms_error<E: ProvideErrorMetadata + std::fmt::Debug>(
    op: &'static str,
    key_id: &str,
    err: aws_sdk_kms::error::SdkError<E>,
) -> SignerError {
    use aws_sdk_kms::error::SdkError;
    match &err {
        SdkError::ServiceError(e) => SignerError::Refused {
            op,
            key_id: key_id.to_string(),
            code: e.err().code().unwrap_or("Unknown").to_string(),
            message: e.err().message().unwrap_or_default().to_string(),
        },
        _ => SignerError::Transport {
            op,
            message: format!("{err:?}"),
        },
    }
}

/// The signer's public key, as a verifier needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerPublicKey {
    /// The key's ARN (or the id it was asked by, if KMS gave none).
    pub key_id: String,
    /// X.509 SubjectPublicKeyInfo, DER.
    pub spki_der: Vec<u8>,
    pub algorithm: SigningAlgorithm,
}

/// The certificate algorithm for a key: by its spec (or the deprecated
/// `CustomerMasterKeySpec`, by name), else by what it offers.
pub fn algorithm_for(
    key_spec: Option<&KeySpec>,
    legacy_spec: Option<&str>,
    offered: &[SigningAlgorithmSpec],
) -> Option<SigningAlgorithm> {
    let spec = key_spec.map(|s| s.as_str()).or(legacy_spec);
    match spec {
        Some("ECC_NIST_P256") => Some(SigningAlgorithm::EcdsaSha256),
        Some("RSA_2048" | "RSA_3072" | "RSA_4096") => Some(SigningAlgorithm::RsassaPssSha256),
        Some(_) => None,
        None if offered.contains(&SigningAlgorithmSpec::EcdsaSha256) => {
            Some(SigningAlgorithm::EcdsaSha256)
        }
        None if offered.contains(&SigningAlgorithmSpec::RsassaPssSha256) => {
            Some(SigningAlgorithm::RsassaPssSha256)
        }
        None => None,
    }
}

fn kms_algorithm(algorithm: SigningAlgorithm) -> SigningAlgorithmSpec {
    match algorithm {
        SigningAlgorithm::EcdsaSha256 => SigningAlgorithmSpec::EcdsaSha256,
        SigningAlgorithm::RsassaPssSha256 => SigningAlgorithmSpec::RsassaPssSha256,
    }
}

/// Reads a KMS key's public key (for the signer, and for `records-certificate --kms-key-id`).
pub async fn fetch_public_key(
    client: &aws_sdk_kms::Client,
    key_id: &str,
) -> Result<SignerPublicKey, SignerError> {
    let out = client
        .get_public_key()
        .key_id(key_id)
        .send()
        .await
        .map_err(|e| kms_error("GetPublicKey", key_id, e))?;
    let spki_der = out
        .public_key()
        .map(|b| b.as_ref().to_vec())
        .ok_or_else(|| SignerError::Incomplete {
            op: "GetPublicKey",
            key_id: key_id.to_string(),
            field: "PublicKey",
        })?;
    // moto sends only the deprecated field.
    #[allow(deprecated)]
    let legacy_spec = out.customer_master_key_spec().map(|s| s.as_str());
    let algorithm = algorithm_for(out.key_spec(), legacy_spec, out.signing_algorithms())
        .ok_or_else(|| SignerError::UnsupportedKey {
            key_id: key_id.to_string(),
            spec: out
                .key_spec()
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|| "unknown spec".into()),
        })?;
    Ok(SignerPublicKey {
        key_id: out.key_id().unwrap_or(key_id).to_string(),
        spki_der,
        algorithm,
    })
}

/// Signs certificates with one KMS key. Its public key (and so the algorithm) is read once.
#[derive(Clone)]
pub struct CertificateSigner {
    client: aws_sdk_kms::Client,
    key_id: String,
    public_key: std::sync::Arc<OnceCell<SignerPublicKey>>,
}

impl CertificateSigner {
    pub fn new(client: aws_sdk_kms::Client, key_id: impl Into<String>) -> Self {
        Self {
            client,
            key_id: key_id.into(),
            public_key: Default::default(),
        }
    }

    /// The signing key's public key and algorithm (GetPublicKey, cached).
    pub async fn public_key(&self) -> Result<&SignerPublicKey, SignerError> {
        self.public_key
            .get_or_try_init(|| fetch_public_key(&self.client, &self.key_id))
            .await
    }

    /// Signs the certificate's SHA-256 and wraps it in its envelope.
    pub async fn sign(
        &self,
        canonical: &CanonicalCertificate,
    ) -> Result<SignedCertificate, SignerError> {
        let public_key = self.public_key().await?;
        let algorithm = public_key.algorithm;
        let out = self
            .client
            .sign()
            .key_id(&self.key_id)
            .message(Blob::new(canonical.sha256().to_vec()))
            .message_type(MessageType::Raw)
            .signing_algorithm(kms_algorithm(algorithm))
            .send()
            .await
            .map_err(|e| kms_error("Sign", &self.key_id, e))?;
        let signature = out.signature().ok_or_else(|| SignerError::Incomplete {
            op: "Sign",
            key_id: self.key_id.clone(),
            field: "Signature",
        })?;
        let key_id = out.key_id().unwrap_or(&public_key.key_id);
        SignedCertificate::seal(canonical, signature.as_ref(), key_id, algorithm)
            .map_err(|e| SignerError::Seal(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_algorithm_follows_the_key_spec_then_what_the_key_offers() {
        assert_eq!(
            algorithm_for(Some(&KeySpec::EccNistP256), None, &[]),
            Some(SigningAlgorithm::EcdsaSha256)
        );
        assert_eq!(
            algorithm_for(None, Some("RSA_3072"), &[]),
            Some(SigningAlgorithm::RsassaPssSha256)
        );
        assert_eq!(algorithm_for(Some(&KeySpec::EccNistP384), None, &[]), None);
        assert_eq!(
            algorithm_for(
                None,
                None,
                &[
                    SigningAlgorithmSpec::RsassaPkcs1V15Sha256,
                    SigningAlgorithmSpec::RsassaPssSha256
                ]
            ),
            Some(SigningAlgorithm::RsassaPssSha256)
        );
        assert_eq!(algorithm_for(None, None, &[]), None);
    }
}
