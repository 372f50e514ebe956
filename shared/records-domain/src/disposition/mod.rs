//! P4 disposition: whether a record's S3 content may be destroyed now, and the signed
//! disposition certificate that says what was destroyed, when, and on whose approval.
//!
//! - [`decide`]: holds (OpenText and S3), retention and the disposition date → destroy or
//!   refuse with every reason;
//! - [`DispositionCertificate`]: the certificate of one disposition batch, canonicalised per
//!   RFC 8785 (JCS) into [`CanonicalCertificate`] and its SHA-256;
//! - [`SignedCertificate`]: the envelope (certificate, hash, signature, key id, algorithm)
//!   and [`verify`], which checks it against a public key offline.
//!
//! Pure: the caller reads OpenText and S3, deletes, signs (KMS) and stores.

mod certificate;
mod decision;
mod envelope;

#[cfg(test)]
mod certificate_tests;
#[cfg(test)]
mod decision_tests;

pub use certificate::{
    Approval, ApprovalSource, CERTIFICATE_SCHEMA, CanonicalCertificate, CanonicalError,
    CertificateVersion, CertifiedRecord, DispositionCertificate, RefusalNote, RefusedRecord,
    VersionDisposal,
};
pub use decision::{
    DispositionDecision, DispositionInputs, RefusalReason, VersionPresence, VersionState, decide,
};
pub use envelope::{
    ENVELOPE_SCHEMA, EnvelopeError, SignedCertificate, SigningAlgorithm, VerifiedCertificate,
    VerifyError, verify,
};
