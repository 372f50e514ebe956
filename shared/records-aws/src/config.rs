//! SDK clients built once per process from the environment (`AWS_REGION`,
//! `AWS_ENDPOINT_URL` for local stacks, credentials from the Lambda role).
//!
//! AWS API endpoints present Amazon Trust Services certificates, so the SDK trusts those five
//! roots (embedded) and nothing else: a narrower trust than the platform's ~150 roots, and no
//! certificate files read and parsed at start-up (that read was half of the functions'
//! start-up, see README "Figures"). `AWS_CA_BUNDLE` (the variable every AWS SDK and the CLI
//! read) names a PEM bundle to trust instead, for endpoints behind another CA.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder, proxy::ProxyConfig};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use rustls_pki_types::{CertificateDer, pem::PemObject};

/// The roots of Amazon Trust Services (Amazon Root CA 1–4, Starfield Services Root G2).
const AMAZON_TRUST_SERVICES: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("AWS_CA_BUNDLE {path:?}: {message}")]
    CaBundle { path: String, message: String },
}

/// Loads the shared SDK configuration.
pub async fn load() -> Result<SdkConfig, ConfigError> {
    let bundle = std::env::var("AWS_CA_BUNDLE")
        .ok()
        .filter(|p| !p.trim().is_empty());
    let http = https_client(trust_store(bundle.as_deref())?)?;
    Ok(aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .load()
        .await)
}

/// The roots the SDK trusts: the bundle `AWS_CA_BUNDLE` names, else Amazon Trust Services.
pub fn trust_store(ca_bundle: Option<&str>) -> Result<TrustStore, ConfigError> {
    let pem = match ca_bundle {
        None => AMAZON_TRUST_SERVICES.to_vec(),
        Some(path) => std::fs::read(path).map_err(|e| ConfigError::CaBundle {
            path: path.into(),
            message: e.to_string(),
        })?,
    };
    // The TLS provider parses the PEM only at the first connection; parse it here so a bad
    // bundle refuses start-up, naming the file, instead of failing every call.
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ConfigError::CaBundle {
            path: ca_bundle.unwrap_or("(embedded)").into(),
            message: format!("not a PEM certificate bundle: {e}"),
        })?;
    if certificates.is_empty() {
        return Err(ConfigError::CaBundle {
            path: ca_bundle.unwrap_or("(embedded)").into(),
            message: "holds no PEM certificate".into(),
        });
    }
    Ok(TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(pem))
}

/// The SDK's default client (hyper 1, rustls with aws-lc, proxy from the environment) with the
/// given roots.
fn https_client(roots: TrustStore) -> Result<SharedHttpClient, ConfigError> {
    let context = TlsContext::builder()
        .with_trust_store(roots)
        .build()
        .map_err(|e| ConfigError::CaBundle {
            path: std::env::var("AWS_CA_BUNDLE").unwrap_or_else(|_| "(embedded)".into()),
            message: e.to_string(),
        })?;
    Ok(
        Builder::new().build_with_connector_fn(move |settings, components| {
            let mut connector = ConnectorBuilder::default()
                .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
                .tls_context(context.clone());
            connector.set_connector_settings(settings.cloned());
            if let Some(components) = components {
                connector.set_sleep_impl(components.sleep_impl());
            }
            connector.set_proxy_config(Some(ProxyConfig::from_env()));
            connector.build()
        }),
    )
}

/// An S3 client; `S3_FORCE_PATH_STYLE=true` selects path-style addressing (local moto).
pub fn s3_client(sdk: &SdkConfig) -> aws_sdk_s3::Client {
    let path_style = std::env::var("S3_FORCE_PATH_STYLE")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false);
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(path_style)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// An S3 Control client (P4's Batch Operations jobs). S3 Control's endpoint rules put the
/// account id in front of the host (`<account>.s3-control.<region>.amazonaws.com`); an
/// explicit `AWS_ENDPOINT_URL_S3_CONTROL` is used as given instead, because a private or
/// local S3 Control endpoint (the local stack's) is one host for every account and
/// `<account>.127.0.0.1` resolves nowhere.
pub fn s3control_client(sdk: &SdkConfig) -> aws_sdk_s3control::Client {
    let mut conf = aws_sdk_s3control::config::Builder::from(sdk);
    if let Some(url) = std::env::var("AWS_ENDPOINT_URL_S3_CONTROL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        conf = conf.endpoint_resolver(VerbatimEndpoint(url));
    }
    aws_sdk_s3control::Client::from_conf(conf.build())
}

/// A CloudFront client (P7's invalidations). CloudFront is global, its API signed for
/// us-east-1: without a region in the SDK configuration the client uses us-east-1.
/// (`AWS_ENDPOINT_URL` reaches it through the SDK configuration, as for every client.)
pub fn cloudfront_client(sdk: &SdkConfig) -> aws_sdk_cloudfront::Client {
    let mut conf = aws_sdk_cloudfront::config::Builder::from(sdk);
    if sdk.region().is_none() {
        conf = conf.region(aws_sdk_cloudfront::config::Region::from_static("us-east-1"));
    }
    aws_sdk_cloudfront::Client::from_conf(conf.build())
}

/// Resolves every S3 Control operation to one URL, without the account host prefix.
#[derive(Debug, Clone)]
pub struct VerbatimEndpoint(pub String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for VerbatimEndpoint {
    fn resolve_endpoint<'a>(
        &'a self,
        _params: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> aws_sdk_s3control::config::endpoint::EndpointFuture<'a> {
        aws_sdk_s3control::config::endpoint::EndpointFuture::ready(Ok(
            aws_smithy_types::endpoint::Endpoint::builder()
                .url(self.0.trim_end_matches('/').to_string())
                .build(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_roots_are_the_five_amazon_trust_services_certificates() {
        let text = std::str::from_utf8(AMAZON_TRUST_SERVICES).unwrap();
        assert_eq!(text.matches("-----BEGIN CERTIFICATE-----").count(), 5);
        assert_eq!(
            CertificateDer::pem_slice_iter(AMAZON_TRUST_SERVICES)
                .filter(Result::is_ok)
                .count(),
            5
        );
        assert!(trust_store(None).is_ok());
    }

    #[test]
    fn a_file_without_certificates_is_refused() {
        let dir = std::env::temp_dir().join(format!("ca-bundle-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bundle.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let err = trust_store(path.to_str()).expect_err("error").to_string();
        assert!(err.contains("holds no PEM certificate"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn an_unreadable_ca_bundle_is_named_in_the_error() {
        let err = trust_store(Some("/nonexistent/bundle.pem"))
            .expect_err("error")
            .to_string();
        assert!(err.contains("AWS_CA_BUNDLE") && err.contains("/nonexistent/bundle.pem"));
    }
}
