//! P5: opening a record's S3 content through OpenText, checked as the user.
//!
//! 1. OpenText, asked **as the user** (their ticket or OTDS token), must know who they are
//!    (else 401), let them read the record node (else 404 or 403) and grant them
//!    `see_contents` on it (else 403);
//! 2. the record's linked S3 versions (P1/P3 links) name what may be handed out: nothing
//!    else, ever; a version asked for by its S3 URI must be one of them (and its
//!    `records-bridge:node-id` tag says which record to check);
//! 3. a hold closes the content when the policy says so (423, read as the service account:
//!    users rarely may read holds);
//! 4. the version must still exist (410, with "disposed under certificate …" or "deleted"
//!    from the audit trail);
//! 5. a presigned GET for exactly that bucket, key and version id, with the record's name as
//!    `Content-Disposition` and its content type, living the policy's lifetime (≤ 15 min).
//!
//! Every grant and every refusal is an audit event (user, record, version, outcome, reason,
//! source address, user agent, request id). Credentials and URLs never reach the logs.

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use opentext_client::{Identity, Secret};
use records_aws::audit_log::AuditLog;
use records_aws::links::{LinkStore, LinkedVersion};
use records_aws::s3_objects::{S3Error, S3Objects};
use records_domain::access::{AccessRefusal, Gone, content_disposition};
use records_domain::{
    Actor, ActorKind, AuditAction, AuditEvent, IdempotencyKey, ObjectVersion, Outcome, tags,
};

use crate::now_rfc3339;

/// What the endpoint needs, built once per cold start.
pub struct AccessDeps {
    /// The service account's client: holds, and the base the user's calls are made from.
    pub opentext: opentext_client::Client,
    pub s3: aws_sdk_s3::Client,
    pub objects: S3Objects,
    pub links: LinkStore,
    pub audit: AuditLog,
    pub policy: records_aws::policy_handle::PolicyHandle,
}

/// How the caller proved who they are.
#[derive(Clone)]
pub enum Credential {
    OtcsTicket(Secret),
    Bearer(Secret),
}

impl Credential {
    fn identity(&self) -> Identity {
        match self {
            Credential::OtcsTicket(t) => Identity::OtcsTicket(t.clone()),
            Credential::Bearer(t) => Identity::Bearer(t.clone()),
        }
    }
}

/// Which content is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The record's content (its newest linked version).
    Record(u64),
    /// One governed version, by its S3 URI.
    Version(ObjectVersion),
}

/// Where the request came from, for the audit trail.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub request_id: String,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A granted request: where to send the caller.
pub struct Grant {
    /// The presigned URL (a secret until it expires: never logged).
    pub url: Secret,
    pub node_id: u64,
    pub version: ObjectVersion,
    pub expires_in: Duration,
}

/// The user as OpenText knows them.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub name: String,
}

fn refusal_of(e: &opentext_client::Error, node_id: u64) -> Result<AccessRefusal, String> {
    use opentext_client::Error as E;
    match e {
        E::Unauthorized { message, .. } => Ok(AccessRefusal::BadCredentials {
            detail: message.clone(),
        }),
        E::NotFound { .. } => Ok(AccessRefusal::UnknownRecord { node_id }),
        E::Forbidden { .. } => Ok(AccessRefusal::NoPermission {
            node_id,
            missing: "see".into(),
        }),
        other => Err(format!("OpenText: {other}")),
    }
}

/// Why a request ended without a grant: refused (the caller's answer), or failed on our
/// side (OpenText or AWS unavailable: 502/503, nothing handed out).
pub enum Denied {
    Refused(AccessRefusal),
    Failed(String),
}

impl From<AccessRefusal> for Denied {
    fn from(r: AccessRefusal) -> Self {
        Denied::Refused(r)
    }
}

/// Who the credential belongs to (401 when OpenText does not accept it).
pub async fn whoami(deps: &AccessDeps, credential: &Credential) -> Result<User, Denied> {
    let ot = deps.opentext.as_identity(credential.identity());
    match ot.whoami().await {
        Ok(u) => Ok(User {
            id: u.id,
            name: u.name,
        }),
        Err(e) => match refusal_of(&e, 0) {
            Ok(AccessRefusal::UnknownRecord { .. }) | Ok(AccessRefusal::NoPermission { .. }) => {
                Err(AccessRefusal::BadCredentials {
                    detail: "OpenText did not say who this is".into(),
                }
                .into())
            }
            Ok(r) => Err(r.into()),
            Err(failed) => Err(Denied::Failed(failed)),
        },
    }
}

/// Checks the request as the user and, when every check passes, presigns the URL. Audits
/// the outcome either way.
pub async fn open(
    deps: &AccessDeps,
    credential: &Credential,
    target: &Target,
    ctx: &RequestContext,
) -> Result<Grant, Denied> {
    let user = match whoami(deps, credential).await {
        Ok(u) => u,
        Err(d) => {
            audit(deps, None, target, None, &d, ctx).await;
            return Err(d);
        }
    };
    match check_and_presign(deps, credential, target).await {
        Ok(grant) => {
            let ok = Outcome::Succeeded;
            let ev = event(Some(&user), target, Some(&grant.version), ok, ctx)
                .with_record(grant.node_id, None)
                .with_reason(format!(
                    "presigned GET for {} s",
                    grant.expires_in.as_secs()
                ));
            // No URL leaves without its audit event.
            deps.audit
                .append(&ev)
                .await
                .map_err(|e| Denied::Failed(format!("audit: {e}")))?;
            Ok(grant)
        }
        Err(d) => {
            audit(deps, Some(&user), target, None, &d, ctx).await;
            Err(d)
        }
    }
}

async fn check_and_presign(
    deps: &AccessDeps,
    credential: &Credential,
    target: &Target,
) -> Result<Grant, Denied> {
    let as_user = deps.opentext.as_identity(credential.identity());
    let node_id = match target {
        Target::Record(id) => *id,
        Target::Version(v) => node_of_version(deps, v).await?,
    };
    let node =
        as_user
            .get_node(node_id as i64)
            .await
            .map_err(|e| match refusal_of(&e, node_id) {
                Ok(r) => Denied::Refused(r),
                Err(f) => Denied::Failed(f),
            })?;
    let perms = as_user
        .my_effective_permissions(node_id as i64)
        .await
        .map_err(|e| match refusal_of(&e, node_id) {
            Ok(r) => Denied::Refused(r),
            Err(f) => Denied::Failed(f),
        })?;
    if !perms.permissions.iter().any(|p| p == "see_contents") {
        return Err(AccessRefusal::NoPermission {
            node_id,
            missing: "see_contents".into(),
        }
        .into());
    }
    let linked = deps
        .links
        .get(node_id)
        .await
        .map_err(|e| Denied::Failed(e.to_string()))?
        .versions;
    if linked.is_empty() {
        return Err(AccessRefusal::Ungoverned { node_id }.into());
    }
    let policy = deps.policy.get().access;
    if policy.holds_block_access {
        let holds = deps
            .opentext
            .active_hold_ids(node_id as i64)
            .await
            .map_err(|e| Denied::Failed(format!("OpenText holds: {e}")))?;
        if !holds.is_empty() {
            return Err(AccessRefusal::UnderHold {
                node_id,
                holds: holds.into_iter().map(|h| h as u64).collect(),
            }
            .into());
        }
    }
    let (version, content_type) = match target {
        Target::Version(v) => {
            if !linked.iter().any(|l| &l.object() == v) {
                return Err(AccessRefusal::NotGoverned { uri: uri(v) }.into());
            }
            let ct = present(deps, node_id, v).await?;
            (v.clone(), ct)
        }
        Target::Record(_) => newest_present(deps, node_id, &linked).await?,
    };
    let expires_in = policy.url_lifetime;
    let presigning = PresigningConfig::expires_in(expires_in)
        .map_err(|e| Denied::Failed(format!("presigning: {e}")))?;
    let content_type = node
        .mime_type
        .clone()
        .or(content_type)
        .unwrap_or_else(|| "application/octet-stream".into());
    let request = deps
        .s3
        .get_object()
        .bucket(&version.bucket)
        .key(&version.key)
        .version_id(&version.version_id)
        .response_content_disposition(content_disposition(&node.name))
        .response_content_type(content_type)
        .presigned(presigning)
        .await
        .map_err(|e| Denied::Failed(format!("presigning: {e}")))?;
    Ok(Grant {
        url: Secret::new(request.uri().to_string()),
        node_id,
        version,
        expires_in,
    })
}

fn uri(v: &ObjectVersion) -> String {
    format!("s3://{}/{}?versionId={}", v.bucket, v.key, v.version_id)
}

/// The record a governed version belongs to, from its `records-bridge:node-id` tag (checked
/// against the links afterwards, so a forged tag opens nothing).
async fn node_of_version(deps: &AccessDeps, v: &ObjectVersion) -> Result<u64, Denied> {
    let tags = match deps
        .objects
        .tags(&v.bucket, &v.key, Some(&v.version_id))
        .await
    {
        Ok(t) => t,
        Err(S3Error::NotFound { .. }) => {
            return Err(AccessRefusal::NotGoverned { uri: uri(v) }.into());
        }
        Err(e) if e.is_retryable() => return Err(Denied::Failed(format!("S3: {e}"))),
        // Access denied (another bucket): not ours to open.
        Err(_) => return Err(AccessRefusal::NotGoverned { uri: uri(v) }.into()),
    };
    tags.get(tags::NODE_ID)
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| AccessRefusal::NotGoverned { uri: uri(v) }.into())
}

/// The version's content type when it exists; 410 (and why) when it does not.
async fn present(
    deps: &AccessDeps,
    node_id: u64,
    v: &ObjectVersion,
) -> Result<Option<String>, Denied> {
    match deps
        .objects
        .facts(&v.bucket, &v.key, Some(&v.version_id))
        .await
    {
        Ok(f) => Ok(f.content_type),
        Err(S3Error::NotFound { .. }) => Err(AccessRefusal::VersionGone {
            node_id,
            uri: uri(v),
            gone: how_gone(deps, v).await,
        }
        .into()),
        Err(e) => Err(Denied::Failed(format!("S3: {e}"))),
    }
}

/// The newest linked version still in S3 (by upload time); 410 when none is left.
async fn newest_present(
    deps: &AccessDeps,
    node_id: u64,
    linked: &std::collections::BTreeSet<LinkedVersion>,
) -> Result<(ObjectVersion, Option<String>), Denied> {
    let mut best: Option<(String, ObjectVersion, Option<String>)> = None;
    let mut first_gone = None;
    for l in linked {
        let v = l.object();
        match deps
            .objects
            .facts(&v.bucket, &v.key, Some(&v.version_id))
            .await
        {
            Ok(f) => {
                let at = f.last_modified.unwrap_or_default();
                if best.as_ref().is_none_or(|(b, _, _)| at > *b) {
                    best = Some((at, v, f.content_type));
                }
            }
            Err(S3Error::NotFound { .. }) => {
                first_gone.get_or_insert(v);
            }
            Err(e) => return Err(Denied::Failed(format!("S3: {e}"))),
        }
    }
    match (best, first_gone) {
        (Some((_, v, ct)), _) => Ok((v, ct)),
        (None, Some(v)) => Err(AccessRefusal::VersionGone {
            node_id,
            uri: uri(&v),
            gone: how_gone(deps, &v).await,
        }
        .into()),
        (None, None) => Err(AccessRefusal::Ungoverned { node_id }.into()),
    }
}

/// Disposed (P4's audit says so, with the certificate) or deleted otherwise.
async fn how_gone(deps: &AccessDeps, v: &ObjectVersion) -> Gone {
    let trail = deps.audit.history(&uri(v)).await.unwrap_or_default();
    match trail
        .iter()
        .rev()
        .find(|e| e.action == AuditAction::Dispose && e.outcome == Outcome::Succeeded)
    {
        Some(e) => Gone::Disposed {
            certificate_id: e
                .details
                .get("certificate_id")
                .and_then(|c| c.as_str())
                .map(str::to_string),
        },
        None => Gone::Deleted,
    }
}

fn event(
    user: Option<&User>,
    target: &Target,
    version: Option<&ObjectVersion>,
    outcome: Outcome,
    ctx: &RequestContext,
) -> AuditEvent {
    let actor = match user {
        Some(u) => Actor {
            kind: ActorKind::OpentextUser,
            id: u.name.clone(),
        },
        None => Actor {
            kind: ActorKind::OpentextUser,
            id: "unauthenticated".into(),
        },
    };
    let key = IdempotencyKey::from_parts(
        "access",
        &[
            &ctx.request_id,
            &format!("{target:?}"),
            &format!("{outcome:?}"),
        ],
    );
    let mut ev = AuditEvent::new(
        &key.external_identity(),
        &now_rfc3339(),
        actor,
        AuditAction::Access,
        outcome,
    )
    .with_correlation_id(ctx.request_id.clone());
    if let Some(u) = user {
        ev = ev.with_detail("user_id", u.id);
    }
    if let Some(ip) = &ctx.source_ip {
        ev = ev.with_detail("source_ip", ip.clone());
    }
    if let Some(ua) = &ctx.user_agent {
        ev = ev.with_detail("user_agent", ua.chars().take(256).collect::<String>());
    }
    match (version, target) {
        (Some(v), _) | (None, Target::Version(v)) => ev = ev.with_object(v.clone()),
        (None, Target::Record(id)) => ev = ev.with_record(*id, None),
    }
    ev
}

/// Audits a refusal decided before OpenText was asked (no credentials, a bad request).
pub async fn audit_refusal(
    deps: &AccessDeps,
    target: &Target,
    refusal: &AccessRefusal,
    ctx: &RequestContext,
) {
    audit(
        deps,
        None,
        target,
        None,
        &Denied::Refused(refusal.clone()),
        ctx,
    )
    .await;
}

async fn audit(
    deps: &AccessDeps,
    user: Option<&User>,
    target: &Target,
    version: Option<&ObjectVersion>,
    denied: &Denied,
    ctx: &RequestContext,
) {
    let (outcome, reason, status) = match denied {
        Denied::Refused(r) => (Outcome::Denied, r.message(), r.status()),
        Denied::Failed(f) => (Outcome::Failed, f.clone(), 503),
    };
    let ev = event(user, target, version, outcome, ctx)
        .with_reason(reason)
        .with_detail("status", status);
    append(deps, &ev).await;
}

async fn append(deps: &AccessDeps, ev: &AuditEvent) {
    if let Err(e) = deps.audit.append(ev).await {
        // The answer stands; the audit trail's gap is logged for the operators.
        tracing::error!(error = %e, "could not write the access audit event");
    }
}
