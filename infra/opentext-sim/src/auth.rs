//! OTCS tickets (idle expiry, refreshed on every response), OTDS tokens and the `/v1/auth` calls.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};
use crate::model::User;
use crate::request::{ApiReq, Caller};
use crate::state::{AppState, Sim, lock};

struct Session {
    user_id: i64,
    last_used: Instant,
}

/// Tickets are self-describing (`session id | sequence | MAC`), so handing out a fresh one on
/// every response costs no memory; expiry is tracked per session.
pub struct Tickets {
    secret: [u8; 32],
    sessions: HashMap<u64, Session>,
    /// OTDS token → its OTCS session, so repeated bearer calls reuse one session.
    by_token: HashMap<String, u64>,
    next_session: u64,
    next_seq: u64,
}

pub enum TicketCheck {
    Valid { session: u64, user_id: i64 },
    Expired,
    Invalid,
}

impl Default for Tickets {
    fn default() -> Self {
        Self {
            secret: rand::rng().random(),
            sessions: HashMap::new(),
            by_token: HashMap::new(),
            next_session: 1,
            next_seq: 1,
        }
    }
}

impl Tickets {
    fn mac(&self, sid: u64, seq: u64) -> [u8; 16] {
        let mut h = Sha256::new();
        h.update(self.secret);
        h.update(sid.to_be_bytes());
        h.update(seq.to_be_bytes());
        let d = h.finalize();
        let mut out = [0u8; 16];
        out.copy_from_slice(&d[..16]);
        out
    }

    pub fn open_session(&mut self, user_id: i64) -> u64 {
        let sid = self.next_session;
        self.next_session += 1;
        self.sessions.insert(
            sid,
            Session {
                user_id,
                last_used: Instant::now(),
            },
        );
        sid
    }

    /// The live session of an OTDS token, or a new one.
    pub fn session_for_token(&mut self, token: &str, user_id: i64, idle: Duration) -> u64 {
        if let Some(sid) = self.by_token.get(token).copied()
            && let Some(s) = self.sessions.get_mut(&sid)
            && s.last_used.elapsed() <= idle
        {
            s.last_used = Instant::now();
            return sid;
        }
        let sid = self.open_session(user_id);
        self.by_token.insert(token.to_string(), sid);
        sid
    }

    pub fn close_session(&mut self, sid: u64) {
        self.sessions.remove(&sid);
    }

    /// A new ticket string for an existing session.
    pub fn mint(&mut self, sid: u64) -> String {
        let seq = self.next_seq;
        self.next_seq += 1;
        let mut raw = Vec::with_capacity(32);
        raw.extend_from_slice(&sid.to_be_bytes());
        raw.extend_from_slice(&seq.to_be_bytes());
        raw.extend_from_slice(&self.mac(sid, seq));
        hex::encode(raw)
    }

    pub fn check(&mut self, ticket: &str, idle: Duration) -> TicketCheck {
        let Ok(raw) = hex::decode(ticket.trim()) else {
            return TicketCheck::Invalid;
        };
        if raw.len() != 32 {
            return TicketCheck::Invalid;
        }
        let sid = u64::from_be_bytes(raw[0..8].try_into().unwrap_or_default());
        let seq = u64::from_be_bytes(raw[8..16].try_into().unwrap_or_default());
        if raw[16..] != self.mac(sid, seq) {
            return TicketCheck::Invalid;
        }
        match self.sessions.get_mut(&sid) {
            Some(s) if s.last_used.elapsed() <= idle => {
                s.last_used = Instant::now();
                TicketCheck::Valid {
                    session: sid,
                    user_id: s.user_id,
                }
            }
            Some(_) => {
                self.sessions.remove(&sid);
                TicketCheck::Expired
            }
            None => TicketCheck::Expired,
        }
    }

    /// Admin: every issued ticket becomes invalid.
    pub fn expire_all(&mut self) -> usize {
        let n = self.sessions.len();
        self.sessions.clear();
        self.by_token.clear();
        n
    }
}

/// Resolves the caller from `OTCSTicket`, `OTDSTicket` or `Authorization: Bearer`.
pub fn authenticate(sim: &Sim, headers: &HeaderMap) -> Result<(Caller, u64), ApiError> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(t) = header("otcsticket").filter(|t| !t.is_empty()) {
        let check = lock(&sim.tickets).check(t, sim.ticket_idle);
        return match check {
            TicketCheck::Valid { session, user_id } => Ok((caller(sim, user_id)?, session)),
            TicketCheck::Expired => Err(ApiError::unauthorized(
                "Authentication Required. Your session has expired; please log in again.",
            )),
            TicketCheck::Invalid => Err(ApiError::unauthorized(
                "Authentication Required. Invalid ticket.",
            )),
        };
    }
    let bearer = header("authorization").and_then(|a| {
        a.strip_prefix("Bearer ")
            .or_else(|| a.strip_prefix("bearer "))
            .map(str::trim)
    });
    if let Some(token) = header("otdsticket").or(bearer).filter(|t| !t.is_empty()) {
        let user = lock(&sim.otds_tokens).get(token).copied();
        let Some(user_id) = user else {
            return Err(ApiError::unauthorized(
                "Authentication Required. Invalid or expired OTDS token.",
            ));
        };
        let sid = lock(&sim.tickets).session_for_token(token, user_id, sim.ticket_idle);
        return Ok((caller(sim, user_id)?, sid));
    }
    Err(ApiError::unauthorized("Authentication Required"))
}

fn caller(sim: &Sim, user_id: i64) -> Result<Caller, ApiError> {
    let store = sim.read();
    let u = store
        .users
        .get(&user_id)
        .ok_or_else(|| ApiError::unauthorized("Authentication Required"))?;
    Ok(Caller {
        id: u.id,
        name: u.name.clone(),
        admin: u.admin,
    })
}

pub fn user_json(u: &User) -> Value {
    json!({
        "id": u.id, "name": u.name, "type": 0, "type_name": "User",
        "first_name": u.first_name, "last_name": u.last_name, "middle_name": "",
        "display_name": format!("{} {}", u.first_name, u.last_name).trim(),
        "business_email": u.email, "group_id": u.group_id, "deleted": false,
        "initials": "", "title": "", "office_location": "", "time_zone": -1,
        "privilege_login": true, "privilege_public_access": true,
        "privilege_system_admin_rights": u.admin, "privilege_user_admin_rights": u.admin,
        "privilege_modify_users": u.admin, "privilege_modify_groups": u.admin,
        "privilege_content_manager": u.admin, "privilege_grant_discovery": u.admin,
    })
}

/// `POST /api/v1/auth`: form `username`, `password`, optional `domain`.
pub async fn login(State(sim): State<AppState>, req: ApiReq) -> ApiResult {
    let (Some(name), Some(pass)) = (req.params.str("username"), req.params.str("password")) else {
        let missing = if req.params.str("username").is_none() {
            "username"
        } else {
            "password"
        };
        return Err(ApiError::server(format!("Argument {missing} is required")));
    };
    let user_id = {
        let store = sim.read();
        match store.user_by_name(&name) {
            Some(u) if u.password == pass => u.id,
            _ => {
                return Err(ApiError::unauthorized(
                    "Invalid username/password specified.",
                ));
            }
        }
    };
    let sid = lock(&sim.tickets).open_session(user_id);
    let ticket = lock(&sim.tickets).mint(sid);
    req.ctx.set_session(sid, user_id, &name);
    Ok(Json(json!({ "ticket": ticket })).into_response())
}

/// `GET /api/v1/auth`: who am I (also turns an OTDS token into an OTCS ticket header).
pub async fn whoami(State(sim): State<AppState>, req: ApiReq) -> ApiResult {
    let caller = req.caller()?;
    let store = sim.read();
    let u = store
        .users
        .get(&caller.id)
        .ok_or_else(|| ApiError::unauthorized("Authentication Required"))?;
    Ok(Json(json!({ "data": user_json(u) })).into_response())
}

/// `DELETE /api/v1/auth`: ends the session; the ticket stops working.
pub async fn logout(State(sim): State<AppState>, req: ApiReq) -> ApiResult {
    req.caller()?;
    if let Some(sid) = req.ctx.session() {
        lock(&sim.tickets).close_session(sid);
        req.ctx.clear_session();
    }
    Ok(Json(json!({})).into_response())
}

/// `POST /otdsws/rest/authentication/credentials` with JSON `{"userName","password"}`.
pub async fn otds_credentials(State(sim): State<AppState>, body: Option<Json<Value>>) -> Response {
    let body = body.map(|b| b.0).unwrap_or(Value::Null);
    let name = body
        .get("userName")
        .or(body.get("user_name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let pass = body.get("password").and_then(Value::as_str).unwrap_or("");
    let user = {
        let store = sim.read();
        store
            .user_by_name(name)
            .filter(|u| u.password == pass)
            .map(|u| (u.id, u.name.clone()))
    };
    match user {
        Some((id, uname)) => {
            let token = mint_otds_token(&sim, id);
            Json(json!({
                "token": token, "ticket": token, "userId": uname, "user_id": uname,
                "resourceID": "otcs", "failureReason": null, "passwordExpired": false,
                "continuation": false, "continuationContext": null, "continuationData": null,
            }))
            .into_response()
        }
        None => (
            axum::http::StatusCode::UNAUTHORIZED,
            Json(json!({"status": 1000, "error": "Invalid username or password", "errorDetails": null})),
        )
            .into_response(),
    }
}

pub fn mint_otds_token(sim: &Sim, user_id: i64) -> String {
    let bytes: [u8; 24] = rand::rng().random();
    let token = format!("*OTDSSSO*{}", hex::encode(bytes));
    lock(&sim.otds_tokens).insert(token.clone(), user_id);
    token
}
