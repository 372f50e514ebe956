//! The whole records-bridge stack on one machine: moto with the template's resources, the
//! OpenText simulator, and a function binary driven through the Runtime API emulator by an
//! SQS event source. The end-to-end tests and `records-local demo` both use it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::function::FunctionProcess;
use crate::moto::Moto;
use crate::runtime_api::RuntimeApi;
use crate::sqs_source::{PollReport, SqsEventSource};
use crate::template::{Deployed, Template};

/// The service account the simulator seeds for the bridge.
pub const SIM_SERVICE_USER: &str = "svc-records";
pub const SIM_SERVICE_PASSWORD: &str = "svc-records-pass";

pub struct StackOptions {
    /// The compiled function binary (e.g. `target/debug/declare`).
    pub function_binary: PathBuf,
    /// The template's logical id of that function.
    pub function_logical_id: String,
    /// Template parameter overrides (e.g. `DeclarationPolicy`).
    pub parameters: BTreeMap<String, String>,
    /// Extra function environment (wins over the template's).
    pub extra_env: BTreeMap<String, String>,
    /// Copy the function's log lines to stderr.
    pub echo_logs: bool,
    /// Resource name prefix in moto.
    pub prefix: String,
    /// The simulator's chunked-upload settings (`Stack::start`); `None` = its defaults.
    pub sim_multipart: Option<opentext_sim::config::MultipartSettings>,
    /// The records policy put at the stack's policy source (its SSM parameter) before the
    /// function starts, as a records team would; `None` keeps the template's sample.
    pub policy: Option<String>,
}

impl StackOptions {
    pub fn new(function_binary: impl Into<PathBuf>, function_logical_id: &str) -> Self {
        Self {
            function_binary: function_binary.into(),
            function_logical_id: function_logical_id.into(),
            parameters: BTreeMap::new(),
            extra_env: BTreeMap::new(),
            echo_logs: std::env::var_os("ECHO_FUNCTION_LOGS").is_some(),
            prefix: "rb".into(),
            sim_multipart: None,
            policy: None,
        }
    }
}

/// The logical id of the records policy parameter in `template.yaml`.
pub const POLICY_PARAMETER: &str = "RecordsPolicyParameter";

/// Puts `policy` as the new version of the stack's policy parameter (what a records team does
/// with `aws ssm put-parameter --overwrite`).
pub async fn set_policy(
    sdk: &aws_config::SdkConfig,
    deployed: &Deployed,
    policy: &str,
) -> Result<()> {
    let name = deployed.reference(POLICY_PARAMETER)?;
    aws_sdk_ssm::Client::new(sdk)
        .put_parameter()
        .name(name)
        .value(policy)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .overwrite(true)
        .send()
        .await
        .with_context(|| format!("putting the policy into {name}"))?;
    Ok(())
}

/// The simulator, in this process (tests) or as its own process (demo, benches).
pub enum Sim {
    InProcess(opentext_sim::SimServer),
    Process(crate::sim_process::SimProcess),
}

impl Sim {
    pub fn base_url(&self) -> String {
        match self {
            Sim::InProcess(s) => s.base_url(),
            Sim::Process(p) => p.base_url().to_string(),
        }
    }

    pub fn admin_url(&self) -> String {
        match self {
            Sim::InProcess(s) => s.admin_url(),
            Sim::Process(p) => crate::sim_process::admin_url_of(p.base_url()),
        }
    }
}

/// Another function of the stack, with its own Runtime API and (if queue-fed) event source.
pub struct Companion {
    pub runtime: RuntimeApi,
    pub function: FunctionProcess,
    pub source: Option<SqsEventSource>,
}

impl Companion {
    /// Feeds the function from its queue until the queue is quiet (like `Stack::drain`).
    pub async fn drain(&self, max_polls: usize) -> Result<usize> {
        let Some(source) = &self.source else {
            return Ok(0);
        };
        let (mut handled, mut quiet) = (0, 0);
        for _ in 0..max_polls {
            let r = source
                .poll_once(&self.runtime, Duration::from_secs(1))
                .await?;
            if r.received == 0 {
                quiet += 1;
                if quiet >= 2 {
                    break;
                }
            } else {
                quiet = 0;
                handled += r.deleted;
            }
        }
        Ok(handled)
    }
}

pub struct Stack {
    pub moto: Moto,
    pub sdk: aws_config::SdkConfig,
    pub template: Template,
    pub deployed: Deployed,
    pub sim: Sim,
    pub runtime: RuntimeApi,
    pub function: FunctionProcess,
    /// The SQS event source, for functions the template feeds from a queue; others (Function
    /// URL, schedule) are invoked directly through `runtime`.
    pub source: Option<SqsEventSource>,
    pub env: BTreeMap<String, String>,
    options: StackOptions,
}

impl Stack {
    pub async fn start(options: StackOptions) -> Result<Stack> {
        let mut config = opentext_sim::SimConfig::default();
        if let Some(m) = &options.sim_multipart {
            config.multipart = m.clone();
        }
        let sim = opentext_sim::SimServer::start(config).await?;
        Self::start_with_sim(options, Sim::InProcess(sim)).await
    }

    /// Starts everything around an already running simulator.
    pub async fn start_with_sim(options: StackOptions, sim: Sim) -> Result<Stack> {
        let moto = Moto::start()?;
        let sdk = crate::sdk_config(moto.endpoint()).await;
        let template = Template::load(&crate::workspace_root().join("template.yaml"))?;
        let mut parameters = options.parameters.clone();
        parameters
            .entry("OpenTextBaseUrl".into())
            .or_insert_with(|| sim.base_url());
        let deployed = template.deploy(&sdk, &options.prefix, &parameters).await?;

        // The secret holds the simulator's service account, as an operator would set it.
        // Secrets that generate something other than a password (e.g. the callback signing
        // keys) keep their generated value.
        for (logical, res) in &deployed.resources {
            let service_account = matches!(
                template.secret_generated_key(logical).as_deref(),
                None | Some("password")
            );
            if res.kind == "AWS::SecretsManager::Secret" && service_account {
                aws_sdk_secretsmanager::Client::new(&sdk)
                    .put_secret_value()
                    .secret_id(&res.reference)
                    .secret_string(
                        serde_json::json!({"username": SIM_SERVICE_USER, "password": SIM_SERVICE_PASSWORD})
                            .to_string(),
                    )
                    .send()
                    .await
                    .with_context(|| format!("setting secret {logical}"))?;
            }
        }

        if let Some(policy) = &options.policy {
            set_policy(&sdk, &deployed, policy).await?;
        }
        let mut env = template.function_environment(&options.function_logical_id, &deployed)?;
        env.insert("AWS_ENDPOINT_URL".into(), moto.endpoint().to_string());
        env.insert("S3_FORCE_PATH_STYLE".into(), "true".into());
        env.entry("RUST_LOG".into())
            .or_insert_with(|| "info".into());
        env.extend(options.extra_env.clone());

        let runtime = RuntimeApi::start(&options.function_logical_id).await?;
        let function = FunctionProcess::spawn(
            &options.function_binary,
            &runtime.address(),
            &options.function_logical_id,
            &env,
            options.echo_logs,
        )?;
        let source = match template.function_queue(&options.function_logical_id) {
            Some(queue_logical) => {
                let mut source = SqsEventSource::new(
                    aws_sdk_sqs::Client::new(&sdk),
                    deployed.reference(&queue_logical)?,
                )
                .await?;
                source.retry_delay = Some(Duration::ZERO);
                Some(source)
            }
            None => None,
        };
        let stack = Stack {
            moto,
            sdk,
            template,
            deployed,
            sim,
            runtime,
            function,
            source,
            env,
            options,
        };
        stack.wait_ready().await?;
        Ok(stack)
    }

    async fn wait_ready(&self) -> Result<()> {
        if let Err(e) = self.runtime.wait_first_poll(Duration::from_secs(30)).await {
            bail!(
                "function did not start: {e}; init error: {:?}; logs:\n{}",
                self.runtime.init_error(),
                self.function.logs().join("\n")
            );
        }
        Ok(())
    }

    /// Starts another function of the same template against the same moto and simulator
    /// (e.g. the lifecycle worker beside declare, for the demo).
    pub async fn companion(
        &self,
        binary: &std::path::Path,
        logical_id: &str,
        echo_logs: bool,
    ) -> Result<Companion> {
        self.companion_with_env(binary, logical_id, echo_logs, &BTreeMap::new())
            .await
    }

    /// [`Stack::companion`] with extra environment (wins over the template's).
    pub async fn companion_with_env(
        &self,
        binary: &std::path::Path,
        logical_id: &str,
        echo_logs: bool,
        extra_env: &BTreeMap<String, String>,
    ) -> Result<Companion> {
        let mut env = self
            .template
            .function_environment(logical_id, &self.deployed)?;
        env.insert("AWS_ENDPOINT_URL".into(), self.moto.endpoint().to_string());
        env.insert("S3_FORCE_PATH_STYLE".into(), "true".into());
        env.entry("RUST_LOG".into())
            .or_insert_with(|| "info".into());
        env.extend(extra_env.clone());
        let runtime = RuntimeApi::start(logical_id).await?;
        let function =
            FunctionProcess::spawn(binary, &runtime.address(), logical_id, &env, echo_logs)?;
        let source = match self.template.function_queue(logical_id) {
            Some(queue) => {
                let mut source =
                    SqsEventSource::new(self.sqs(), self.deployed.reference(&queue)?).await?;
                source.retry_delay = Some(Duration::ZERO);
                Some(source)
            }
            None => None,
        };
        if let Err(e) = runtime.wait_first_poll(Duration::from_secs(30)).await {
            bail!(
                "{logical_id} did not start: {e}; logs:\n{}",
                function.logs().join("\n")
            );
        }
        Ok(Companion {
            runtime,
            function,
            source,
        })
    }

    /// Replaces the function process (after a crash), optionally with other extra env.
    pub async fn restart_function(&mut self, extra_env: BTreeMap<String, String>) -> Result<()> {
        self.function.kill();
        let mut env = self.env.clone();
        for k in self.options.extra_env.keys() {
            env.remove(k);
        }
        env.extend(extra_env);
        self.runtime = RuntimeApi::start(&self.options.function_logical_id).await?;
        self.function = FunctionProcess::spawn(
            &self.options.function_binary,
            &self.runtime.address(),
            &self.options.function_logical_id,
            &env,
            self.options.echo_logs,
        )?;
        self.wait_ready().await
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        crate::s3_client(&self.sdk)
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk)
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk)
    }

    pub fn resource(&self, logical: &str) -> String {
        self.deployed
            .reference(logical)
            .expect("template resource")
            .to_string()
    }

    /// What `!GetAtt <logical>.Arn` is locally.
    pub fn resource_arn(&self, logical: &str) -> String {
        self.deployed
            .resources
            .get(logical)
            .map(|r| r.arn.clone())
            .expect("template resource")
    }

    /// The SQS event source (panics for a function without one: a test bug).
    pub fn source_mut(&mut self) -> &mut SqsEventSource {
        self.source
            .as_mut()
            .expect("function has an SQS event source")
    }

    /// One poll of the queue into the function.
    pub async fn poll(&self) -> Result<PollReport> {
        self.source
            .as_ref()
            .context("this function has no SQS event source; invoke it through `runtime`")?
            .poll_once(&self.runtime, Duration::from_secs(1))
            .await
    }

    /// Polls until the queue gives nothing for `quiet_polls` polls in a row, or `max_polls`.
    pub async fn drain(&self, max_polls: usize) -> Result<Vec<PollReport>> {
        let mut reports = Vec::new();
        let mut quiet = 0;
        for _ in 0..max_polls {
            let r = self.poll().await?;
            if r.received == 0 {
                quiet += 1;
                if quiet >= 2 {
                    break;
                }
            } else {
                quiet = 0;
                reports.push(r);
            }
        }
        Ok(reports)
    }

    /// GET on the simulator's admin API (`/sim/admin/...`).
    pub async fn sim_admin(&self, path: &str) -> Result<serde_json::Value> {
        let url = format!("{}/{}", self.sim.admin_url(), path.trim_start_matches('/'));
        Ok(reqwest::get(&url).await?.error_for_status()?.json().await?)
    }

    /// POST JSON to the simulator's admin API.
    pub async fn sim_admin_post(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value> {
        let url = format!("{}/{}", self.sim.admin_url(), path.trim_start_matches('/'));
        let resp = reqwest::Client::new()
            .post(&url)
            .json(&body)
            .send()
            .await?
            .error_for_status()?;
        Ok(resp.json().await.unwrap_or(serde_json::Value::Null))
    }
}
