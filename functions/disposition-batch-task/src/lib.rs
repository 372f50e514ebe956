//! The S3 Batch Operations task handler (being built).
