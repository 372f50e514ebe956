//! Routing and the mapping between the use-case's outcomes and HTTP.

use opentext_client::Secret;
use records_domain::access::{AccessRefusal, parse_s3_uri};
use records_workflows::access::{Credential, Denied, RequestContext, Target, audit_refusal, open};
use serde_json::json;

use crate::request::{Request, Response};
use crate::{App, browser};

/// Answers one request. Never logs credentials or URLs: only the route, record and status.
pub async fn handle(app: &App, req: &Request) -> Response {
    let answer = route(app, req).await;
    tracing::info!(
        method = %req.method,
        path = %req.path,
        status = answer.status,
        request_id = %req.request_id,
        "answered"
    );
    answer
}

async fn route(app: &App, req: &Request) -> Response {
    let deps = &app.access;
    let segments: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    if let Some(answer) = browser_route(app, req, &segments).await {
        return answer;
    }
    if req.method != "GET" {
        return refusal(&AccessRefusal::BadRequest {
            detail: format!("{} is not served here: GET only", req.method),
        })
        .with_status(405);
    }
    let target = match segments.as_slice() {
        ["records", id, "content"] => match id.parse::<u64>() {
            Ok(n) if n > 0 => Target::Record(n),
            _ => {
                return refusal(&AccessRefusal::BadRequest {
                    detail: format!("{id:?} is not a node id"),
                });
            }
        },
        ["content"] => match req.query.get("uri").map(|u| parse_s3_uri(u)) {
            Some(Ok(v)) => Target::Version(v),
            Some(Err(detail)) => return refusal(&AccessRefusal::BadRequest { detail }),
            None => {
                return refusal(&AccessRefusal::BadRequest {
                    detail: "GET /content needs ?uri=s3://bucket/key?versionId=… (URL-encoded)"
                        .into(),
                });
            }
        },
        _ => {
            return Response::json(
                404,
                &json!({"status": 404, "code": "no_route", "message": "GET /records/{node_id}/content or GET /content?uri=…"}),
            );
        }
    };
    let ctx = RequestContext {
        request_id: req.request_id.clone(),
        source_ip: req.source_ip.clone(),
        user_agent: req.user_agent.clone(),
    };
    let session_user = app
        .browser
        .as_ref()
        .and_then(|b| browser::session_of(b, req))
        .map(|s| s.user);
    let Some(credential) = credential_of(req).or_else(|| {
        app.browser
            .as_ref()
            .and_then(|b| browser::credential_of(b, req))
    }) else {
        audit_refusal(deps, &target, &AccessRefusal::NoCredentials, &ctx).await;
        return answer_refusal(req, &AccessRefusal::NoCredentials, None);
    };
    match open(deps, &credential, &target, &ctx).await {
        Ok(grant) => Response::redirect(grant.url.expose()),
        Err(Denied::Refused(r)) => answer_refusal(req, &r, session_user.as_deref()),
        Err(Denied::Failed(why)) => {
            tracing::error!(reason = %why, request_id = %req.request_id, "could not check the request");
            Response::json(
                503,
                &json!({"status": 503, "code": "unavailable", "message": "OpenText or AWS could not be asked; nothing was handed out, try again", "request_id": req.request_id}),
            )
        }
    }
}

/// The browser's pages; `None` for the API's routes.
async fn browser_route(app: &App, req: &Request, segments: &[&str]) -> Option<Response> {
    let page = matches!(
        (req.method.as_str(), segments),
        ("GET", [""] | ["login"] | ["callback"] | ["folders", _]) | ("POST", ["logout"])
    );
    if !page {
        return None;
    }
    let Some(cfg) = app.browser.as_ref() else {
        return Some(Response::json(
            404,
            &json!({"status": 404, "code": "no_browser", "message": "this stack configures no OTDS sign-in; use the API with an OTCSTicket or bearer token"}),
        ));
    };
    Some(match (req.method.as_str(), segments) {
        ("POST", ["logout"]) => browser::logout(),
        (_, ["login"]) => browser::login(cfg, req),
        (_, ["callback"]) => browser::callback(cfg, &app.access, req).await,
        (_, ["folders", id]) => match id.parse::<i64>() {
            Ok(id) if id > 0 => browser::folder(cfg, &app.access, req, id).await,
            _ => browser::refusal_page(
                &AccessRefusal::BadRequest {
                    detail: format!("{id:?} is not a folder id"),
                },
                None,
            ),
        },
        _ => browser::home(cfg, req),
    })
}

fn answer_refusal(req: &Request, r: &AccessRefusal, user: Option<&str>) -> Response {
    if browser::wants_html(req) {
        browser::refusal_page(r, user)
    } else {
        refusal(r)
    }
}

/// `OTCSTicket: …` or `Authorization: Bearer …` (an OTDS token).
pub fn credential_of(req: &Request) -> Option<Credential> {
    if let Some(t) = req.header("otcsticket").filter(|t| !t.trim().is_empty()) {
        return Some(Credential::OtcsTicket(Secret::new(t.trim())));
    }
    let auth = req.header("authorization")?;
    let (scheme, token) = auth.trim().split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .then(|| Credential::Bearer(Secret::new(token.trim())))
}

fn refusal(r: &AccessRefusal) -> Response {
    let mut resp = Response::json(r.status(), &r.body());
    if r.status() == 401 {
        resp.headers.push((
            "www-authenticate".into(),
            "Bearer realm=\"records-bridge\"".into(),
        ));
    }
    resp
}

trait WithStatus {
    fn with_status(self, status: u16) -> Self;
}

impl WithStatus for Response {
    fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &[(&str, &str)]) -> Request {
        Request {
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn credentials_come_from_the_ticket_or_a_bearer_token() {
        assert!(matches!(
            credential_of(&req(&[("otcsticket", "abc")])),
            Some(Credential::OtcsTicket(t)) if t.expose() == "abc"
        ));
        assert!(matches!(
            credential_of(&req(&[("authorization", "bearer tok")])),
            Some(Credential::Bearer(t)) if t.expose() == "tok"
        ));
        assert!(credential_of(&req(&[("authorization", "Basic eDp5")])).is_none());
        assert!(credential_of(&req(&[("authorization", "Bearer ")])).is_none());
        assert!(credential_of(&req(&[])).is_none());
    }
}
