//! The use-case layer of records-bridge: each pattern a module, over one runner of claimed,
//! leased, resumable work. Below it: the domain (`records-domain`, no I/O) and one adapter crate
//! per outside system (`records-aws`, `opentext-client`); above it: thin Lambda functions that
//! map their trigger's events onto these use-cases. No Lambda types here.
//!
//! - [`runner`]: claim → drive → give back or fail, and the one decision of what retries;
//! - [`invocation`]: an invocation's time budget and the one clock;
//! - [`declare`]: P1 declare on upload (and P3's S3 → OpenText side: reference records, new
//!   versions, delete markers);
//! - [`lifecycle`]: OpenText lifecycle events routed to [`archive`] (P2 archive tier) and
//!   [`governance`] (P3: holds, retention and disposition status on S3);
//! - [`publication`]: P7 gated publication (OpenText → publication bucket → CloudFront);
//! - [`business`]: P4 business events starting their records' retention (OpenText record
//!   date and status, then P3's retention sync on S3);
//! - [`reconcile`]: P3's reconciler (records ⇄ S3 versions: drift found, safe repairs made);
//! - [`poll`]: lifecycle events derived from OpenText's REST API where no callbacks are sent;
//! - [`intake`]: signed OpenText event callbacks verified and put on the lifecycle queue.

pub mod access;
pub mod archive;
pub mod business;
pub mod declare;
pub mod disposition;
pub mod governance;
pub mod intake;
pub mod invocation;
pub mod lifecycle;
pub mod opentext_account;
pub mod opentext_content;
pub mod poll;
pub mod publication;
pub mod reconcile;
pub mod runner;

pub use invocation::{Invocation, now_rfc3339};
pub use runner::StepError;
