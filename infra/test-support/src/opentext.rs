//! OpenText clients against the stack's simulator, for setting up what a records manager
//! would have done (records, holds, classifications) and reading it back.

use local_stack::stack::{SIM_SERVICE_PASSWORD, SIM_SERVICE_USER, Stack};
use opentext_client::model::RecordUpdate;
use opentext_client::{Client, Credentials};

/// The integration's service account (the user the functions sign in as).
pub fn service_client(stack: &Stack) -> Client {
    Client::new(
        stack.sim.base_url(),
        Credentials::new(SIM_SERVICE_USER, SIM_SERVICE_PASSWORD),
    )
    .expect("client")
}

/// The simulator's administrator.
pub fn admin_client(stack: &Stack) -> Client {
    Client::new(stack.sim.base_url(), Credentials::new("Admin", "livelink")).expect("client")
}

/// Makes a node an official record, as a records manager does: RM classification
/// `class_id`, its RSI and its record date.
pub async fn classify_official(
    ot: &Client,
    node_id: i64,
    class_id: i64,
    rsi: &str,
    record_date: &str,
) {
    let details = RecordUpdate {
        official: Some(true),
        rsi: Some(rsi.into()),
        record_date: Some(record_date.into()),
        ..Default::default()
    };
    ot.apply_rm_classification(node_id, class_id, &details, None)
        .await
        .expect("classify");
}
