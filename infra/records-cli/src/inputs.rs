//! Reading the command's inputs: the certificate (a file or `s3://bucket/key`) and the
//! signer's public key (a PEM or DER file, or KMS GetPublicKey).

use anyhow::{Context, Result, bail};
use base64::Engine;

/// Where the certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateSource {
    File(std::path::PathBuf),
    S3 { bucket: String, key: String },
}

impl CertificateSource {
    pub fn parse(arg: &str) -> Result<Self> {
        let Some(rest) = arg.strip_prefix("s3://") else {
            return Ok(CertificateSource::File(arg.into()));
        };
        match rest.split_once('/') {
            Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => {
                Ok(CertificateSource::S3 {
                    bucket: bucket.to_string(),
                    key: key.to_string(),
                })
            }
            _ => bail!("{arg:?} is not s3://bucket/key"),
        }
    }
}

impl std::fmt::Display for CertificateSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CertificateSource::File(p) => write!(f, "{}", p.display()),
            CertificateSource::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

/// The DER inside a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) or `RSA PUBLIC KEY` block, or
/// the bytes themselves when they are not PEM.
pub fn public_key_der(bytes: &[u8]) -> Result<Vec<u8>> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Ok(bytes.to_vec());
    };
    let Some(start) = text.find("-----BEGIN ") else {
        return Ok(bytes.to_vec());
    };
    let text = &text[start..];
    let label_end = text[11..]
        .find("-----")
        .map(|i| i + 11)
        .context("PEM header is not closed")?;
    let label = &text[11..label_end];
    if label != "PUBLIC KEY" && label != "RSA PUBLIC KEY" {
        bail!("PEM block is {label:?}, not a PUBLIC KEY");
    }
    let footer = format!("-----END {label}-----");
    let body_end = text.find(&footer).context("PEM block has no END line")?;
    let body: String = text[label_end + 5..body_end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .context("PEM body is not base64")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_files_or_s3_uris() {
        assert_eq!(
            CertificateSource::parse("s3://audit/certs/a.json").unwrap(),
            CertificateSource::S3 {
                bucket: "audit".into(),
                key: "certs/a.json".into()
            }
        );
        assert!(CertificateSource::parse("s3://audit").is_err());
        assert!(CertificateSource::parse("s3:///k").is_err());
        assert_eq!(
            CertificateSource::parse("./c.json").unwrap(),
            CertificateSource::File("./c.json".into())
        );
    }

    #[test]
    fn pem_and_der_keys_are_read_and_other_pem_is_refused() {
        let pem = "-----BEGIN PUBLIC KEY-----\nAQID\nBA==\n-----END PUBLIC KEY-----\n";
        assert_eq!(public_key_der(pem.as_bytes()).unwrap(), vec![1, 2, 3, 4]);
        assert_eq!(public_key_der(&[0x30, 0x59]).unwrap(), vec![0x30, 0x59]);
        let private = "-----BEGIN PRIVATE KEY-----\nAQID\n-----END PRIVATE KEY-----\n";
        assert!(public_key_der(private.as_bytes()).is_err());
        assert!(public_key_der(b"-----BEGIN PUBLIC KEY-----\nAQID").is_err());
        assert!(
            public_key_der(b"-----BEGIN PUBLIC KEY-----\n%%\n-----END PUBLIC KEY-----").is_err()
        );
    }
}
