//! Credentials, identities and the shared OTCS ticket (single-flight re-auth).

use std::fmt;

use reqwest::header::HeaderValue;
use tokio::sync::Mutex;

use crate::error::{Error, Result};

/// A secret string (password, ticket, token). `Debug`/`Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The raw value; only for putting it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A header value flagged sensitive so hyper/reqwest never print it.
    pub(crate) fn header_value(&self, prefix: &str) -> Result<HeaderValue> {
        let mut v = HeaderValue::from_str(&format!("{prefix}{}", self.0))
            .map_err(|_| Error::InvalidArgument("secret is not a valid header value".into()))?;
        v.set_sensitive(true);
        Ok(v)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::new(s)
    }
}

/// Content Server user name and password for `POST /api/v1/auth`.
#[derive(Clone)]
pub struct Credentials {
    /// Login name.
    pub username: String,
    password: Secret,
    /// Optional authentication domain.
    pub domain: Option<String>,
}

impl Credentials {
    /// Credentials without a domain.
    pub fn new(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        Credentials {
            username: username.into(),
            password: password.into(),
            domain: None,
        }
    }

    /// Sets the optional `domain` form field.
    pub fn with_domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    pub(crate) fn form(&self) -> Vec<(String, String)> {
        let mut f = vec![
            ("username".to_string(), self.username.clone()),
            ("password".to_string(), self.password.expose().to_string()),
        ];
        if let Some(d) = &self.domain {
            f.push(("domain".to_string(), d.clone()));
        }
        f
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("domain", &self.domain)
            .finish()
    }
}

/// Who a call is made as.
#[derive(Clone, PartialEq, Eq)]
pub enum Identity {
    /// The client's own credentials: an `OTCSTicket` obtained by `POST /api/v1/auth`,
    /// refreshed from response headers and re-obtained once on 401.
    Service,
    /// An OTDS OAuth/JWT access token, sent as `Authorization: Bearer` (end-user calls).
    Bearer(Secret),
    /// An OTDS SSO ticket, sent as `OTDSTicket` (end-user calls).
    OtdsTicket(Secret),
    /// A ready-made OTCS ticket owned by someone else (no re-auth possible).
    OtcsTicket(Secret),
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Identity::Service => "Service",
            Identity::Bearer(_) => "Bearer(<redacted>)",
            Identity::OtdsTicket(_) => "OtdsTicket(<redacted>)",
            Identity::OtcsTicket(_) => "OtcsTicket(<redacted>)",
        })
    }
}

/// The service ticket shared by every handle of one client.
///
/// `generation` counts logins: a caller that saw a 401 while using generation
/// `g` logs in again only if the generation is still `g`, so N concurrent 401s
/// cause exactly one `POST /api/v1/auth`. The mutex is held across that login
/// on purpose: the others wait for it and then use the new ticket.
#[derive(Default)]
pub(crate) struct TicketState {
    slot: Mutex<TicketSlot>,
}

#[derive(Default)]
struct TicketSlot {
    ticket: Option<Secret>,
    generation: u64,
}

impl TicketState {
    /// The current ticket, logging in first if there is none.
    pub(crate) async fn current<F, Fut>(&self, login: F) -> Result<(Secret, u64)>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Secret>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(t) = &slot.ticket {
            return Ok((t.clone(), slot.generation));
        }
        let t = login().await?;
        slot.generation += 1;
        slot.ticket = Some(t.clone());
        Ok((t, slot.generation))
    }

    /// Re-authenticates unless someone already did since `seen_generation`.
    pub(crate) async fn renew<F, Fut>(
        &self,
        seen_generation: u64,
        login: F,
    ) -> Result<(Secret, u64)>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Secret>>,
    {
        let mut slot = self.slot.lock().await;
        if slot.generation == seen_generation || slot.ticket.is_none() {
            slot.ticket = None;
            let t = login().await?;
            slot.generation += 1;
            slot.ticket = Some(t);
        }
        let t = slot.ticket.clone().expect("ticket set above");
        Ok((t, slot.generation))
    }

    /// Stores a fresh ticket from an `OTCSTicket` response header, unless the
    /// response belongs to an older login (a late answer must not undo a re-auth).
    pub(crate) async fn refresh(&self, generation: u64, fresh: Secret) {
        let mut slot = self.slot.lock().await;
        if slot.generation == generation && slot.ticket.as_ref() != Some(&fresh) {
            tracing::trace!("replacing OTCS ticket from response header");
            slot.ticket = Some(fresh);
        }
    }

    /// Forgets the ticket (after logout).
    pub(crate) async fn clear(&self) {
        self.slot.lock().await.ticket = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn renew_is_single_flight_and_late_refresh_is_ignored() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let state = TicketState::default();
        let logins = AtomicU32::new(0);
        let login = || async {
            let n = logins.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(Secret::new(format!("t{n}")))
        };
        let (t, g) = state.current(login).await.unwrap();
        assert_eq!((t.expose(), g), ("t1", 1));
        // Two callers saw a 401 with generation 1: only the first logs in.
        let (a, ga) = state.renew(1, login).await.unwrap();
        let (b, gb) = state.renew(1, login).await.unwrap();
        assert_eq!((a.expose(), ga, b.expose(), gb), ("t2", 2, "t2", 2));
        assert_eq!(logins.load(Ordering::SeqCst), 2);
        // A fresh header from a generation-1 answer must not undo the re-auth.
        state.refresh(1, Secret::new("stale")).await;
        assert_eq!(state.current(login).await.unwrap().0.expose(), "t2");
        state.refresh(2, Secret::new("t2b")).await;
        assert_eq!(state.current(login).await.unwrap().0.expose(), "t2b");
    }

    #[test]
    fn debug_redacts() {
        let c = Credentials::new("svc", "hunter2");
        let s = format!("{c:?} {:?}", Identity::Bearer("tok123".into()));
        assert!(!s.contains("hunter2") && !s.contains("tok123"), "{s}");
    }
}
