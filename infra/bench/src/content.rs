//! Deterministic test content: byte `i` of every object is a pure function of `i`
//! (a SplitMix64 block of 1 MiB, repeated), so the same bytes can be streamed into S3 and, separately, into the
//! simulator without ever holding an object in memory.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use opentext_client::{ContentReader, ContentSource};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, ReadBuf};

const SEED: u64 = 0x0005_EED0_F7EC_04D5;

fn splitmix64(i: u64) -> u64 {
    let mut z = SEED.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Content repeats with this period: a pseudo-random block generated once, so producing
/// bytes costs a copy (the upload baseline must not be slowed by its own source).
const BLOCK: usize = 1024 * 1024;

fn block() -> &'static [u8] {
    static BLOCK_BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BLOCK_BYTES.get_or_init(|| {
        (0..BLOCK as u64 / 8)
            .flat_map(|i| splitmix64(i).to_le_bytes())
            .collect()
    })
}

/// Fills `buf` with the content bytes starting at offset `pos`.
pub fn fill(mut pos: u64, buf: &mut [u8]) {
    let block = block();
    let mut i = 0;
    while i < buf.len() {
        let off = (pos % BLOCK as u64) as usize;
        let n = (BLOCK - off).min(buf.len() - i);
        buf[i..i + n].copy_from_slice(&block[off..off + n]);
        i += n;
        pos += n as u64;
    }
}

/// The generated content as an OpenText upload source, hashed as it is read.
pub struct Generated {
    len: u64,
    file_name: String,
    digest: Arc<Mutex<Option<String>>>,
}

impl Generated {
    pub fn new(len: u64, file_name: &str) -> Self {
        Self {
            len,
            file_name: file_name.to_string(),
            digest: Arc::default(),
        }
    }

    /// SHA-256 (hex) of the last complete read.
    pub fn sha256(&self) -> Option<String> {
        self.digest.lock().expect("digest").clone()
    }
}

impl ContentSource for Generated {
    fn len(&self) -> u64 {
        self.len
    }
    fn file_name(&self) -> &str {
        &self.file_name
    }
    fn mime_type(&self) -> &str {
        "application/octet-stream"
    }
    fn open(&self) -> BoxFuture<'_, io::Result<ContentReader>> {
        let reader = GenReader {
            pos: 0,
            len: self.len,
            hasher: Some(Sha256::new()),
            digest: self.digest.clone(),
        };
        async move { Ok(Box::new(reader) as ContentReader) }.boxed()
    }
}

struct GenReader {
    pos: u64,
    len: u64,
    hasher: Option<Sha256>,
    digest: Arc<Mutex<Option<String>>>,
}

impl AsyncRead for GenReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.pos >= this.len {
            if let Some(h) = this.hasher.take() {
                *this.digest.lock().expect("digest") = Some(hex::encode(h.finalize()));
            }
            return Poll::Ready(Ok(()));
        }
        let n = (buf.remaining() as u64).min(this.len - this.pos) as usize;
        let dst = buf.initialize_unfilled_to(n);
        fill(this.pos, &mut dst[..n]);
        if let Some(h) = this.hasher.as_mut() {
            h.update(&dst[..n]);
        }
        buf.advance(n);
        this.pos += n as u64;
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_split_gives_the_same_bytes() {
        let len = BLOCK + 100;
        let mut whole = vec![0u8; len];
        fill(0, &mut whole);
        let mut parts = vec![0u8; len];
        let (a, b) = parts.split_at_mut(BLOCK - 13);
        fill(0, a);
        fill((BLOCK - 13) as u64, b);
        assert_eq!(whole, parts);
        assert_ne!(whole[..8], whole[8..16]);
    }
}
