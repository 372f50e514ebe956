//! A chunked upload's session as the workflow item knows it: its key saved before the first
//! part, so an attempt that dies mid-upload leaves the key for the next attempt to cancel (no
//! orphaned session holds parts on the server).

use futures_util::FutureExt;
use opentext_client::UploadSessionHook;
use records_domain::StateKind;

use super::run::Run;

/// Tells the workflow item a chunked upload session's key before any part is sent, so an
/// attempt that dies mid-upload leaves the key for the next one to cancel.
pub(super) fn session_hook(run: &Run<'_>) -> UploadSessionHook {
    let store = run.deps.store.clone();
    let (key, owner, lease) = (
        run.key.as_str().to_string(),
        run.lease.owner.clone(),
        run.lease.duration,
    );
    let progress = run.progress.clone();
    let crash = run.deps.crash.is("upload_session_started");
    UploadSessionHook::new(move |upload_key| {
        let (store, key, owner) = (store.clone(), key.clone(), owner.clone());
        let mut progress = progress.clone();
        async move {
            progress.upload_key = Some(upload_key);
            let state = StateKind::Uploading.as_str();
            if let Err(e) = store
                .transition(&key, &owner, state, state, &progress.to_json(), lease)
                .await
            {
                // The upload goes on; only a later clean-up of this session is lost.
                tracing::warn!(error = %e, "could not record the chunked upload session");
            }
            if crash {
                tracing::error!("fault injection: aborting the process mid-upload");
                std::process::abort();
            }
        }
        .boxed()
    })
}

/// Cancels the chunked upload session an earlier attempt opened and never finished.
pub(super) async fn cancel_abandoned_session(run: &mut Run<'_>, ot: &opentext_client::Client) {
    let Some(upload_key) = run.progress.upload_key.take() else {
        return;
    };
    match ot.cancel_upload(&upload_key).await {
        Ok(()) => tracing::info!("cancelled the chunked upload an earlier attempt left open"),
        Err(e) => {
            tracing::warn!(error = %e, "could not cancel an earlier attempt's chunked upload")
        }
    }
}
