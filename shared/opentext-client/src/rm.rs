//! Records Management record details: RM classifications with `rm_metadataToken`.

use serde_json::Value;

use crate::client::Client;
use crate::envelope::from_value;
use crate::error::Result;
use crate::http::Req;
use crate::model::{RecordUpdate, RmClassifications};

fn rm_path(id: i64) -> String {
    format!("/api/v1/nodes/{id}/rmclassifications")
}

/// The fresh token some servers return after a change.
fn token_of(v: &Value) -> Option<String> {
    v.get("rm_metadataToken")
        .or_else(|| v.get("results").and_then(|r| r.get("rm_metadataToken")))
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

impl Client {
    /// `GET /api/v1/nodes/{id}/rmclassifications`: classifications, record details
    /// and the `rm_metadataToken` to send with the next change.
    pub async fn rm_classifications(&self, id: i64) -> Result<RmClassifications> {
        let path = rm_path(id);
        let v = self.json(&Req::get(&path)).await?;
        // Top level per the RM spec; tolerate a `results` wrapper.
        let body = match v.get("results") {
            Some(r @ Value::Object(_)) if v.get("data").is_none() => r.clone(),
            _ => v,
        };
        from_value(body, &path).map(|rm| self.in_zone(rm))
    }

    /// Applies RM classification `class_id` with optional record details.
    /// `token` (the current `rm_metadataToken`) is needed when the node is
    /// already classified; a stale one fails with [`crate::Error::Conflict`].
    /// Returns the new token when the server sends one.
    pub async fn apply_rm_classification(
        &self,
        id: i64,
        class_id: i64,
        details: &RecordUpdate,
        token: Option<&str>,
    ) -> Result<Option<String>> {
        let mut form = vec![("class_id".to_string(), class_id.to_string())];
        if let Some(t) = token {
            form.push(("rm_metadataToken".into(), t.to_string()));
        }
        form.extend(details.fields());
        let v = self.json(&Req::post(rm_path(id)).form(form)).await?;
        Ok(token_of(&v))
    }

    /// Updates record details (official, record date, status, RSI, ...) under
    /// the optimistic-concurrency `token`; stale → [`crate::Error::Conflict`].
    pub async fn update_record_details(
        &self,
        id: i64,
        token: &str,
        details: &RecordUpdate,
    ) -> Result<Option<String>> {
        let mut form = vec![("rm_metadataToken".to_string(), token.to_string())];
        form.extend(details.fields());
        let v = self.json(&Req::put(rm_path(id)).form(form)).await?;
        Ok(token_of(&v))
    }

    /// [`Client::update_record_details`] under the record's current `rm_metadataToken`, read
    /// first; a stale one (another writer changed the record in between) earns one fresh
    /// read and retry, then the [`crate::Error::Conflict`] is the caller's.
    pub async fn update_record_details_now(&self, id: i64, details: &RecordUpdate) -> Result<()> {
        let mut attempt = 0;
        loop {
            let token = self
                .rm_classifications(id)
                .await?
                .rm_metadata_token
                .unwrap_or_default();
            match self.update_record_details(id, &token, details).await {
                Ok(_) => return Ok(()),
                Err(crate::Error::Conflict { .. }) if attempt == 0 => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Declares the node under RM classification `class_id` with `details`, or updates its
    /// record details when it carries that classification already (safe to repeat). The
    /// `rm_metadataToken` is read first; a stale one (the record was edited meanwhile) earns
    /// one fresh read and retry, then the [`crate::Error::Conflict`] is the caller's.
    pub async fn classify_record(
        &self,
        id: i64,
        class_id: i64,
        details: &RecordUpdate,
    ) -> Result<()> {
        let mut attempt = 0;
        loop {
            let rm = self.rm_classifications(id).await?;
            let token = rm.rm_metadata_token.clone();
            let classified = rm
                .data
                .iter()
                .any(|d| d.rmclassification_id == Some(class_id));
            let result = if classified {
                self.update_record_details(id, token.as_deref().unwrap_or_default(), details)
                    .await
            } else {
                self.apply_rm_classification(id, class_id, details, token.as_deref())
                    .await
            };
            match result {
                Ok(_) => return Ok(()),
                Err(crate::Error::Conflict { .. }) if attempt == 0 => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Removes RM classification `class_id` from the node.
    pub async fn remove_rm_classification(
        &self,
        id: i64,
        class_id: i64,
        token: Option<&str>,
    ) -> Result<()> {
        let req =
            Req::delete(format!("{}/{class_id}", rm_path(id))).query_opt("rm_metadataToken", token);
        self.json(&req).await.map(|_| ())
    }
}
