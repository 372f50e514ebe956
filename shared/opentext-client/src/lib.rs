//! Async client for the OpenText Content Server / Extended ECM REST API,
//! including Records Management (classifications, holds, RSIs, dispositions) and search.
//!
//! * one [`Client`] per service account; [`Client::as_identity`] gives cheap
//!   per-user handles (OTDS bearer token / ticket) on the same connection pool;
//! * uploads stream from any [`ContentSource`]; large ones use the chunked API
//!   with memory bounded by one part;
//! * transient failures are retried with backoff and jitter within an optional
//!   deadline ([`Client::with_deadline`]); errors keep OpenText's status and message.
//!
//! See the crate README for examples.

mod audit;
mod auth;
mod categories;
mod client;
mod content;
mod disposition;
mod envelope;
mod error;
mod holds;
mod http;
pub mod model;
mod names;
mod nodes;
pub mod otds;
mod permissions;
mod retry;
mod rm;
mod rsis;
mod search;
mod upload;
mod versions;

pub use audit::AuditQuery;
pub use auth::{Credentials, Identity, Secret};
pub use client::{Client, ClientBuilder};
pub use content::{
    BytesSource, ContentChunks, ContentReader, ContentSource, FileSource, RangeReader,
    ReaderSource, guess_mime_type,
};
pub use error::{Error, Result};
pub use names::same_name;
pub use nodes::{CreateOptions, Download, ListOptions, NodeUpdate, Provenance, UploadMode};
pub use otds::{OtdsToken, Pkce};
pub use retry::RetryPolicy;
pub use upload::UploadSessionHook;
pub use versions::VersionOptions;

#[cfg(test)]
mod send_check {
    //! Calls must be spawnable on a multi-threaded runtime.
    use super::*;
    use std::sync::Arc;

    fn assert_send<T: Send>(_: T) {}

    #[allow(dead_code)]
    fn futures_are_send(c: Client, src: Arc<dyn ContentSource>) {
        assert_send(c.get_node(1));
        assert_send(c.create_document(1, "a", src.clone(), &CreateOptions::default()));
        assert_send(c.add_version(1, src, &VersionOptions::default()));
        assert_send(c.download(1));
        assert_send(c.find_child_by_name(1, "a"));
        assert_send(c.rm_classifications(1));
    }
}
