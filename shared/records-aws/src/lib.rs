//! AWS adapters for records-bridge. Each module wraps one AWS service behind the small
//! surface the functions need, so the handlers stay free of SDK plumbing:
//! - [`workflow_store`]: DynamoDB claims, leases, conditional transitions, TTL;
//! - [`s3_objects`]: object facts, streaming reads that hash while they read, tagging;
//! - [`replay_guard`]: refusal of replayed callback event ids (conditional writes, TTL);
//! - [`lifecycle_queue`]: the queue of OpenText lifecycle events (intake, poller → worker);
//! - [`links`]: which S3 object versions each OpenText record governs (P3);
//! - [`object_lock`]: legal holds and retention on object versions, read via HeadObject;
//! - [`archive_copies`]: P2's archive copies: PutObject with SHA-256 and Object Lock,
//!   HeadObject with their checksum;
//! - [`publication_bucket`]: P7's publication bucket: streamed PutObject with SHA-256,
//!   HeadObject with its checksum, withdrawal of every version and delete marker of a key;
//! - [`cdn`]: P7's CloudFront invalidations (idempotent by caller reference);
//! - [`secrets`]: the OpenText service account from Secrets Manager;
//! - [`signing_keys`]: the callback signing keys from Secrets Manager, re-read when stale;
//! - [`snapshots`]: the poller's per-node snapshots (conditional on their revision);
//! - [`policy_source`]: the records policy's text and version (SSM parameter or S3 object);
//! - [`config`]: SDK clients built once from the environment.

pub mod archive_copies;
pub mod audit_log;
pub mod batch_operations;
pub mod business_index;
pub mod cdn;
pub mod certificate_signer;
pub mod certificate_store;
pub mod config;
pub mod hashing;
pub mod lifecycle_queue;
pub mod links;
pub mod object_lock;
pub mod policy_handle;
pub mod policy_source;
pub mod publication_bucket;
pub mod replay_guard;
pub mod s3_objects;
pub mod secrets;
pub mod signing_keys;
pub mod snapshots;
pub mod workflow_store;
