//! S3 Batch Operations task for large dispositions (being built).
fn main() {}
