//! The client handle, its builder, login/logout and identities.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::auth::{Credentials, Identity, Secret, TicketState};
use crate::error::{Error, Result};
use crate::http::{Req, error_from_response, parse_json};
use crate::model::{InZone, ServerTimeZone, User};
use crate::retry::{self, RetryPolicy};

/// Shared by every handle: one connection pool, one service ticket.
pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: String,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) tickets: TicketState,
    pub(crate) retry: RetryPolicy,
    pub(crate) time_zone: ServerTimeZone,
    pub(crate) multipart_settings: tokio::sync::OnceCell<crate::model::MultipartSettings>,
}

/// An OpenText Content Server REST client.
///
/// Cheap to clone. [`Client::as_identity`] and [`Client::with_deadline`] return
/// light handles that share the connection pool and the service ticket.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
    pub(crate) identity: Identity,
    pub(crate) deadline: Option<Instant>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("time_zone", &self.inner.time_zone)
            .field("credentials", &self.inner.credentials)
            .field("identity", &self.identity)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Client`].
#[derive(Debug)]
pub struct ClientBuilder {
    base_url: String,
    credentials: Option<Credentials>,
    http: Option<reqwest::Client>,
    retry: RetryPolicy,
    time_zone: ServerTimeZone,
    connect_timeout: Duration,
    read_timeout: Duration,
}

impl ClientBuilder {
    /// Service credentials used for the ticket identity ([`Identity::Service`]).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Uses a caller-built reqwest client (its timeouts then apply).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Retry policy for transient failures.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The Content Server's time zone (default UTC): how the dates it sends without a zone
    /// (the RM API's `YYYY-MM-DDTHH:mm:ss`) are read. Every [`crate::model::OtDateTime`] this
    /// client returns carries it.
    pub fn time_zone(mut self, zone: ServerTimeZone) -> Self {
        self.time_zone = zone;
        self
    }

    /// TCP/TLS connect timeout (default 10 s).
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Idle read timeout between bytes (default 120 s); whole calls are bounded by deadlines.
    pub fn read_timeout(mut self, t: Duration) -> Self {
        self.read_timeout = t;
        self
    }

    /// Builds the client. No request is sent until the first call.
    pub fn build(self) -> Result<Client> {
        let base_url = self.base_url.trim_end_matches('/').to_string();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(Error::InvalidArgument(format!(
                "base URL must be http(s): {base_url}"
            )));
        }
        let http = match self.http {
            Some(h) => h,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .read_timeout(self.read_timeout)
                .pool_idle_timeout(Duration::from_secs(60))
                .user_agent(concat!(
                    "records-bridge-opentext-client/",
                    env!("CARGO_PKG_VERSION")
                ))
                .build()
                .map_err(Error::from_reqwest)?,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url,
                credentials: self.credentials,
                tickets: TicketState::default(),
                retry: self.retry,
                time_zone: self.time_zone,
                multipart_settings: tokio::sync::OnceCell::new(),
            }),
            identity: Identity::Service,
            deadline: None,
        })
    }
}

impl Client {
    /// Starts configuring a client for a Content Server CGI URL such as
    /// `https://ecm.example.com/otcs/cs.exe`.
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.into(),
            credentials: None,
            http: None,
            retry: RetryPolicy::default(),
            time_zone: ServerTimeZone::UTC,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(120),
        }
    }

    /// A client that logs in with `credentials` on first use.
    pub fn new(base_url: impl Into<String>, credentials: Credentials) -> Result<Client> {
        Self::builder(base_url).credentials(credentials).build()
    }

    /// A handle making calls as another identity (e.g. the end user's OTDS
    /// bearer token). Shares the connection pool; costs one `Arc` clone.
    pub fn as_identity(&self, identity: Identity) -> Client {
        Client {
            inner: self.inner.clone(),
            identity,
            deadline: self.deadline,
        }
    }

    /// The identity this handle calls as.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// A handle whose calls (including retries and their sleeps) end by `deadline`.
    pub fn with_deadline(&self, deadline: impl Into<Instant>) -> Client {
        Client {
            inner: self.inner.clone(),
            identity: self.identity.clone(),
            deadline: Some(deadline.into()),
        }
    }

    /// A handle with a deadline `timeout` from now.
    pub fn with_timeout(&self, timeout: Duration) -> Client {
        self.with_deadline(Instant::now() + timeout)
    }

    /// The deadline of this handle, if any.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The base (CGI) URL.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The Content Server's time zone, in which zone-less dates are read.
    pub fn time_zone(&self) -> ServerTimeZone {
        self.inner.time_zone
    }

    /// `t` with its dates read in the server's time zone (every call returning dates).
    pub(crate) fn in_zone<T: InZone>(&self, mut t: T) -> T {
        t.set_zone(self.inner.time_zone);
        t
    }

    /// Logs in now (otherwise the first call does) and checks the credentials.
    pub async fn login(&self) -> Result<()> {
        self.inner
            .tickets
            .current(|| self.inner.login(self.deadline))
            .await
            .map(|_| ())
    }

    /// The calling user (`GET /api/v1/auth`); its `id` is what
    /// [`Client::effective_permissions`] needs.
    pub async fn whoami(&self) -> Result<User> {
        let v = self.json(&Req::get("/api/v1/auth")).await?;
        let data = v.get("data").cloned().unwrap_or(v);
        crate::envelope::from_value(data, "/api/v1/auth")
    }

    /// Ends the service session (`DELETE /api/v1/auth`) and forgets the ticket.
    pub async fn logout(&self) -> Result<()> {
        if self.identity == Identity::Service {
            let r = self.send(&Req::delete("/api/v1/auth")).await.map(|_| ());
            self.inner.tickets.clear().await;
            r
        } else {
            self.send(&Req::delete("/api/v1/auth")).await.map(|_| ())
        }
    }
}

impl Inner {
    /// `POST /api/v1/auth` with the service credentials (transient failures retried).
    pub(crate) async fn login(&self, deadline: Option<Instant>) -> Result<Secret> {
        let creds = self.credentials.as_ref().ok_or_else(|| {
            Error::InvalidArgument("no service credentials configured; use as_identity".into())
        })?;
        let url = format!("{}/api/v1/auth", self.base_url);
        tracing::debug!(username = %creds.username, "authenticating");
        retry::run(&self.retry, deadline, "/api/v1/auth", &|| true, || async {
            let mut rb = self.http.post(&url).form(&creds.form());
            if let Some(d) = deadline {
                let left = d.saturating_duration_since(Instant::now());
                rb = rb.timeout(left.max(Duration::from_millis(1)));
            }
            let resp = rb.send().await.map_err(Error::from_reqwest)?;
            if !resp.status().is_success() {
                return Err(error_from_response(resp).await);
            }
            let status = resp.status();
            let bytes = resp.bytes().await.map_err(Error::from_reqwest)?;
            let v = parse_json(status, &bytes, "/api/v1/auth")?;
            v.get("ticket")
                .and_then(|t| t.as_str())
                .filter(|t| !t.is_empty())
                .map(Secret::new)
                .ok_or_else(|| Error::unexpected("/api/v1/auth", "no ticket in response"))
        })
        .await
    }
}
