//! P5's endpoint behind a Lambda Function URL: the trigger's HTTP request mapped onto the
//! access use-case (`records_workflows::access`), its outcome mapped back onto HTTP.
//!
//! - `GET /records/{node_id}/content`: the record's content;
//! - `GET /content?uri=s3://bucket/key?versionId=…` (the URI URL-encoded): one governed
//!   version;
//!
//! each with an `OTCSTicket` header, `Authorization: Bearer <OTDS token>` or the browser's
//! session cookie. A grant is a `303` to a presigned GET; a refusal a JSON body (a page for
//! a browser) with its status (401, 403, 404, 410, 423). The browser flow ([`browser`]):
//! `GET /` (sign in), `/login` → OTDS → `/callback`, `/folders/{id}`, `POST /logout`.

pub mod browser;
pub mod html;
pub mod request;
pub mod routes;
pub mod session;

/// Everything a request may need, built once per cold start.
pub struct App {
    pub access: records_workflows::access::AccessDeps,
    /// The browser flow (None: the stack configures no OTDS client; API only).
    pub browser: Option<browser::BrowserConfig>,
}
