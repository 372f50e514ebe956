//! `records-certificate`: verifies a P4 disposition certificate offline.
//!
//! `records-certificate verify --certificate <path | s3://bucket/key>
//!   (--public-key <PEM or DER file> | --kms-key-id <id>) [--check-s3]`
//!
//! Recomputes the certificate's RFC 8785 canonical bytes and SHA-256, checks the hash and
//! the signature, and with `--check-s3` that every version it lists as destroyed is gone.
//! Exit codes: 0 verified, 1 not verified (the report says why), 2 the check could not be
//! run (usage, unreadable inputs, AWS unreachable).

mod check_s3;
mod inputs;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{ArgGroup, Args, Parser, Subcommand};
use records_domain::disposition::{SignedCertificate, verify};

use crate::inputs::{CertificateSource, public_key_der};
use crate::report::Report;

#[derive(Parser)]
#[command(
    name = "records-certificate",
    about = "Verify records-bridge disposition certificates"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify a certificate's hash and signature (and, with --check-s3, the deletions).
    Verify(VerifyArgs),
}

#[derive(Args)]
#[command(group(ArgGroup::new("key").required(true).args(["public_key", "kms_key_id"])))]
struct VerifyArgs {
    /// The signed certificate: a file, or s3://bucket/key.
    #[arg(long, value_name = "PATH | s3://BUCKET/KEY")]
    certificate: String,
    /// The signer's public key: PEM (PUBLIC KEY) or DER (SubjectPublicKeyInfo) file.
    #[arg(long, value_name = "FILE")]
    public_key: Option<PathBuf>,
    /// Read the public key from KMS (GetPublicKey) instead.
    #[arg(long, value_name = "KEY ID | ARN | ALIAS")]
    kms_key_id: Option<String>,
    /// Also check in S3 that every version listed as destroyed is gone.
    #[arg(long)]
    check_s3: bool,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let Command::Verify(args) = cli.command;
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("records-certificate: cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(report) => {
            print!("{report}");
            if report.verified() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("records-certificate: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// AWS clients, made only when a step needs them.
struct Aws {
    sdk: Option<aws_config::SdkConfig>,
}

impl Aws {
    async fn sdk(&mut self) -> Result<&aws_config::SdkConfig> {
        if self.sdk.is_none() {
            self.sdk = Some(records_aws::config::load().await?);
        }
        Ok(self.sdk.as_ref().expect("just set"))
    }

    async fn s3(&mut self) -> Result<aws_sdk_s3::Client> {
        Ok(records_aws::config::s3_client(self.sdk().await?))
    }
}

async fn run(args: VerifyArgs) -> Result<Report> {
    let source = CertificateSource::parse(&args.certificate)?;
    let mut aws = Aws { sdk: None };
    let bytes = match &source {
        CertificateSource::File(path) => {
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))?
        }
        CertificateSource::S3 { bucket, key } => {
            records_aws::certificate_store::read_object(&aws.s3().await?, bucket, key)
                .await
                .with_context(|| format!("reading {source}"))?
        }
    };
    let (spki, key_name) = match (&args.public_key, &args.kms_key_id) {
        (Some(path), _) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let der = public_key_der(&bytes).with_context(|| format!("{}", path.display()))?;
            (der, path.display().to_string())
        }
        (None, Some(key_id)) => {
            let kms = aws_sdk_kms::Client::new(aws.sdk().await?);
            let key = records_aws::certificate_signer::fetch_public_key(&kms, key_id)
                .await
                .with_context(|| format!("reading the public key of KMS key {key_id}"))?;
            (key.spki_der, format!("KMS {}", key.key_id))
        }
        (None, None) => anyhow::bail!("--public-key or --kms-key-id is required"),
    };

    let mut report = Report::new(source.to_string(), key_name);
    let envelope = match SignedCertificate::from_json(&bytes) {
        Ok(envelope) => envelope,
        Err(e) => {
            report.fail(e.to_string());
            return Ok(report);
        }
    };
    report.envelope(&envelope);
    match verify(&envelope, &spki) {
        Ok(verified) => {
            report.verified_certificate(&verified);
            if args.check_s3 {
                let s3 = aws.s3().await?;
                let checks = check_s3::check_versions(&s3, &verified.certificate).await;
                report.s3_checks(checks);
            }
        }
        Err(e) => report.fail(e.to_string()),
    }
    Ok(report)
}
