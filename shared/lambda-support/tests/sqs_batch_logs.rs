//! Concurrent messages interleave at every await; each log line must still carry the id of the
//! message it was written for (a span entered across an await would not). Its own test binary:
//! a subscriber installed for the whole process, so no test running beside it without one can
//! leave the message span's callsite disabled.

use std::sync::{Arc, Mutex};

use aws_lambda_events::sqs::SqsMessage;
use lambda_support::sqs_batch::run;

#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn msg(id: &str, body: &str) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(id.into());
    m.body = Some(body.into());
    m
}

#[tokio::test]
async fn concurrent_messages_log_under_their_own_message_id() {
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(true)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let batch = vec![msg("m-one", "one"), msg("m-two", "two")];
    run(
        batch,
        2,
        |_| None,
        |m| async move {
            let body = m.body.unwrap_or_default();
            for step in 0..3 {
                tracing::info!(body = %body, step, "working");
                tokio::task::yield_now().await;
            }
            true
        },
    )
    .await;
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    let mut seen = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let Some(body) = v["fields"]["body"].as_str() else {
            continue;
        };
        seen += 1;
        assert_eq!(v["span"]["message_id"], format!("m-{body}"), "{line}");
    }
    assert_eq!(seen, 6, "{text}");
}
