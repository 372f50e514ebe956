//! An `AsyncRead` adapter that computes SHA-256 and counts bytes as content streams through
//! it, so the chain-of-custody hash costs no second read and no buffering.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, ReadBuf};

/// What a finished read saw: total bytes and the SHA-256 of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digested {
    pub size: u64,
    pub sha256_hex: String,
}

/// Shared slot the reader fills when it reaches end of stream.
#[derive(Debug, Clone, Default)]
pub struct DigestSlot(Arc<Mutex<Option<Digested>>>);

impl DigestSlot {
    /// The digest of the last read that ran to the end, if any.
    pub fn get(&self) -> Option<Digested> {
        self.0.lock().unwrap().clone()
    }
}

pub struct HashingReader<R> {
    inner: R,
    hasher: Option<Sha256>,
    size: u64,
    expected_len: Option<u64>,
    slot: DigestSlot,
}

impl<R> HashingReader<R> {
    pub fn new(inner: R, slot: DigestSlot) -> Self {
        Self {
            inner,
            hasher: Some(Sha256::new()),
            size: 0,
            expected_len: None,
            slot,
        }
    }

    /// Publishes the digest as soon as `len` bytes went through, for consumers that stop
    /// reading at the known length instead of reading on to end of stream.
    pub fn with_expected_len(mut self, len: u64) -> Self {
        self.expected_len = Some(len);
        self
    }

    fn publish(&mut self) {
        if let Some(h) = self.hasher.take() {
            *self.slot.0.lock().unwrap() = Some(Digested {
                size: self.size,
                sha256_hex: hex::encode(h.finalize()),
            });
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for HashingReader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let fresh = &buf.filled()[before..];
                if fresh.is_empty() {
                    // End of stream: publish the digest once.
                    this.publish();
                } else if let Some(h) = this.hasher.as_mut() {
                    h.update(fresh);
                    this.size += fresh.len() as u64;
                    if this.expected_len == Some(this.size) {
                        this.publish();
                    }
                } else {
                    // Bytes past the published length: the digest no longer describes
                    // what was read, so withdraw it rather than certify a wrong hash.
                    this.size += fresh.len() as u64;
                    *this.slot.0.lock().unwrap() = None;
                }
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn digest_matches_and_is_published_at_end() {
        let data = b"hello world".repeat(1000);
        let slot = DigestSlot::default();
        let mut r = HashingReader::new(&data[..], slot.clone());
        let mut out = Vec::new();
        r.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, data);
        let d = slot.get().expect("digest published");
        assert_eq!(d.size, data.len() as u64);
        assert_eq!(d.sha256_hex, hex::encode(Sha256::digest(&data)));
    }

    #[tokio::test]
    async fn expected_length_publishes_without_reading_to_eof() {
        let data = vec![3u8; 1000];
        let slot = DigestSlot::default();
        let mut r = HashingReader::new(&data[..], slot.clone()).with_expected_len(1000);
        let mut buf = vec![0u8; 1000];
        r.read_exact(&mut buf).await.unwrap();
        assert_eq!(slot.get().unwrap().size, 1000);
    }

    #[tokio::test]
    async fn partial_read_publishes_nothing() {
        let data = vec![7u8; 4096];
        let slot = DigestSlot::default();
        let mut r = HashingReader::new(&data[..], slot.clone());
        let mut buf = [0u8; 100];
        r.read_exact(&mut buf).await.unwrap();
        assert!(slot.get().is_none());
    }
}
