//! records-domain: the pure logic of records-bridge, with no I/O.
//!
//! - [`policy`]: the YAML policy, its validation and evaluation into a [`Plan`];
//! - [`workflow`]: what every workflow's states are ([`WorkflowState`]: typed, stored by
//!   name, one table of legal transitions per workflow) and the declaration's (P1);
//! - [`archive`]: P2's pure part: archive keys, the progress saved per step, and the
//!   archive's states ([`archive::ArchiveState`]) with their table;
//! - [`audit`]: audit events, one JSON line each;
//! - [`idempotency`]: keys per object version and OpenText external identities;
//! - [`callback_signature`]: HMAC-SHA256 signatures of OpenText event callbacks;
//! - [`s3key`]: decoding object keys from S3 event notifications;
//! - [`business_event`]: P4's business events (`case.closed` on a business object);
//! - [`retention`]: RSI + record date → Object Lock retain-until, never shortening COMPLIANCE;
//! - [`publication`]: P7's gates, distribution paths and workflow states;
//! - [`evidence`]: P6's package requests and the BagIt bag's text;
//! - [`drift`]: P3 reconciliation, classifying disagreements between OpenText and S3;
//! - [`tags`]: the S3 tags records-bridge writes and reads;
//! - [`self_writes`]: S3 tagging events caused by records-bridge's own writes (dropped).
//!
//! Clocks, ids and hashes of content come from the caller.

pub mod access;
pub mod archive;
pub mod audit;
pub mod business_event;
pub mod callback_signature;
pub mod disposition;
pub mod drift;
pub mod evidence;
pub mod idempotency;
pub mod lifecycle;
pub mod policy;
pub mod poll;
pub mod publication;
pub mod retention;
pub mod s3key;
pub mod self_writes;
pub mod tags;
pub mod text;
pub mod workflow;

pub use audit::{Actor, ActorKind, AuditAction, AuditEvent, Hashes, Outcome, RecordRef};
pub use business_event::{BusinessEvent, BusinessEventError, BusinessObject};
pub use idempotency::{EXTERNAL_IDENTITY_TYPE, IdempotencyKey, ObjectVersion, normalize_etag};
pub use lifecycle::{LifecycleEvent, LifecycleEventError, LifecycleEventType};
pub use policy::{Decision, ObjectFacts, Plan, PlanError, Policy, PolicyError, ValidationError};
pub use s3key::{KeyDecodeError, decode_s3_event_key};
pub use self_writes::{SelfWriters, SelfWritersError};
pub use workflow::{
    DeclarationState, IllegalTransition, StateKind, TRANSITIONS, WorkflowState, can_transition,
    transition,
};
