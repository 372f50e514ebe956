//! P4, second half: approved disposition destroys the S3 content of records, with a signed
//! certificate. See [`checks`] for what is re-read before anything is deleted.

pub mod checks;
