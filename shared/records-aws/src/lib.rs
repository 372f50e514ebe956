//! records-aws
