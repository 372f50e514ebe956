//! Building and starting a stack (the real function binary, moto with the template's
//! resources, the simulator), and moto alone for the adapters' tests.
//!
//! ```ignore
//! let stack = start(
//!     StackOptions::new(env!("CARGO_BIN_EXE_declare"), "DeclareFunction")
//!         .with_policy(&POLICY)
//!         .with_env(&[("BATCH_CONCURRENCY", "1")]),
//! )
//! .await;
//! ```
//!
//! (`CARGO_BIN_EXE_*` is set only for a package's own tests, so the binary is the suite's.)

use std::collections::BTreeMap;

use local_stack::moto::Moto;
use local_stack::stack::{Stack, StackOptions};

/// What a suite adds to [`StackOptions`] before starting.
pub trait OptionsExt {
    /// The records policy put at the stack's policy source before the function starts.
    fn with_policy(self, policy: &str) -> Self;
    /// Extra function environment (wins over the template's).
    fn with_env(self, pairs: &[(&str, &str)]) -> Self;
    /// Template parameter overrides.
    fn with_parameters(self, pairs: &[(&str, &str)]) -> Self;
}

impl OptionsExt for StackOptions {
    fn with_policy(mut self, policy: &str) -> Self {
        self.policy = Some(policy.to_string());
        self
    }

    fn with_env(mut self, pairs: &[(&str, &str)]) -> Self {
        self.extra_env.extend(env(pairs));
        self
    }

    fn with_parameters(mut self, pairs: &[(&str, &str)]) -> Self {
        self.parameters.extend(env(pairs));
        self
    }
}

/// Name/value pairs as the map the stack takes (function environment, parameters).
pub fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Starts the stack; a test cannot go on without it.
pub async fn start(options: StackOptions) -> Stack {
    Stack::start(options).await.expect("stack starts")
}

/// The template's governed bucket (where uploads are declared from).
pub fn governed_bucket(stack: &Stack) -> String {
    stack.resource("GovernedBucket")
}

/// moto on its own, and an SDK configuration for it.
pub async fn moto() -> (Moto, aws_config::SdkConfig) {
    let moto = Moto::start().expect("moto");
    let sdk = local_stack::sdk_config(moto.endpoint()).await;
    (moto, sdk)
}

/// moto with one table shaped like the template's WorkflowTable, named `table`.
pub async fn moto_with_workflow_table(table: &str) -> (Moto, aws_sdk_dynamodb::Client) {
    let (moto, sdk) = moto().await;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    local_stack::create_workflow_table(&ddb, table)
        .await
        .expect("workflow table");
    (moto, ddb)
}
