//! The template's queues, by logical id: how many messages they hold, sending, and reading
//! what a function enqueued.

use aws_sdk_sqs::types::{Message, QueueAttributeName as A};
use local_stack::stack::Stack;
use serde_json::Value;

/// Messages in a queue (visible and in flight).
pub async fn queue_depth(stack: &Stack, logical: &str) -> usize {
    let out = stack
        .sqs()
        .get_queue_attributes()
        .queue_url(stack.resource(logical))
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("queue attributes");
    let attrs = out.attributes().cloned().unwrap_or_default();
    [
        A::ApproximateNumberOfMessages,
        A::ApproximateNumberOfMessagesNotVisible,
    ]
    .iter()
    .filter_map(|a| attrs.get(a).and_then(|v| v.parse::<usize>().ok()))
    .sum()
}

/// Sends `body` to the queue; returns the message id.
pub async fn send(stack: &Stack, logical: &str, body: &str) -> String {
    stack
        .sqs()
        .send_message()
        .queue_url(stack.resource(logical))
        .message_body(body)
        .send()
        .await
        .expect("send message")
        .message_id
        .expect("message id")
}

/// One receive: up to 10 messages, waiting up to 1 s for the first.
pub async fn receive(stack: &Stack, logical: &str) -> anyhow::Result<Vec<Message>> {
    let got = stack
        .sqs()
        .receive_message()
        .queue_url(stack.resource(logical))
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await?;
    Ok(got.messages.unwrap_or_default())
}

/// Deletes a received message.
pub async fn delete(stack: &Stack, logical: &str, message: &Message) -> anyhow::Result<()> {
    stack
        .sqs()
        .delete_message()
        .queue_url(stack.resource(logical))
        .receipt_handle(message.receipt_handle().unwrap_or_default())
        .send()
        .await?;
    Ok(())
}

/// The messages one [`receive`] gets, as JSON, left on the queue and visible again for the
/// function that consumes them.
pub async fn peek(stack: &Stack, logical: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for m in receive(stack, logical).await.expect("receive") {
        out.push(body_json(&m));
        stack
            .sqs()
            .change_message_visibility()
            .queue_url(stack.resource(logical))
            .receipt_handle(m.receipt_handle().expect("receipt handle"))
            .visibility_timeout(0)
            .send()
            .await
            .expect("visible again");
    }
    out
}

/// Every message on the queue, as JSON, taken off it (received and deleted until a receive
/// waiting 1 s gets nothing).
pub async fn take_all(stack: &Stack, logical: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let got = receive(stack, logical).await.expect("receive");
        if got.is_empty() {
            return out;
        }
        for m in &got {
            out.push(body_json(m));
            delete(stack, logical, m).await.expect("delete");
        }
    }
}

fn body_json(m: &Message) -> Value {
    let body = m.body().expect("message body");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{body:?} is not JSON: {e}"))
}
