//! Reading an OpenText version to write it to S3 (P2's archive copies, P7's published
//! copies): a first streamed read computes the SHA-256 (OpenText's REST API has no hash: the
//! chain of custody starts here), the second streams into one `PutObject` carrying that hash
//! as `x-amz-checksum-sha256`, hashed again on the way so a change between the reads is
//! caught even by a store that does not check.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};

use crate::StepError;

/// Streams one version through SHA-256: (size, hex digest).
pub async fn hash_version(
    ot: &opentext_client::Client,
    node_id: i64,
    version: u32,
) -> Result<(u64, String), StepError> {
    let mut stream = ot.download_version(node_id, version as i64).await?.stream;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        size += chunk.len() as u64;
        hasher.update(&chunk);
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// The second read of a version, hashed as it streams; [`SecondRead::digest`] once the
/// stream was consumed.
pub struct SecondRead {
    seen: Arc<Mutex<(Sha256, u64)>>,
}

type Chunks =
    std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, opentext_client::Error>> + Send + 'static>>;

impl SecondRead {
    /// Opens the version again; the stream goes to S3, the hasher stays here.
    pub async fn open(
        ot: &opentext_client::Client,
        node_id: i64,
        version: u32,
    ) -> Result<(SecondRead, Chunks), StepError> {
        let download = ot.download_version(node_id, version as i64).await?;
        let seen = Arc::new(Mutex::new((Sha256::new(), 0u64)));
        let tap = seen.clone();
        let stream = download.stream.inspect_ok(move |chunk| {
            if let Ok(mut h) = tap.lock() {
                h.0.update(chunk);
                h.1 += chunk.len() as u64;
            }
        });
        Ok((SecondRead { seen }, Box::pin(stream)))
    }

    /// (size, hex SHA-256) of what streamed.
    pub fn digest(&self) -> Result<(u64, String), StepError> {
        let g = self
            .seen
            .lock()
            .map_err(|_| StepError::Retry("hasher poisoned".into()))?;
        Ok((g.1, hex::encode(g.0.clone().finalize())))
    }

    /// Fails unless the second read gave the first read's bytes.
    pub fn check(&self, size: u64, sha256: &str, what: &str) -> Result<(), StepError> {
        let (n, h) = self.digest()?;
        if n != size || h != sha256 {
            return Err(StepError::Permanent(format!(
                "OpenText's content of {what} changed between reads ({n} bytes, sha256 {h}, \
                 first read {size} bytes, {sha256}); the copy written is not trusted"
            )));
        }
        Ok(())
    }
}
