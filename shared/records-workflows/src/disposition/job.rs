//! Large disposition batches through S3 Batch Operations.
//!
//! A batch of more records than `DISPOSITION_JOB_THRESHOLD` is decided record by record as
//! any other (holds, retention, disposition date; refusals recorded), but its versions are
//! not deleted by this function: they are written as batch items and a CSV manifest, and
//! one Batch Operations job (idempotent on the batch) runs the `disposition-batch-task`
//! function per version, which re-checks holds before it deletes. The workflow then looks
//! at the job again through delayed messages on the lifecycle queue (one chain of checks,
//! numbered, so a redelivered message starts no second chain) and, once the job has ended,
//! folds its completion report into the certificate: `deleted at <time>` rows become the
//! deletion times; anything else (the task's own refusal, a failure, a version the job never
//! ran) becomes a refusal with its reason, after checking whether the version is gone.

use std::collections::BTreeMap;
use std::time::Duration;

use records_aws::batch_operations::{
    self as bops, BatchItem, BatchItems, JobSpec, JobState, ReportRow, TaskOutcome,
};
use records_aws::lifecycle_queue::LifecycleQueue;
use records_domain::ObjectVersion;
use records_domain::disposition::{RefusalNote, RefusalReason, VersionDisposal};
use serde::{Deserialize, Serialize};

use super::progress::RecordOutcome;
use super::run::{Run, states};
use crate::StepError;

/// Where the manifests go in the audit bucket (the Batch Operations role reads only these).
pub const MANIFEST_PREFIX: &str = "batch-operations/manifests/";
/// Where the jobs write their completion reports (the role writes only there).
pub const REPORT_PREFIX: &str = "batch-operations/reports/";

/// What the stack configures for large batches (all of it or none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobsConfig {
    /// Batches of more records than this go to a job.
    pub threshold: usize,
    pub task_function_arn: String,
    pub role_arn: String,
    /// The account that owns the job: the task function's.
    pub account_id: String,
    /// How long between two looks at a running job (1 s to SQS's 15 minutes).
    pub check_every: Duration,
}

impl JobsConfig {
    /// From `DISPOSITION_JOB_THRESHOLD`, `DISPOSITION_BATCH_TASK_ARN`,
    /// `DISPOSITION_BATCH_ROLE_ARN` and `DISPOSITION_JOB_CHECK_SECONDS` (default 300).
    /// `None` when no threshold is set: every batch is then deleted by the worker itself.
    pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<Self>, String> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let Some(threshold) = get("DISPOSITION_JOB_THRESHOLD") else {
            return Ok(None);
        };
        let threshold: usize = threshold.trim().parse().map_err(|_| {
            format!("DISPOSITION_JOB_THRESHOLD {threshold:?} is not a number of records")
        })?;
        let need = |k: &str| get(k).ok_or(format!("DISPOSITION_JOB_THRESHOLD needs {k}"));
        let task_function_arn = need("DISPOSITION_BATCH_TASK_ARN")?;
        let role_arn = need("DISPOSITION_BATCH_ROLE_ARN")?;
        let account_id = task_function_arn
            .split(':')
            .nth(4)
            .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
            .ok_or(format!(
                "DISPOSITION_BATCH_TASK_ARN {task_function_arn:?} is not a Lambda function ARN"
            ))?
            .to_string();
        let check_every = match get("DISPOSITION_JOB_CHECK_SECONDS") {
            None => Duration::from_secs(300),
            Some(s) => match s.trim().parse::<u64>() {
                Ok(n) if (1..=900).contains(&n) => Duration::from_secs(n),
                _ => {
                    return Err(format!(
                        "DISPOSITION_JOB_CHECK_SECONDS {s:?} must be 1 to 900 seconds"
                    ));
                }
            },
        };
        Ok(Some(JobsConfig {
            threshold,
            task_function_arn,
            role_arn,
            account_id,
            check_every,
        }))
    }
}

/// The clients a large batch needs, built once per cold start.
pub struct DispositionJobs {
    pub config: JobsConfig,
    pub control: aws_sdk_s3control::Client,
    pub items: BatchItems,
    /// The lifecycle queue, for the workflow's delayed "look at the job again" messages.
    pub follow_up: LifecycleQueue,
}

/// The job of a batch handed to Batch Operations, saved in its progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobProgress {
    pub job_id: String,
    pub manifest_key: String,
    pub report_prefix: String,
    /// Follow-up checks sent so far; only the message carrying the latest number sends the
    /// next one.
    #[serde(default)]
    pub checks: u32,
}

/// What a look at the job found.
pub(super) enum JobLook {
    /// Still running: the text says how far.
    Running(String),
    /// Ended; its report is folded into the progress.
    Folded,
}

impl Run<'_> {
    fn jobs(&self) -> Result<&DispositionJobs, StepError> {
        self.disposition.jobs.as_ref().ok_or_else(|| {
            StepError::Permanent(
                "this batch was handed to S3 Batch Operations, but the stack no longer configures DISPOSITION_JOB_THRESHOLD".into(),
            )
        })
    }

    /// Does this frozen batch go to a job? (Decided once, at freezing; a dry run never.)
    pub(super) fn wants_job(&self, records: usize) -> bool {
        !self.dry_run
            && self
                .disposition
                .jobs
                .as_ref()
                .is_some_and(|j| records > j.config.threshold)
    }

    /// The versions the plan deletes: batch items, manifest, one job. `None` when nothing
    /// is left to delete (all refused or gone): the batch is certified at once.
    pub(super) async fn start_job(&mut self) -> Result<Option<String>, StepError> {
        let progress = self.progress.as_ref().expect("frozen");
        let mut items = Vec::new();
        for outcome in progress.outcomes.iter() {
            if let (node_id, RecordOutcome::Destroyed(c)) = outcome {
                for v in c
                    .versions
                    .iter()
                    .filter(|v| v.disposal == VersionDisposal::WouldDelete)
                {
                    items.push(BatchItem {
                        batch_id: self.certificate_id.clone(),
                        node_id: *node_id,
                        version: ObjectVersion::new(&v.bucket, &v.key, Some(&v.version_id)),
                        sha256: v.sha256.clone(),
                        size: Some(v.size),
                    });
                }
            }
        }
        if items.is_empty() {
            return Ok(None);
        }
        let jobs = self.jobs()?;
        let bucket = self.disposition.store.bucket().to_string();
        let batch_ops = |e: bops::BatchOpsError| {
            if e.is_retryable() {
                StepError::Retry(format!("Batch Operations: {e}"))
            } else {
                StepError::Permanent(format!("Batch Operations: {e}"))
            }
        };
        jobs.items.put_all(&items).await.map_err(batch_ops)?;
        let versions: Vec<ObjectVersion> = items.iter().map(|i| i.version.clone()).collect();
        let csv = bops::manifest_csv(&versions).map_err(batch_ops)?;
        let manifest_key = format!("{MANIFEST_PREFIX}{}.csv", self.certificate_id);
        let manifest = bops::write_manifest(&self.deps.s3, &bucket, &manifest_key, &csv)
            .await
            .map_err(batch_ops)?;
        let report_prefix = format!("{REPORT_PREFIX}{}", self.certificate_id);
        let spec = JobSpec {
            account_id: jobs.config.account_id.clone(),
            batch_id: self.certificate_id.clone(),
            function_arn: jobs.config.task_function_arn.clone(),
            manifest,
            report_bucket: bucket,
            report_prefix: report_prefix.clone(),
            role_arn: jobs.config.role_arn.clone(),
            priority: 10,
        };
        let job_id = bops::create_job(&jobs.control, &spec)
            .await
            .map_err(batch_ops)?;
        self.progress.as_mut().expect("frozen").job = Some(JobProgress {
            job_id: job_id.clone(),
            manifest_key,
            report_prefix,
            checks: 0,
        });
        self.save(states::JOB_RUNNING).await?;
        self.audit(
            0,
            None,
            records_domain::Outcome::Succeeded,
            &format!(
                "{} versions handed to S3 Batch Operations job {job_id}",
                items.len()
            ),
        )
        .await?;
        self.deps.crash_point("disposition-job-created");
        Ok(Some(job_id))
    }

    /// Sends the next "look at the job again" message, if this delivery is the chain's
    /// latest (the approved event itself counts as check 0).
    pub(super) async fn schedule_check(&mut self) -> Result<(), StepError> {
        let this_check = self
            .event
            .data
            .get("job_check")
            .and_then(|v| v.as_u64())
            .unwrap_or(0) as u32;
        let progress = self.progress.as_ref().expect("frozen");
        let Some(job) = progress.job.as_ref() else {
            return Ok(());
        };
        if this_check != job.checks {
            return Ok(());
        }
        let next = job.checks + 1;
        let mut check = self.event.clone();
        check.event_id = format!("{}:job-check:{next}", self.certificate_id)
            .chars()
            .take(128)
            .collect();
        check.data.insert("job_check".into(), next.into());
        let body = serde_json::to_string(&check)
            .map_err(|e| StepError::Permanent(format!("job check event: {e}")))?;
        let jobs = self.jobs()?;
        jobs.follow_up
            .send_delayed(body, jobs.config.check_every)
            .await
            .map_err(|e| StepError::Retry(e.to_string()))?;
        if let Some(job) = self.progress.as_mut().expect("frozen").job.as_mut() {
            job.checks = next;
        }
        self.save(states::JOB_RUNNING).await
    }

    /// Looks at the job; once it has ended, folds its report into the progress.
    pub(super) async fn look_at_job(&mut self) -> Result<JobLook, StepError> {
        let jobs = self.jobs()?;
        let job = self
            .progress
            .as_ref()
            .and_then(|p| p.job.clone())
            .ok_or_else(|| StepError::Permanent("a job-running batch without its job".into()))?;
        let status = bops::describe_job(&jobs.control, &jobs.config.account_id, &job.job_id)
            .await
            .map_err(|e| StepError::Retry(format!("DescribeJob {}: {e}", job.job_id)))?;
        match status.state {
            JobState::Running | JobState::Waiting => {
                return Ok(JobLook::Running(format!(
                    "Batch Operations job {} is {} ({} of {} tasks done)",
                    job.job_id,
                    status.status,
                    status.succeeded.unwrap_or(0) + status.failed.unwrap_or(0),
                    status
                        .total
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| "?".into())
                )));
            }
            JobState::Complete | JobState::Ended => {}
        }
        let rows =
            match bops::read_completion_report(
                &self.deps.s3,
                self.disposition.store.bucket(),
                &job.report_prefix,
                &job.job_id,
            )
            .await
            {
                Ok(rows) => rows,
                // A job that failed before any task wrote no report: every version is checked.
                Err(bops::BatchOpsError::S3(records_aws::s3_objects::S3Error::NotFound {
                    ..
                })) if status.state == JobState::Ended => Vec::new(),
                Err(e) if e.is_retryable() => {
                    return Err(StepError::Retry(format!("completion report: {e}")));
                }
                Err(e) => return Err(StepError::Permanent(format!("completion report: {e}"))),
            };
        let ended = if status.reasons.is_empty() {
            status.status.clone()
        } else {
            format!("{}: {}", status.status, status.reasons.join("; "))
        };
        self.fold_report(&job.job_id, &ended, &rows).await?;
        self.progress.as_mut().expect("frozen").job = Some(job);
        self.save(states::DISPOSING).await?;
        Ok(JobLook::Folded)
    }

    /// Every version the plan handed to the job gets its disposal from the report: deleted
    /// (with the task's time), found gone, or a refusal with the task's reason.
    async fn fold_report(
        &mut self,
        job_id: &str,
        ended: &str,
        rows: &[ReportRow],
    ) -> Result<(), StepError> {
        let by_version: BTreeMap<(&str, &str, &str), &ReportRow> = rows
            .iter()
            .filter_map(|r| {
                r.key
                    .as_deref()
                    .map(|k| ((r.bucket.as_str(), k, r.version_id.as_str()), r))
            })
            .collect();
        let now = super::run::now();
        let mut refusals: BTreeMap<u64, Vec<RefusalNote>> = BTreeMap::new();
        let mut unreported = Vec::new();
        let progress = self.progress.as_mut().expect("frozen");
        for (node_id, outcome) in progress.outcomes.iter_mut() {
            let RecordOutcome::Destroyed(c) = outcome else {
                continue;
            };
            for v in c
                .versions
                .iter_mut()
                .filter(|v| v.disposal == VersionDisposal::WouldDelete)
            {
                let object = ObjectVersion::new(&v.bucket, &v.key, Some(&v.version_id));
                let refuse = |detail: String| -> RefusalNote {
                    RefusalReason::BatchTaskDidNotDelete {
                        version: object.clone(),
                        job_id: job_id.to_string(),
                        detail,
                    }
                    .into()
                };
                match by_version
                    .get(&(v.bucket.as_str(), v.key.as_str(), v.version_id.as_str()))
                    .map(|r| &r.outcome)
                {
                    Some(TaskOutcome::Deleted { at }) => {
                        v.disposal = VersionDisposal::Deleted {
                            at: at.unwrap_or(now),
                        }
                    }
                    Some(TaskOutcome::AlreadyGone) => {
                        v.disposal = VersionDisposal::FoundGone { checked_at: now }
                    }
                    Some(TaskOutcome::Refused(why)) => refusals
                        .entry(*node_id)
                        .or_default()
                        .push(refuse(format!("the task's re-check refused: {why}"))),
                    Some(TaskOutcome::Failed {
                        error_code,
                        message,
                    }) => refusals
                        .entry(*node_id)
                        .or_default()
                        .push(refuse(format!("the task failed ({error_code}): {message}"))),
                    Some(TaskOutcome::Unrecognised(text)) => refusals
                        .entry(*node_id)
                        .or_default()
                        .push(refuse(format!("the task answered {text:?}"))),
                    None => unreported.push((*node_id, object.clone())),
                }
            }
        }
        // Not in the report (the job ended early): gone is certified as found gone,
        // present is refused; nothing is assumed.
        for (node_id, object) in unreported {
            let gone = match self
                .deps
                .objects
                .facts(&object.bucket, &object.key, Some(&object.version_id))
                .await
            {
                Ok(_) => false,
                Err(records_aws::s3_objects::S3Error::NotFound { .. }) => true,
                Err(e) => return Err(StepError::Retry(format!("S3: {e}"))),
            };
            let progress = self.progress.as_mut().expect("frozen");
            if gone {
                if let Some(v) = progress.version_mut(node_id, &object.version_id) {
                    v.disposal = VersionDisposal::FoundGone { checked_at: now };
                }
            } else {
                refusals.entry(node_id).or_default().push(
                    RefusalReason::BatchTaskDidNotDelete {
                        version: object,
                        job_id: job_id.to_string(),
                        detail: format!("the job ended ({ended}) without running its task"),
                    }
                    .into(),
                );
            }
        }
        for (node_id, notes) in refusals {
            let text: Vec<String> = notes.iter().map(|n| n.message.clone()).collect();
            self.audit(
                node_id,
                None,
                records_domain::Outcome::Denied,
                &text.join("; "),
            )
            .await?;
            self.refuse_rest(node_id, notes);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    const TASK: &str =
        "arn:aws:lambda:eu-central-1:123456789012:function:rb-disposition-batch-task";
    const ROLE: &str = "arn:aws:iam::123456789012:role/rb-batch-ops";

    #[test]
    fn no_threshold_means_no_jobs() {
        assert_eq!(JobsConfig::from_env(&env(&[])), Ok(None));
        assert_eq!(
            JobsConfig::from_env(&env(&[("DISPOSITION_BATCH_TASK_ARN", TASK)])),
            Ok(None)
        );
    }

    #[test]
    fn a_threshold_needs_the_task_and_role_and_names_the_account() {
        let c = JobsConfig::from_env(&env(&[
            ("DISPOSITION_JOB_THRESHOLD", "500"),
            ("DISPOSITION_BATCH_TASK_ARN", TASK),
            ("DISPOSITION_BATCH_ROLE_ARN", ROLE),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(c.threshold, 500);
        assert_eq!(c.account_id, "123456789012");
        assert_eq!(c.check_every, Duration::from_secs(300));
        let missing = JobsConfig::from_env(&env(&[
            ("DISPOSITION_JOB_THRESHOLD", "500"),
            ("DISPOSITION_BATCH_TASK_ARN", TASK),
        ]))
        .unwrap_err();
        assert!(missing.contains("DISPOSITION_BATCH_ROLE_ARN"), "{missing}");
    }

    #[test]
    fn bad_values_are_named() {
        for (k, v, says) in [
            ("DISPOSITION_JOB_THRESHOLD", "many", "not a number"),
            (
                "DISPOSITION_BATCH_TASK_ARN",
                "rb-task",
                "not a Lambda function ARN",
            ),
            ("DISPOSITION_JOB_CHECK_SECONDS", "3600", "1 to 900"),
            ("DISPOSITION_JOB_CHECK_SECONDS", "0", "1 to 900"),
        ] {
            let mut pairs = vec![
                ("DISPOSITION_JOB_THRESHOLD", "10"),
                ("DISPOSITION_BATCH_TASK_ARN", TASK),
                ("DISPOSITION_BATCH_ROLE_ARN", ROLE),
            ];
            pairs.retain(|(n, _)| *n != k);
            pairs.push((k, v));
            let err = JobsConfig::from_env(&env(&pairs)).unwrap_err();
            assert!(err.contains(says), "{k}={v}: {err}");
        }
    }
}
