//! The reconciler Lambda: a schedule or an on-demand invocation mapped onto
//! [`records_workflows::reconcile`].

pub use records_workflows::reconcile::{Reconciler, Request};
