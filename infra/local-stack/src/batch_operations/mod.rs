//! A local S3 Batch Operations job engine, served over S3 Control's REST-XML protocol.
//!
//! moto has no job API (CreateJob / DescribeJob answer 404), yet P4 hands large
//! dispositions to a Batch Operations job whose per-object Lambda task deletes versions and
//! later reads the job's completion report. [`LocalBatchOperations`] stands in for that
//! engine: the real `aws_sdk_s3control` client talks to it (through
//! `records_aws::config::VerbatimEndpoint`, since there is no `<account>.` host), it reads
//! the manifest from S3 (moto), invokes the task once per manifest line with the
//! invocation schema 2.0 event through a [`TaskInvoker`] (the Runtime API emulator driving
//! the real binary, or a test closure), and writes the completion report back to S3 as
//! AWS documents it.
//!
//! Served: `POST /v20180820/jobs` (CreateJob) and `GET /v20180820/jobs/{id}` (DescribeJob).
//! Anything else answers 501 `NotImplemented`.

mod invoker;
mod job;
mod report;
mod request;
mod runner;
mod xml;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub use invoker::{FnInvoker, RUNTIME_TASK_TIMEOUT, TaskFuture, TaskInvoker};
use job::iso8601;
pub use job::{JobFailure, JobRecord, JobStatus, ManifestSpec, ReportSpec};
use request::ApiError;

struct Shared {
    s3: aws_sdk_s3::Client,
    task: Arc<dyn TaskInvoker>,
    jobs: Mutex<Vec<JobRecord>>,
    running: Mutex<Vec<tokio::task::AbortHandle>>,
    /// While true, new jobs wait in `Preparing` (AWS takes its time there too): a test
    /// can change the world between a job's creation and its tasks.
    held: tokio::sync::watch::Sender<bool>,
}

impl Shared {
    fn job(&self, id: &str) -> Option<JobRecord> {
        self.jobs
            .lock()
            .unwrap()
            .iter()
            .find(|j| j.job_id == id)
            .cloned()
    }

    fn update(&self, id: &str, f: impl FnOnce(&mut JobRecord)) {
        if let Some(j) = self
            .jobs
            .lock()
            .unwrap()
            .iter_mut()
            .find(|j| j.job_id == id)
        {
            f(j);
        }
    }

    /// The job this account already created with the request's token: the same job when
    /// the request is the same, an `IdempotencyException` when it is not.
    fn existing(jobs: &[JobRecord], job: &JobRecord) -> Result<Option<String>, ApiError> {
        let Some(found) = jobs.iter().find(|j| {
            j.account_id == job.account_id && j.client_request_token == job.client_request_token
        }) else {
            return Ok(None);
        };
        if found.same_request(job) {
            Ok(Some(found.job_id.clone()))
        } else {
            Err(ApiError::new(
                StatusCode::CONFLICT,
                "IdempotencyException",
                format!(
                    "ClientRequestToken {} was used for job {} with other parameters",
                    job.client_request_token, found.job_id
                ),
            ))
        }
    }
}

/// The job engine's HTTP server and its jobs. Dropping it stops the server and the jobs.
pub struct LocalBatchOperations {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl LocalBatchOperations {
    /// Serves S3 Control's job API on a free loopback port. `s3` reads manifests and writes
    /// reports (moto); `task` is the job's Lambda function.
    pub async fn start(s3: aws_sdk_s3::Client, task: Arc<dyn TaskInvoker>) -> anyhow::Result<Self> {
        let shared = Arc::new(Shared {
            s3,
            task,
            jobs: Mutex::new(Vec::new()),
            running: Mutex::new(Vec::new()),
            held: tokio::sync::watch::channel(false).0,
        });
        let app = Router::new()
            // ListJobs, UpdateJobStatus... share these paths: NotImplemented, not 405.
            .route(
                "/v20180820/jobs",
                post(create_job).fallback(not_implemented),
            )
            .route(
                "/v20180820/jobs/{id}",
                get(describe_job).fallback(not_implemented),
            )
            .fallback(not_implemented)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            addr,
            shared,
            server,
        })
    }

    /// The S3 Control endpoint, e.g. `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Jobs created from now on wait in `Preparing` until [`Self::release_jobs`].
    pub fn hold_jobs(&self) {
        self.shared.held.send_replace(true);
    }

    /// Lets held jobs (and later ones) run.
    pub fn release_jobs(&self) {
        self.shared.held.send_replace(false);
    }

    /// Every job created, in creation order, as it stands now.
    pub fn jobs(&self) -> Vec<JobRecord> {
        self.shared.jobs.lock().unwrap().clone()
    }
}

impl Drop for LocalBatchOperations {
    fn drop(&mut self) {
        self.server.abort();
        for job in self.shared.running.lock().unwrap().drain(..) {
            job.abort();
        }
    }
}

fn request_id() -> String {
    let mut id = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    id.truncate(16);
    id
}

/// An XML answer with the request id S3 Control sends (the SDK reads `x-amz-request-id`).
fn xml_response(status: StatusCode, body: String, request_id: &str) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/xml"));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amz-request-id", id);
    }
    (status, headers, body).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let id = request_id();
        let body = xml::error_response(self.code, &self.message, &id);
        xml_response(self.status, body, &id)
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn create_job(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match create(&shared, &headers, &body).await {
        Ok(id) => xml_response(StatusCode::OK, xml::create_job_result(&id), &request_id()),
        Err(e) => e.into_response(),
    }
}

async fn create(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<String, ApiError> {
    let account = request::account_id(header(headers, "x-amz-account-id"))?;
    let job = request::parse_create_job(account, body)?;
    if let Some(id) = Shared::existing(&shared.jobs.lock().unwrap(), &job)? {
        return Ok(id);
    }
    check_manifest(&shared.s3, &job.manifest).await?;
    {
        let mut jobs = shared.jobs.lock().unwrap();
        // A concurrent retry may have created it while the manifest was checked.
        if let Some(id) = Shared::existing(&jobs, &job)? {
            return Ok(id);
        }
        jobs.push(job.clone());
    }
    if !job.confirmation_required {
        let handle = tokio::spawn(runner::run(shared.clone(), job.job_id.clone()));
        shared.running.lock().unwrap().push(handle.abort_handle());
    }
    Ok(job.job_id)
}

/// The manifest object must exist with the ETag the request names (AWS refuses the job
/// otherwise, so a manifest rewritten since is never run).
async fn check_manifest(s3: &aws_sdk_s3::Client, m: &ManifestSpec) -> Result<(), ApiError> {
    use aws_sdk_s3::error::ProvideErrorMetadata;
    let head = s3
        .head_object()
        .bucket(&m.bucket)
        .key(&m.key)
        .set_version_id(m.version_id.clone())
        .send()
        .await
        .map_err(|e| {
            let code = e
                .as_service_error()
                .and_then(|s| s.code().map(str::to_string))
                .unwrap_or_else(|| "no answer".into());
            ApiError::manifest(format!(
                "Reading the manifest s3://{}/{} failed: {code}",
                m.bucket, m.key
            ))
        })?;
    let actual = head.e_tag().unwrap_or_default().trim_matches('"');
    if actual != m.etag.trim_matches('"') {
        return Err(ApiError::manifest(format!(
            "The ETag {} of the manifest s3://{}/{} does not match the ETag {} given",
            actual, m.bucket, m.key, m.etag
        )));
    }
    Ok(())
}

async fn describe_job(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let account = match request::account_id(header(&headers, "x-amz-account-id")) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    match shared.job(&id).filter(|j| j.account_id == account) {
        Some(job) => xml_response(
            StatusCode::OK,
            xml::describe_job_result(&job),
            &request_id(),
        ),
        // The code AWS's troubleshooting guide names for an unknown (or another
        // account's) job.
        None => ApiError::new(
            StatusCode::NOT_FOUND,
            "NoSuchJobException",
            format!("The specified job does not exist: {id}"),
        )
        .into_response(),
    }
}

async fn not_implemented() -> Response {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "NotImplemented",
        "the local Batch Operations serves CreateJob and DescribeJob only",
    )
    .into_response()
}
