//! P5's endpoint behind a Lambda Function URL: the trigger's HTTP request mapped onto the
//! access use-case (`records_workflows::access`), its outcome mapped back onto HTTP.
//!
//! - `GET /records/{node_id}/content`: the record's content;
//! - `GET /content?uri=s3://bucket/key?versionId=…` (the URI URL-encoded): one governed
//!   version;
//!
//! each with an `OTCSTicket` header or `Authorization: Bearer <OTDS token>`. A grant is a
//! `303` to a presigned GET; a refusal a JSON body with its status (401, 403, 404, 410, 423).

pub mod request;
pub mod routes;
