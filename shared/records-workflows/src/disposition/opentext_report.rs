//! Telling OpenText how a disposition batch ended: the destroyed records' disposition
//! actions are performed (their content is gone; each record follows its RSI), each refusal
//! goes back to the review as a rejection with its reasons and the certificate's id.

use opentext_client::model::{DispositionItemRef, ReviewChange, ReviewDecision};

use super::progress::RecordOutcome;
use super::run::{Run, states};
use crate::StepError;

impl Run<'_> {
    /// Destroyed records: OpenText performs their disposition action (the content is gone;
    /// the record follows its RSI). Refused ones: rejected in the review with the reason.
    pub(super) async fn report_back(&mut self) -> Result<(), StepError> {
        let progress = self.progress.as_ref().expect("frozen");
        if progress.reported {
            return Ok(());
        }
        let ot = self.ot();
        let me = ot.whoami().await.map_err(StepError::from)?;
        let search = self.event.node_id as i64;
        let qdate = self.snapshot_date();
        let refs = |destroyed: bool| -> Vec<DispositionItemRef> {
            progress
                .records
                .iter()
                .filter(|r| {
                    matches!(
                        (progress.outcomes.get(&r.node_id), destroyed),
                        (Some(RecordOutcome::Destroyed(_)), true)
                            | (
                                Some(
                                    RecordOutcome::Refused { .. }
                                        | RecordOutcome::PartlyDestroyed { .. }
                                ),
                                false
                            )
                    )
                })
                .map(|r| DispositionItemRef {
                    id: r.node_id as i64,
                    stage_count: r.stage_count,
                })
                .collect()
        };
        for item in refs(false) {
            let reasons = match progress.outcomes.get(&(item.id as u64)) {
                Some(
                    RecordOutcome::Refused { reasons }
                    | RecordOutcome::PartlyDestroyed { reasons, .. },
                ) => reasons
                    .iter()
                    .map(|n| n.message.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
                _ => continue,
            };
            let mut change = ReviewChange::new(ReviewDecision::Rejected);
            change.comment = Some(format!(
                "records-bridge did not destroy the S3 content: {reasons} (certificate {})",
                self.certificate_id
            ));
            ot.change_review_decision(me.id, search, &qdate, std::slice::from_ref(&item), &change)
                .await
                .map_err(StepError::from)?;
        }
        let destroyed = refs(true);
        ot.perform_disposition_actions(me.id, search, &qdate, &destroyed)
            .await
            .map_err(StepError::from)?;
        self.progress.as_mut().expect("frozen").reported = true;
        self.save(states::CERTIFIED).await
    }
}
