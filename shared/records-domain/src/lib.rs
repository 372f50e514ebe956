//! records-domain: the pure logic of records-bridge, with no I/O.
//!
//! - [`policy`]: the YAML policy, its validation and evaluation into a [`Plan`];
//! - [`workflow`]: declaration states, the legal transitions, the work item;
//! - [`audit`]: audit events, one JSON line each;
//! - [`idempotency`]: keys per object version and OpenText external identities;
//! - [`callback_signature`]: HMAC-SHA256 signatures of OpenText event callbacks;
//! - [`s3key`]: decoding object keys from S3 event notifications;
//! - [`retention`]: RSI + record date → Object Lock retain-until, never shortening COMPLIANCE;
//! - [`drift`]: P3 reconciliation, classifying disagreements between OpenText and S3.
//!
//! Clocks, ids and hashes of content come from the caller.

pub mod archive;
pub mod audit;
pub mod callback_signature;
pub mod drift;
pub mod idempotency;
pub mod lifecycle;
pub mod policy;
pub mod poll;
pub mod retention;
pub mod s3key;
pub mod text;
pub mod workflow;

pub use audit::{Actor, ActorKind, AuditAction, AuditEvent, Hashes, Outcome, RecordRef};
pub use idempotency::{EXTERNAL_IDENTITY_TYPE, IdempotencyKey, ObjectVersion, normalize_etag};
pub use lifecycle::{LifecycleEvent, LifecycleEventError, LifecycleEventType};
pub use policy::{Decision, ObjectFacts, Plan, PlanError, Policy, PolicyError, ValidationError};
pub use s3key::{KeyDecodeError, decode_s3_event_key};
pub use workflow::{
    ClaimError, DeclarationState, IllegalTransition, Now, StateKind, TRANSITIONS, WorkItem,
    can_transition, transition,
};
