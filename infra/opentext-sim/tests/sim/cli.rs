//! The binary: first stdout line, port 0, flags.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn binary_prints_its_url_first_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_opentext-sim"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--ticket-idle-secs",
            "60",
            "--error-rate",
            "503=0",
            "--part-size",
            "1024",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line())
        .await
        .expect("prints in time")
        .unwrap()
        .unwrap();
    let url = first
        .strip_prefix("opentext-sim listening on ")
        .expect("exact first line");
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/otcs/cs.exe"),
        "{first}"
    );
    assert!(!url.contains(":0/"), "real port printed: {first}");
    let ping: serde_json::Value = reqwest::get(format!("{url}/api/v1/ping"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ping["href"], "api/v1");
    child.kill().await.unwrap();
}
