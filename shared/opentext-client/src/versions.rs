//! Document versions: list, get, add (streamed or chunked), download.

use std::sync::Arc;

use serde_json::Value;

use crate::client::Client;
use crate::content::ContentSource;
use crate::envelope::{self, v2_section_as};
use crate::error::{Error, Result};
use crate::http::Req;
use crate::model::Version;
use crate::nodes::{Download, Provenance, UploadMode, node_path, streaming_form};

/// Options for [`Client::add_version`].
#[derive(Debug, Clone, Default)]
pub struct VersionOptions {
    /// Version description (≤ 255 characters).
    pub description: Option<String>,
    /// Provenance of this version; `external_identity` can carry an
    /// integration's idempotency key to find the version again.
    pub provenance: Provenance,
    /// Adds a major version (advanced versioning only).
    pub add_major_version: Option<bool>,
    /// How the content is sent.
    pub upload_mode: UploadMode,
    /// Told the chunked upload's key, when the content goes through the chunked API.
    pub upload_session: Option<crate::upload::UploadSessionHook>,
}

impl VersionOptions {
    fn fields(&self) -> Vec<(String, String)> {
        let mut f: Vec<(String, String)> = self
            .provenance
            .pairs()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if let Some(d) = &self.description {
            f.push(("description".into(), d.clone()));
        }
        if let Some(m) = self.add_major_version {
            f.push(("add_major_version".into(), m.to_string()));
        }
        f
    }
}

impl Client {
    /// `GET /api/v2/nodes/{id}/versions`: all versions, oldest first.
    pub async fn list_versions(&self, id: i64) -> Result<Vec<Version>> {
        let path = format!("{}/versions", node_path(id));
        let v = self.json(&Req::get(&path)).await?;
        let mut versions: Vec<Version> = envelope::v2_list_sections(&v, "versions", &path)?;
        versions.sort_by_key(|v| v.version_number);
        Ok(self.in_zone(versions))
    }

    /// `GET /api/v2/nodes/{id}/versions/{n}`.
    pub async fn get_version(&self, id: i64, version_number: i64) -> Result<Version> {
        let path = format!("{}/versions/{version_number}", node_path(id));
        let v = self.json(&Req::get(&path)).await?;
        v2_section_as(&v, "versions", &path).map(|ver: Version| self.in_zone(ver))
    }

    /// The latest version (`GET /api/v1/nodes/{id}/versions/latest`; v2 has no alias).
    pub async fn latest_version(&self, id: i64) -> Result<Version> {
        let path = format!("/api/v1/nodes/{id}/versions/latest");
        let v = self.json(&Req::get(&path)).await?;
        envelope::from_value(v.get("data").cloned().unwrap_or(v), &path)
            .map(|ver: Version| self.in_zone(ver))
    }

    /// Adds a version from `source` (`POST /api/v2/nodes/{id}/versions`), with
    /// its description and provenance; large content goes through the chunked API.
    pub async fn add_version(
        &self,
        id: i64,
        source: Arc<dyn ContentSource>,
        opts: &VersionOptions,
    ) -> Result<Version> {
        let path = format!("{}/versions", node_path(id));
        let v = if self.use_chunked(source.len(), opts.upload_mode).await? {
            let key = self
                .upload_chunked_with(source.as_ref(), opts.upload_session.as_ref())
                .await?;
            let mut fields = opts.fields();
            fields.push(("upload_key".into(), key));
            self.json(&Req::post(&path).form(fields)).await?
        } else {
            let (make, resendable) = streaming_form(source, opts.fields(), "file");
            self.json(&Req::post(&path).multipart(make, resendable))
                .await?
        };
        self.added_version(id, v).await
    }

    /// The version from an add-version answer, or the latest one when the answer
    /// carries only ids (`{id, version_number}` or an empty v2 envelope).
    async fn added_version(&self, id: i64, v: Value) -> Result<Version> {
        if let Ok(ver) = v2_section_as::<Version>(&v, "versions", "add version") {
            return Ok(self.in_zone(ver));
        }
        let number = envelope::v2_data(&v)
            .and_then(|d| d.get("version_number"))
            .or_else(|| v.get("version_number"))
            .and_then(|n| n.as_i64().or_else(|| n.as_str()?.parse().ok()));
        match number {
            Some(n) => self.get_version(id, n).await,
            None => self
                .list_versions(id)
                .await?
                .pop()
                .ok_or_else(|| Error::unexpected("add version", "document has no versions")),
        }
    }

    /// Streams one version's content (`GET /api/v2/nodes/{id}/versions/{n}/content`).
    pub async fn download_version(&self, id: i64, version_number: i64) -> Result<Download> {
        let req = Req::get(format!(
            "{}/versions/{version_number}/content",
            node_path(id)
        ));
        Ok(Download::from_response(self.send(&req).await?))
    }

    /// Purges old versions, keeping the newest `number_to_keep` (≥ 1)
    /// (`DELETE /api/v2/nodes/{id}/versions?number_to_keep=N`, `purgeVersion`). Safe to
    /// repeat: a second call keeps the same versions. Refused while a hold applies.
    pub async fn purge_versions(&self, id: i64, number_to_keep: u32) -> Result<()> {
        if number_to_keep == 0 {
            return Err(Error::InvalidArgument(
                "number_to_keep must be at least 1".into(),
            ));
        }
        let req = Req::delete(format!("{}/versions", node_path(id)))
            .query("number_to_keep", number_to_keep);
        self.json(&req).await.map(|_| ())
    }

    /// The version whose `external_identity` equals `key` (an integration's
    /// idempotency key), if any.
    pub async fn find_version_by_external_identity(
        &self,
        id: i64,
        key: &str,
    ) -> Result<Option<Version>> {
        Ok(self
            .list_versions(id)
            .await?
            .into_iter()
            .find(|v| v.external_identity.as_deref() == Some(key)))
    }
}
