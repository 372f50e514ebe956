//! Creating the template's resources in moto, one resource type at a time.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_s3::types::{
    BucketVersioningStatus, Event, NotificationConfiguration, QueueConfiguration,
    VersioningConfiguration,
};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_norway::Value;

use super::{
    Deployed, LOCAL_REGION, Physical, Template, generated_secret, get_att_target, kebab, scalar,
};

impl Template {
    /// Creates queues, tables, secrets, SSM parameters, buckets (with notifications) and
    /// CloudFront origin access controls and distributions in moto, named
    /// `<prefix>-<logical-id-in-kebab-case>` (parameters `/<prefix>/<kebab>`); `prefix` is
    /// also the local `AWS::StackName`. Bucket policies and lifecycle rules are not applied.
    pub async fn deploy(
        &self,
        sdk: &aws_config::SdkConfig,
        prefix: &str,
        overrides: &BTreeMap<String, String>,
    ) -> Result<Deployed> {
        let mut out = Deployed {
            parameters: self.parameters(overrides),
            stack_name: prefix.to_string(),
            ..Default::default()
        };
        self.queues(&aws_sdk_sqs::Client::new(sdk), prefix, &mut out)
            .await?;
        self.tables(&aws_sdk_dynamodb::Client::new(sdk), prefix, &mut out)
            .await?;
        self.secrets(&aws_sdk_secretsmanager::Client::new(sdk), prefix, &mut out)
            .await?;
        self.ssm_parameters(&aws_sdk_ssm::Client::new(sdk), prefix, &mut out)
            .await?;
        self.kms_keys(&aws_sdk_kms::Client::new(sdk), &mut out)
            .await?;
        self.buckets(&crate::s3_client(sdk), prefix, &mut out)
            .await?;
        // After the buckets: a distribution's origin is one.
        let cloudfront = aws_sdk_cloudfront::Client::new(sdk);
        self.origin_access_controls(&cloudfront, prefix, &mut out)
            .await?;
        self.distributions(&cloudfront, prefix, &mut out).await?;
        self.functions_and_roles(&mut out);
        Ok(out)
    }

    /// Functions and roles are not created in moto (the functions run under the Runtime API
    /// emulator, named by logical id), but others name their ARNs (`!GetAtt F.Arn`): the
    /// ARNs they have locally.
    fn functions_and_roles(&self, out: &mut Deployed) {
        for (logical, kind, _) in self.resources() {
            let arn = match kind {
                "AWS::Serverless::Function" => {
                    format!("arn:aws:lambda:us-east-1:123456789012:function:{logical}")
                }
                "AWS::IAM::Role" => format!("arn:aws:iam::123456789012:role/{logical}"),
                _ => continue,
            };
            out.resources.insert(
                logical.to_string(),
                Physical {
                    kind: kind.to_string(),
                    reference: logical.to_string(),
                    arn,
                    ..Default::default()
                },
            );
        }
    }

    /// Asymmetric (and symmetric) KMS keys with the template's spec and usage.
    async fn kms_keys(&self, kms: &aws_sdk_kms::Client, out: &mut Deployed) -> Result<()> {
        for (logical, _, props) in self.resources().filter(|(_, t, _)| *t == "AWS::KMS::Key") {
            let spec = props.get("KeySpec").and_then(Value::as_str);
            let usage = props.get("KeyUsage").and_then(Value::as_str);
            let key = kms
                .create_key()
                .description(format!("{logical} (local stack)"))
                .set_key_spec(spec.map(aws_sdk_kms::types::KeySpec::from))
                .set_key_usage(usage.map(aws_sdk_kms::types::KeyUsageType::from))
                .send()
                .await
                .with_context(|| format!("creating KMS key {logical}"))?;
            let meta = key.key_metadata().context("key metadata")?;
            out.resources.insert(
                logical.to_string(),
                Physical {
                    kind: "AWS::KMS::Key".into(),
                    arn: meta.arn().unwrap_or(meta.key_id()).to_string(),
                    reference: meta.key_id().to_string(),
                    ..Default::default()
                },
            );
        }
        Ok(())
    }

    async fn queues(
        &self,
        sqs: &aws_sdk_sqs::Client,
        prefix: &str,
        out: &mut Deployed,
    ) -> Result<()> {
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
                req = req.attributes(QueueAttributeName::VisibilityTimeout, scalar(v, out)?);
            }
            if let Some(rp) = props.get("RedrivePolicy") {
                let dlq = rp
                    .get("deadLetterTargetArn")
                    .and_then(get_att_target)
                    .context("RedrivePolicy.deadLetterTargetArn must be !GetAtt Queue.Arn")?;
                let max = scalar(rp.get("maxReceiveCount").context("maxReceiveCount")?, out)?;
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
                    ..Default::default()
                },
            );
        }

        Ok(())
    }

    async fn tables(
        &self,
        ddb: &aws_sdk_dynamodb::Client,
        prefix: &str,
        out: &mut Deployed,
    ) -> Result<()> {
        for (logical, _, props) in self
            .resources()
            .filter(|(_, t, _)| *t == "AWS::DynamoDB::Table")
        {
            let name = format!("{prefix}-{}", kebab(logical));
            let mut req = ddb
                .create_table()
                .table_name(&name)
                .billing_mode(BillingMode::PayPerRequest);
            req = with_keys(req, props)?;
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
                    ..Default::default()
                },
            );
        }

        Ok(())
    }

    async fn secrets(
        &self,
        sm: &aws_sdk_secretsmanager::Client,
        prefix: &str,
        out: &mut Deployed,
    ) -> Result<()> {
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
                    ..Default::default()
                },
            );
        }

        Ok(())
    }

    async fn ssm_parameters(
        &self,
        ssm: &aws_sdk_ssm::Client,
        prefix: &str,
        out: &mut Deployed,
    ) -> Result<()> {
        for (logical, _, props) in self
            .resources()
            .filter(|(_, t, _)| *t == "AWS::SSM::Parameter")
        {
            let name = format!("/{prefix}/{}", kebab(logical));
            let value = props
                .get("Value")
                .map(|v| scalar(v, out))
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
                    ..Default::default()
                },
            );
        }

        Ok(())
    }

    async fn buckets(
        &self,
        s3: &aws_sdk_s3::Client,
        prefix: &str,
        out: &mut Deployed,
    ) -> Result<()> {
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
            if let Some(rule) = props
                .get("ObjectLockConfiguration")
                .and_then(|c| c.get("Rule"))
                .and_then(|r| r.get("DefaultRetention"))
            {
                let mut retention = aws_sdk_s3::types::DefaultRetention::builder().mode(
                    aws_sdk_s3::types::ObjectLockRetentionMode::from(
                        rule.get("Mode")
                            .and_then(Value::as_str)
                            .unwrap_or("COMPLIANCE"),
                    ),
                );
                if let Some(y) = rule.get("Years") {
                    retention = retention.years(scalar(y, out)?.parse()?);
                }
                if let Some(d) = rule.get("Days") {
                    retention = retention.days(scalar(d, out)?.parse()?);
                }
                s3.put_object_lock_configuration()
                    .bucket(&name)
                    .object_lock_configuration(
                        aws_sdk_s3::types::ObjectLockConfiguration::builder()
                            .object_lock_enabled(aws_sdk_s3::types::ObjectLockEnabled::Enabled)
                            .rule(
                                aws_sdk_s3::types::ObjectLockRule::builder()
                                    .default_retention(retention.build())
                                    .build(),
                            )
                            .build(),
                    )
                    .send()
                    .await
                    .with_context(|| format!("default retention on {name}"))?;
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
                    attributes: BTreeMap::from([(
                        "RegionalDomainName".to_string(),
                        format!("{name}.s3.{LOCAL_REGION}.amazonaws.com"),
                    )]),
                    reference: name,
                },
            );
        }
        Ok(())
    }
}

/// A `KeySchema` (of a table or an index), as the template declares it.
fn key_schema(props: &Value) -> Result<Vec<KeySchemaElement>> {
    let mut out = Vec::new();
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
        out.push(
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
    Ok(out)
}

/// The table's attribute definitions, key schema and global secondary indexes, as the
/// template declares them.
fn with_keys(
    mut req: aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder,
    props: &Value,
) -> Result<aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder> {
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
    for key in key_schema(props)? {
        req = req.key_schema(key);
    }
    // Global secondary indexes (e.g. the workflow table's business object index).
    for gsi in props
        .get("GlobalSecondaryIndexes")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        let projection = match gsi
            .get("Projection")
            .and_then(|p| p.get("ProjectionType"))
            .and_then(Value::as_str)
        {
            Some("KEYS_ONLY") => ProjectionType::KeysOnly,
            Some("INCLUDE") => ProjectionType::Include,
            _ => ProjectionType::All,
        };
        req = req.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(
                    gsi.get("IndexName")
                        .and_then(Value::as_str)
                        .context("IndexName")?,
                )
                .set_key_schema(Some(key_schema(gsi)?))
                .projection(Projection::builder().projection_type(projection).build())
                .build()?,
        );
    }
    Ok(req)
}
