//! P6 evidence packages, the pure part: what a package request is and which package it
//! names ([`request`]), and the BagIt bag's text: its tag files, manifests and payload paths
//! ([`bag`]). The streaming of the bag into the evidence bucket is the workflow's.

pub mod bag;
pub mod request;

pub use bag::{Algorithm, BagFile, BagInfo};
pub use request::{PackageRequest, RequestError, Selection, Versions};
