//! The poller Lambda: a schedule (or an on-demand invocation) mapped onto
//! [`records_workflows::poll`].

pub use records_workflows::poll::{Poller, Watch};
