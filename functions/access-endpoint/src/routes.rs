//! Routing and the mapping between the use-case's outcomes and HTTP.

use opentext_client::Secret;
use records_domain::access::{AccessRefusal, parse_s3_uri};
use records_workflows::access::{
    AccessDeps, Credential, Denied, RequestContext, Target, audit_refusal, open,
};
use serde_json::json;

use crate::request::{Request, Response};

/// Answers one request. Never logs credentials or URLs: only the route, record and status.
pub async fn handle(deps: &AccessDeps, req: &Request) -> Response {
    let answer = route(deps, req).await;
    tracing::info!(
        method = %req.method,
        path = %req.path,
        status = answer.status,
        request_id = %req.request_id,
        "answered"
    );
    answer
}

async fn route(deps: &AccessDeps, req: &Request) -> Response {
    if req.method != "GET" {
        return refusal(&AccessRefusal::BadRequest {
            detail: format!("{} is not served here: GET only", req.method),
        })
        .with_status(405);
    }
    let segments: Vec<&str> = req.path.trim_matches('/').split('/').collect();
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
    let Some(credential) = credential_of(req) else {
        audit_refusal(deps, &target, &AccessRefusal::NoCredentials, &ctx).await;
        return refusal(&AccessRefusal::NoCredentials);
    };
    match open(deps, &credential, &target, &ctx).await {
        Ok(grant) => Response::redirect(grant.url.expose()),
        Err(Denied::Refused(r)) => refusal(&r),
        Err(Denied::Failed(why)) => {
            tracing::error!(reason = %why, request_id = %req.request_id, "could not check the request");
            Response::json(
                503,
                &json!({"status": 503, "code": "unavailable", "message": "OpenText or AWS could not be asked; nothing was handed out, try again", "request_id": req.request_id}),
            )
        }
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
