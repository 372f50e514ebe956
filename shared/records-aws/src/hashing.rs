//! An `AsyncRead` adapter that computes SHA-256 and counts bytes as content streams through
//! it, so the chain-of-custody hash costs no second read and no buffering.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
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

/// The running count and hash, and when to publish them: at end of stream, or as soon
/// as the expected length went through.
struct Tally {
    hasher: Option<Sha256>,
    size: u64,
    expected_len: Option<u64>,
    slot: DigestSlot,
}

impl Tally {
    fn new(slot: DigestSlot) -> Self {
        Self {
            hasher: Some(Sha256::new()),
            size: 0,
            expected_len: None,
            slot,
        }
    }

    fn observe(&mut self, fresh: &[u8]) {
        if fresh.is_empty() {
            return;
        }
        self.size += fresh.len() as u64;
        if let Some(h) = self.hasher.as_mut() {
            h.update(fresh);
            if self.expected_len == Some(self.size) {
                self.publish();
            }
        } else {
            // Bytes past the published length: the digest no longer describes what was
            // read, so withdraw it rather than certify a wrong hash.
            *self.slot.0.lock().unwrap() = None;
        }
    }

    /// End of stream: publishes the digest once.
    fn end(&mut self) {
        self.publish();
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

pub struct HashingReader<R> {
    inner: R,
    tally: Tally,
}

impl<R> HashingReader<R> {
    pub fn new(inner: R, slot: DigestSlot) -> Self {
        Self {
            inner,
            tally: Tally::new(slot),
        }
    }

    /// Publishes the digest as soon as `len` bytes went through, for consumers that stop
    /// reading at the known length instead of reading on to end of stream.
    pub fn with_expected_len(mut self, len: u64) -> Self {
        self.tally.expected_len = Some(len);
        self
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
                    this.tally.end();
                } else {
                    this.tally.observe(fresh);
                }
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

/// The stream form of [`HashingReader`]: chunks pass through unchanged (no copy) while
/// they are counted and hashed.
pub struct HashingChunks<S> {
    inner: S,
    tally: Tally,
}

impl<S> HashingChunks<S> {
    pub fn new(inner: S, slot: DigestSlot) -> Self {
        Self {
            inner,
            tally: Tally::new(slot),
        }
    }

    /// As [`HashingReader::with_expected_len`].
    pub fn with_expected_len(mut self, len: u64) -> Self {
        self.tally.expected_len = Some(len);
        self
    }
}

impl<S> Stream for HashingChunks<S>
where
    S: Stream<Item = std::io::Result<Bytes>> + Unpin,
{
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let next = Pin::new(&mut this.inner).poll_next(cx);
        match &next {
            Poll::Ready(Some(Ok(chunk))) => this.tally.observe(chunk),
            Poll::Ready(None) => this.tally.end(),
            _ => {}
        }
        next
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

    #[tokio::test]
    async fn chunks_pass_through_unchanged_and_are_hashed() {
        use futures_util::StreamExt;
        let data = b"records-bridge".repeat(5000);
        let chunks: Vec<std::io::Result<Bytes>> = data
            .chunks(777)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let slot = DigestSlot::default();
        let mut stream = HashingChunks::new(futures_util::stream::iter(chunks), slot.clone())
            .with_expected_len(data.len() as u64);
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.unwrap();
            assert!(chunk.len() <= 777, "chunks are passed on, not merged");
            out.extend_from_slice(&chunk);
        }
        assert_eq!(out, data);
        let d = slot.get().expect("digest published");
        assert_eq!(d.size, data.len() as u64);
        assert_eq!(d.sha256_hex, hex::encode(Sha256::digest(&data)));
    }

    #[tokio::test]
    async fn chunks_past_the_expected_length_withdraw_the_digest() {
        use futures_util::StreamExt;
        let chunks: Vec<std::io::Result<Bytes>> = vec![
            Ok(Bytes::from_static(b"abcd")),
            Ok(Bytes::from_static(b"ef")),
        ];
        let slot = DigestSlot::default();
        let mut stream = HashingChunks::new(futures_util::stream::iter(chunks), slot.clone())
            .with_expected_len(4);
        assert_eq!(stream.next().await.unwrap().unwrap().len(), 4);
        assert!(slot.get().is_some(), "published at the expected length");
        stream.next().await.unwrap().unwrap();
        assert!(slot.get().is_none(), "more bytes than expected: no digest");
    }
}
