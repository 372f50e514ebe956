//! Reads `template.yaml` (the SAM template that is deployed) and creates its storage,
//! queues, tables and secrets in moto, so the local stack cannot drift from what ships.
//! It also resolves each function's environment (`!Ref` to parameters and resources).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};
use aws_sdk_s3::types::{
    BucketVersioningStatus, Event, NotificationConfiguration, QueueConfiguration,
    VersioningConfiguration,
};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_norway::Value;

/// The parts of the template the local stack needs.
pub struct Template {
    root: Value,
}

/// What one template resource became locally.
#[derive(Debug, Clone)]
pub struct Physical {
    pub kind: String,
    /// What `!Ref` returns for this resource type (bucket/table name, queue URL, secret ARN).
    pub reference: String,
    /// What `!GetAtt X.Arn` returns.
    pub arn: String,
}

/// The template's resources as created in moto, by logical id.
#[derive(Debug, Clone, Default)]
pub struct Deployed {
    pub resources: BTreeMap<String, Physical>,
    pub parameters: BTreeMap<String, String>,
}

impl Deployed {
    pub fn reference(&self, logical: &str) -> Result<&str> {
        self.resources
            .get(logical)
            .map(|p| p.reference.as_str())
            .ok_or_else(|| anyhow!("template has no resource {logical}"))
    }
}

fn tag_name(v: &Value) -> Option<(String, &Value)> {
    match v {
        Value::Tagged(t) => Some((
            t.tag.to_string().trim_start_matches('!').to_string(),
            &t.value,
        )),
        _ => None,
    }
}

/// `!GetAtt Logical.Arn` or `Fn::GetAtt: [Logical, Arn]` → `Logical`.
fn get_att_target(v: &Value) -> Option<String> {
    if let Some((tag, inner)) = tag_name(v)
        && tag == "GetAtt"
    {
        return inner
            .as_str()
            .map(|s| s.split('.').next().unwrap_or(s).to_string());
    }
    v.get("Fn::GetAtt")
        .and_then(|a| a.get(0))
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn ref_target(v: &Value) -> Option<String> {
    if let Some((tag, inner)) = tag_name(v)
        && tag == "Ref"
    {
        return inner.as_str().map(str::to_string);
    }
    v.get("Ref").and_then(Value::as_str).map(str::to_string)
}

fn kebab(logical: &str) -> String {
    let mut out = String::new();
    for (i, c) in logical.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

impl Template {
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let root: Value =
            serde_norway::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        Ok(Self { root })
    }

    fn resources(&self) -> impl Iterator<Item = (&str, &str, &Value)> {
        self.root
            .get("Resources")
            .and_then(Value::as_mapping)
            .into_iter()
            .flat_map(|m| m.iter())
            .filter_map(|(k, v)| {
                Some((
                    k.as_str()?,
                    v.get("Type")?.as_str()?,
                    v.get("Properties").unwrap_or(&Value::Null),
                ))
            })
    }

    fn resource_type(&self, logical: &str) -> Option<&str> {
        self.resources()
            .find(|(l, _, _)| *l == logical)
            .map(|(_, t, _)| t)
    }

    /// The `GenerateSecretString.GenerateStringKey` of a secret (`password`, `current`, …).
    pub fn secret_generated_key(&self, logical: &str) -> Option<String> {
        self.resources()
            .find(|(l, t, _)| *l == logical && *t == "AWS::SecretsManager::Secret")?
            .2
            .get("GenerateSecretString")?
            .get("GenerateStringKey")?
            .as_str()
            .map(str::to_string)
    }

    /// Parameter defaults, overridden by `overrides`.
    pub fn parameters(&self, overrides: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if let Some(params) = self.root.get("Parameters").and_then(Value::as_mapping) {
            for (k, v) in params {
                let Some(name) = k.as_str() else { continue };
                let default = match v.get("Default") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    Some(Value::Bool(b)) => b.to_string(),
                    _ => String::new(),
                };
                out.insert(name.to_string(), default);
            }
        }
        out.extend(overrides.clone());
        out
    }

    /// Creates queues, tables, secrets, SSM parameters and buckets (with notifications) in
    /// moto, named `<prefix>-<logical-id-in-kebab-case>` (parameters `/<prefix>/<kebab>`).
    pub async fn deploy(
        &self,
        sdk: &aws_config::SdkConfig,
        prefix: &str,
        overrides: &BTreeMap<String, String>,
    ) -> Result<Deployed> {
        let mut out = Deployed {
            parameters: self.parameters(overrides),
            ..Default::default()
        };
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let ddb = aws_sdk_dynamodb::Client::new(sdk);
        let sm = aws_sdk_secretsmanager::Client::new(sdk);
        let ssm = aws_sdk_ssm::Client::new(sdk);
        let s3 = crate::s3_client(sdk);

        // Queues first, dead-letter queues before the queues that redrive into them.
        let mut queues: Vec<(&str, &Value)> = self
            .resources()
            .filter(|(_, t, _)| *t == "AWS::SQS::Queue")
            .map(|(l, _, p)| (l, p))
            .collect();
        queues.sort_by_key(|(_, p)| p.get("RedrivePolicy").is_some());
        for (logical, props) in queues {
            let name = format!("{prefix}-{}", kebab(logical));
            let mut req = sqs.create_queue().queue_name(&name);
            if let Some(v) = props.get("VisibilityTimeout") {
                req = req.attributes(QueueAttributeName::VisibilityTimeout, scalar(v, &out)?);
            }
            if let Some(rp) = props.get("RedrivePolicy") {
                let dlq = rp
                    .get("deadLetterTargetArn")
                    .and_then(get_att_target)
                    .context("RedrivePolicy.deadLetterTargetArn must be !GetAtt Queue.Arn")?;
                let max = scalar(rp.get("maxReceiveCount").context("maxReceiveCount")?, &out)?;
                let policy = serde_json::json!({
                    "deadLetterTargetArn": out.resources.get(&dlq).context("DLQ not created")?.arn,
                    "maxReceiveCount": max,
                });
                req = req.attributes(QueueAttributeName::RedrivePolicy, policy.to_string());
            }
            let url = req.send().await?.queue_url.context("queue url")?;
            let arn = format!("arn:aws:sqs:us-east-1:123456789012:{name}");
            out.resources.insert(
                logical.to_string(),
                Physical {
                    kind: "AWS::SQS::Queue".into(),
                    reference: url,
                    arn,
                },
            );
        }

        for (logical, _, props) in self
            .resources()
            .filter(|(_, t, _)| *t == "AWS::DynamoDB::Table")
        {
            let name = format!("{prefix}-{}", kebab(logical));
            let mut req = ddb
                .create_table()
                .table_name(&name)
                .billing_mode(BillingMode::PayPerRequest);
            for def in props
                .get("AttributeDefinitions")
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
            {
                let attr_type = match def.get("AttributeType").and_then(Value::as_str) {
                    Some("N") => ScalarAttributeType::N,
                    Some("B") => ScalarAttributeType::B,
                    _ => ScalarAttributeType::S,
                };
                req = req.attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(
                            def.get("AttributeName")
                                .and_then(Value::as_str)
                                .context("AttributeName")?,
                        )
                        .attribute_type(attr_type)
                        .build()?,
                );
            }
            for key in props
                .get("KeySchema")
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
            {
                let key_type = match key.get("KeyType").and_then(Value::as_str) {
                    Some("RANGE") => KeyType::Range,
                    _ => KeyType::Hash,
                };
                req = req.key_schema(
                    KeySchemaElement::builder()
                        .attribute_name(
                            key.get("AttributeName")
                                .and_then(Value::as_str)
                                .context("AttributeName")?,
                        )
                        .key_type(key_type)
                        .build()?,
                );
            }
            req.send()
                .await
                .with_context(|| format!("creating table {name}"))?;
            if let Some(ttl) = props.get("TimeToLiveSpecification")
                && ttl.get("Enabled").and_then(Value::as_bool) == Some(true)
            {
                let attr = ttl
                    .get("AttributeName")
                    .and_then(Value::as_str)
                    .context("TTL AttributeName")?;
                ddb.update_time_to_live()
                    .table_name(&name)
                    .time_to_live_specification(
                        TimeToLiveSpecification::builder()
                            .attribute_name(attr)
                            .enabled(true)
                            .build()?,
                    )
                    .send()
                    .await?;
            }
            let arn = format!("arn:aws:dynamodb:us-east-1:123456789012:table/{name}");
            out.resources.insert(
                logical.to_string(),
                Physical {
                    kind: "AWS::DynamoDB::Table".into(),
                    reference: name,
                    arn,
                },
            );
        }

        for (logical, _, props) in self
            .resources()
            .filter(|(_, t, _)| *t == "AWS::SecretsManager::Secret")
        {
            let name = format!("{prefix}/{}", kebab(logical));
            let created = sm
                .create_secret()
                .name(&name)
                .secret_string(generated_secret(props))
                .send()
                .await
                .with_context(|| format!("creating secret {name}"))?;
            let arn = created.arn.unwrap_or_else(|| name.clone());
            out.resources.insert(
                logical.to_string(),
                Physical {
                    kind: "AWS::SecretsManager::Secret".into(),
                    reference: arn.clone(),
                    arn,
                },
            );
        }

        for (logical, _, props) in self
            .resources()
            .filter(|(_, t, _)| *t == "AWS::SSM::Parameter")
        {
            let name = format!("/{prefix}/{}", kebab(logical));
            let value = props
                .get("Value")
                .map(|v| scalar(v, &out))
                .transpose()?
                .context("an SSM parameter needs a literal Value")?;
            ssm.put_parameter()
                .name(&name)
                .value(value)
                .r#type(aws_sdk_ssm::types::ParameterType::String)
                .send()
                .await
                .with_context(|| format!("creating SSM parameter {name}"))?;
            out.resources.insert(
                logical.to_string(),
                Physical {
                    kind: "AWS::SSM::Parameter".into(),
                    arn: format!("arn:aws:ssm:us-east-1:123456789012:parameter{name}"),
                    reference: name,
                },
            );
        }

        for (logical, _, props) in self.resources().filter(|(_, t, _)| *t == "AWS::S3::Bucket") {
            let name = format!("{prefix}-{}", kebab(logical));
            s3.create_bucket()
                .bucket(&name)
                .set_object_lock_enabled_for_bucket(
                    props.get("ObjectLockEnabled").and_then(Value::as_bool),
                )
                .send()
                .await
                .with_context(|| format!("creating bucket {name}"))?;
            let versioned = props
                .get("VersioningConfiguration")
                .and_then(|v| v.get("Status"))
                .and_then(Value::as_str)
                == Some("Enabled");
            if versioned {
                s3.put_bucket_versioning()
                    .bucket(&name)
                    .versioning_configuration(
                        VersioningConfiguration::builder()
                            .status(BucketVersioningStatus::Enabled)
                            .build(),
                    )
                    .send()
                    .await?;
            }
            let mut configs = Vec::new();
            let queue_configs = props
                .get("NotificationConfiguration")
                .and_then(|n| n.get("QueueConfigurations"))
                .and_then(Value::as_sequence);
            for qc in queue_configs.into_iter().flatten() {
                let target = qc
                    .get("Queue")
                    .and_then(get_att_target)
                    .context("Queue must be !GetAtt Q.Arn")?;
                let queue = out
                    .resources
                    .get(&target)
                    .context("notification queue not created")?;
                let event = qc.get("Event").and_then(Value::as_str).context("Event")?;
                configs.push(
                    QueueConfiguration::builder()
                        .queue_arn(&queue.arn)
                        .events(Event::from(event))
                        .build()?,
                );
            }
            if !configs.is_empty() {
                s3.put_bucket_notification_configuration()
                    .bucket(&name)
                    .notification_configuration(
                        NotificationConfiguration::builder()
                            .set_queue_configurations(Some(configs))
                            .build(),
                    )
                    .send()
                    .await
                    .with_context(|| format!("notifications on {name}"))?;
            }
            out.resources.insert(
                logical.to_string(),
                Physical {
                    kind: "AWS::S3::Bucket".into(),
                    arn: format!("arn:aws:s3:::{name}"),
                    reference: name,
                },
            );
        }
        Ok(out)
    }

    /// A function's environment variables (Globals first), with `!Ref` resolved.
    pub fn function_environment(
        &self,
        logical: &str,
        deployed: &Deployed,
    ) -> Result<BTreeMap<String, String>> {
        if self.resource_type(logical) != Some("AWS::Serverless::Function") {
            bail!("template has no function {logical}");
        }
        let mut env = BTreeMap::new();
        let globals = self
            .root
            .get("Globals")
            .and_then(|g| g.get("Function"))
            .and_then(|f| f.get("Environment"))
            .and_then(|e| e.get("Variables"));
        let own = self
            .resources()
            .find(|(l, _, _)| *l == logical)
            .and_then(|(_, _, p)| p.get("Environment"))
            .and_then(|e| e.get("Variables"));
        for vars in [globals, own].into_iter().flatten() {
            for (k, v) in vars.as_mapping().into_iter().flatten() {
                let Some(name) = k.as_str() else { continue };
                env.insert(name.to_string(), scalar(v, deployed)?);
            }
        }
        Ok(env)
    }

    /// The SQS queue (logical id) that feeds a function's SQS event, if any.
    pub fn function_queue(&self, logical: &str) -> Option<String> {
        let events = self
            .resources()
            .find(|(l, _, _)| *l == logical)?
            .2
            .get("Events")?
            .as_mapping()?;
        events.values().find_map(|e| {
            (e.get("Type")?.as_str()? == "SQS")
                .then(|| e.get("Properties")?.get("Queue").and_then(get_att_target))
                .flatten()
        })
    }
}

/// What `GenerateSecretString` would store: its plain `SecretStringTemplate` (a `!Sub` one is
/// left as `{}`) with `GenerateStringKey` set to random letters and digits.
fn generated_secret(props: &Value) -> String {
    let Some(spec) = props.get("GenerateSecretString") else {
        return "{}".into();
    };
    let mut doc: serde_json::Map<String, serde_json::Value> = spec
        .get("SecretStringTemplate")
        .and_then(Value::as_str)
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    if let Some(key) = spec.get("GenerateStringKey").and_then(Value::as_str) {
        let len = spec
            .get("PasswordLength")
            .and_then(Value::as_u64)
            .unwrap_or(32) as usize;
        let mut value = String::new();
        while value.len() < len {
            value.push_str(&uuid::Uuid::new_v4().simple().to_string());
        }
        value.truncate(len);
        doc.insert(key.into(), value.into());
    }
    serde_json::Value::Object(doc).to_string()
}

/// A scalar value: a literal, or `!Ref` to a parameter or created resource.
fn scalar(v: &Value, deployed: &Deployed) -> Result<String> {
    if let Some(target) = ref_target(v) {
        if let Some(p) = deployed.parameters.get(&target) {
            return Ok(p.clone());
        }
        return deployed.reference(&target).map(str::to_string);
    }
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => bail!("cannot resolve {other:?} locally"),
    }
}
