//! Deterministic content of any size: byte `i` of every object is a pure function of `i`, so
//! the same bytes can be streamed into S3 and, separately, into the simulator without ever
//! holding an object in memory. A pseudo-random 1 MiB block (SplitMix64) repeats, each
//! repetition stamped with its index in its first 8 bytes, so no two blocks (or upload parts
//! of whole MiB) are alike and a part out of place changes the digest.

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

/// The period of the content: producing bytes costs a copy (an upload baseline must not be
/// slowed by its own source).
pub const BLOCK: usize = 1024 * 1024;

fn splitmix64(i: u64) -> u64 {
    let mut z = SEED.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

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
        if off < 8 {
            let stamp = (pos / BLOCK as u64).to_le_bytes();
            let upto = (8 - off).min(n);
            buf[i..i + upto].copy_from_slice(&stamp[off..off + upto]);
        }
        i += n;
        pos += n as u64;
    }
}

/// The content as an OpenText upload source, hashed as it is read.
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

    /// SHA-256 (hex) of the bytes the last reader produced, once it reached the end.
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
    use tokio::io::AsyncReadExt;

    fn bytes(len: usize) -> Vec<u8> {
        let mut out = vec![0; len];
        fill(0, &mut out);
        out
    }

    #[test]
    fn any_split_gives_the_same_bytes_and_no_two_blocks_are_alike() {
        let len = 2 * BLOCK + 100;
        let whole = bytes(len);
        let mut parts = vec![0u8; len];
        let (a, b) = parts.split_at_mut(BLOCK - 3);
        fill(0, a);
        fill((BLOCK - 3) as u64, b);
        assert_eq!(whole, parts);
        assert_ne!(whole[..8], whole[8..16]);
        assert_ne!(whole[..BLOCK], whole[BLOCK..2 * BLOCK]);
    }

    #[tokio::test]
    async fn a_read_source_gives_the_content_and_its_digest() {
        let source = Generated::new(BLOCK as u64 + 5, "g.bin");
        assert_eq!(source.sha256(), None);
        let mut read = Vec::new();
        source
            .open()
            .await
            .unwrap()
            .read_to_end(&mut read)
            .await
            .unwrap();
        assert_eq!(read, bytes(BLOCK + 5));
        assert_eq!(source.sha256(), Some(crate::hashing::sha256_hex(&read)));
    }
}
