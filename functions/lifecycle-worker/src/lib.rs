//! The lifecycle worker Lambda: one SQS queue of OpenText lifecycle events (from the signed
//! intake and the poller alike), mapped onto [`records_workflows::lifecycle`].

pub mod handler;
