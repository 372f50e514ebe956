use std::sync::Arc;
use std::time::Instant;

use opentext_client::{CreateOptions, Error, ReaderSource, UploadMode, VersionOptions};
use opentext_sim::SimConfig;
use serde_json::json;

use crate::common::*;

const MIB: u64 = 1024 * 1024;

/// A simulator whose chunked API starts at 1 MiB with 1 MiB parts.
async fn small_parts_sim() -> Sim {
    let mut cfg = SimConfig::default();
    cfg.multipart.min_size = MIB;
    cfg.multipart.part_size = MIB;
    Sim::start_with(cfg).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_upload_200_mib_through_chunked_api_and_streamed_back() {
    let sim = Sim::start().await;
    let c = sim.svc();
    let len = 200 * MIB;
    let src = Arc::new(GeneratedSource::new(len, "big.bin"));
    let started = Instant::now();
    let doc = c
        .create_document(
            FINANCE,
            &unique("big"),
            src.clone(),
            &CreateOptions::default(),
        )
        .await
        .unwrap();
    let upload_time = started.elapsed();
    let expected = src.sha256().expect("source fully read");

    // It went through the chunked API: start, one call per part of the server's size, complete.
    let parts = len.div_ceil(SimConfig::default().multipart.part_size) as usize;
    assert_eq!(parts, 40, "200 MiB in the default 5 MiB parts");
    assert_eq!(sim.count("POST", "/api/v2/multipart").await, 1 + parts + 1);
    assert_eq!(sim.count("DELETE", "/api/v2/multipart").await, 0);

    let admin = sim.node(doc.id).await;
    assert_eq!(admin["versions"][0]["size"].as_u64(), Some(len));
    assert_eq!(
        admin["versions"][0]["sha256"].as_str(),
        Some(expected.as_str())
    );
    assert_eq!(c.get_node(doc.id).await.unwrap().size, Some(len as i64));

    let started = Instant::now();
    let (n, hash) = hash_download(c.download(doc.id).await.unwrap()).await;
    assert_eq!(n, len);
    assert_eq!(hash, expected);
    eprintln!(
        "200 MiB: upload {upload_time:?}, download {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn add_version_through_chunked_api() {
    let sim = small_parts_sim().await;
    let c = sim.svc();
    let small = Arc::new(GeneratedSource::new(1000, "a.bin"));
    let doc = c
        .create_document(
            FINANCE,
            &unique("chunkver"),
            small,
            &CreateOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        sim.count("POST", "/api/v2/multipart").await,
        0,
        "below min_size: one request"
    );

    let src = Arc::new(GeneratedSource::new(3 * MIB + 17, "a.bin"));
    let opts = VersionOptions {
        description: Some("chunked".into()),
        ..VersionOptions::default()
    };
    let v = c.add_version(doc.id, src.clone(), &opts).await.unwrap();
    assert_eq!(v.version_number, 2);
    assert_eq!(v.file_size, Some((3 * MIB + 17) as i64));
    assert_eq!(
        sim.count("POST", "/api/v2/multipart/").await,
        4 + 1,
        "4 parts + complete"
    );
    let admin = sim.node(doc.id).await;
    assert_eq!(
        admin["versions"][1]["sha256"].as_str(),
        src.sha256().as_deref()
    );
}

#[tokio::test]
async fn failed_part_is_retried_from_its_buffer() {
    let sim = small_parts_sim().await;
    let c = sim.svc();
    sim.fault_next(json!({"status": 503, "count": 2, "path_contains": "/multipart/"}))
        .await;
    let src = Arc::new(GeneratedSource::new(2 * MIB + 5, "r.bin"));
    let opts = CreateOptions {
        upload_mode: UploadMode::Chunked,
        ..CreateOptions::default()
    };
    let doc = c
        .create_document(FINANCE, &unique("retrypart"), src.clone(), &opts)
        .await
        .unwrap();
    let admin = sim.node(doc.id).await;
    assert_eq!(
        admin["versions"][0]["sha256"].as_str(),
        src.sha256().as_deref()
    );
    // Part 1 took three attempts; the source itself was read once.
    let part1 = sim
        .requests()
        .await
        .iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with("/1")) && r["method"] == "POST")
        .count();
    assert_eq!(part1, 3);
}

#[tokio::test]
async fn short_source_cancels_the_upload_session() {
    let sim = small_parts_sim().await;
    let c = sim.svc();
    // Declares 3 MiB but yields 1.5 MiB.
    let data = vec![7u8; (MIB + MIB / 2) as usize];
    let src = Arc::new(ReaderSource::new(
        std::io::Cursor::new(data),
        3 * MIB,
        "short.bin",
    ));
    let err = c
        .create_document(FINANCE, &unique("short"), src, &CreateOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    assert_eq!(
        sim.count("DELETE", "/api/v2/multipart/").await,
        1,
        "session cancelled"
    );
    assert_eq!(
        sim.count("POST", "/api/v2/nodes").await,
        0,
        "no node created"
    );
}

#[tokio::test]
async fn one_shot_reader_is_never_resent_once_read() {
    let sim = Sim::start().await;
    let c = sim.svc();
    c.login().await.unwrap();
    let data = vec![42u8; 4 * MIB as usize];
    sim.fault_next(json!({"status": 503, "count": 1, "path_contains": "/api/v2/nodes"}))
        .await;
    let src = Arc::new(ReaderSource::new(
        std::io::Cursor::new(data.clone()),
        data.len() as u64,
        "once.bin",
    ));
    let result = c
        .create_document(FINANCE, &unique("once"), src, &CreateOptions::default())
        .await;
    let attempts = sim.count("POST", "/api/v2/nodes").await;
    match result {
        // The 503 came before any byte was read: the reader went back to the source and was sent once.
        Ok(doc) => {
            assert_eq!(attempts, 2);
            assert_eq!(
                sim.node(doc.id).await["versions"][0]["sha256"].as_str(),
                Some(sha256_hex(&data).as_str())
            );
        }
        // Bytes went out: no second attempt with a half-consumed reader.
        Err(e) => {
            assert_eq!(e.status(), Some(503), "{e:?}");
            assert_eq!(attempts, 1);
        }
    }
}

/// Content that arrives in chunks of an odd size (as an HTTP body's frames do), counting
/// how often it was opened.
struct OddChunks {
    bytes: bytes::Bytes,
    chunk: usize,
    opened: std::sync::atomic::AtomicUsize,
}

impl opentext_client::ContentSource for OddChunks {
    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }
    fn file_name(&self) -> &str {
        "odd.bin"
    }
    fn mime_type(&self) -> &str {
        "application/octet-stream"
    }
    fn open(
        &self,
    ) -> futures_util::future::BoxFuture<'_, std::io::Result<opentext_client::ContentReader>> {
        unreachable!("the chunked upload reads chunks")
    }
    fn open_chunks(
        &self,
    ) -> futures_util::future::BoxFuture<'_, std::io::Result<opentext_client::ContentChunks>> {
        self.opened
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let chunks: Vec<std::io::Result<bytes::Bytes>> = self
            .bytes
            .chunks(self.chunk)
            .map(|c| Ok(self.bytes.slice_ref(c)))
            .collect();
        Box::pin(async move {
            Ok(Box::pin(futures_util::stream::iter(chunks)) as opentext_client::ContentChunks)
        })
    }
}

#[tokio::test]
async fn chunks_straddling_parts_are_cut_at_part_boundaries_and_retried_without_a_reread() {
    use sha2::Digest;
    let sim = small_parts_sim().await;
    let c = sim.svc();
    // Part 2 fails once: its retry must resend the kept chunks, not reopen the source.
    // (No call before part 2 has "/2" in its path: settings, sign-in, start, part 1.)
    sim.fault_next(json!({"status": 503, "count": 1, "path_contains": "/2"}))
        .await;
    let data: Vec<u8> = (0..(3 * MIB + 123) as usize)
        .map(|i| (i * 31 % 251) as u8)
        .collect();
    let src = Arc::new(OddChunks {
        bytes: bytes::Bytes::from(data.clone()),
        chunk: 300 * 1024 + 7,
        opened: Default::default(),
    });
    let opts = CreateOptions {
        upload_mode: UploadMode::Chunked,
        ..CreateOptions::default()
    };
    let doc = c
        .create_document(FINANCE, &unique("oddchunks"), src.clone(), &opts)
        .await
        .unwrap();
    let admin = sim.node(doc.id).await;
    assert_eq!(
        admin["versions"][0]["size"].as_u64(),
        Some(data.len() as u64)
    );
    assert_eq!(
        admin["versions"][0]["sha256"].as_str(),
        Some(hex::encode(sha2::Sha256::digest(&data)).as_str())
    );
    assert_eq!(
        src.opened.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "read once"
    );
    assert_eq!(
        sim.count("POST", "/api/v2/multipart/").await,
        4 + 1 + 1,
        "4 parts, one retried, + complete"
    );
    let part2 = sim
        .requests()
        .await
        .iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with("/2")) && r["method"] == "POST")
        .count();
    assert_eq!(part2, 2, "part 2 was the one refused and resent");
}
