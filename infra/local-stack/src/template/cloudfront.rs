//! The template's CloudFront origin access controls and distributions, created in moto
//! (which serves both, and invalidations), so a function's `!Ref` of a distribution is an id
//! moto knows and its `!GetAtt ….DomainName` the domain moto gave it.
//!
//! moto (5.1.22) answers CreateDistribution under a `<CreateDistributionResult>` root, and
//! GetDistribution with Python's `True`/`False` in some booleans: the SDK reads neither (it
//! reads OriginAccessControl and invalidation answers). So a distribution's answer is read
//! from its XML when the SDK cannot ([`LocalDistribution`]). moto keeps an origin's path and
//! S3 domain, not its `OriginAccessControlId` (sent, not returned); and the ARN it gives has
//! no empty region field (`arn:aws:cloudfront:<account>:distribution/<id>`). The bucket
//! policy that lets the distribution read is not applied locally, like every bucket policy.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use aws_sdk_cloudfront::types::{
    AllowedMethods, CachedMethods, DefaultCacheBehavior, DistributionConfig, HttpVersion, Method,
    Origin, OriginAccessControlConfig, OriginAccessControlOriginTypes,
    OriginAccessControlSigningBehaviors, OriginAccessControlSigningProtocols, Origins, PriceClass,
    S3OriginConfig, ViewerProtocolPolicy,
};
use quick_xml::Reader;
use quick_xml::events::Event;
use serde_norway::Value;

use super::{Deployed, LOCAL_ACCOUNT_ID, Physical, Template, kebab, scalar};

/// `props[key]` resolved to a string, if present.
fn text(props: &Value, key: &str, out: &Deployed) -> Result<Option<String>> {
    props
        .get(key)
        .map(|v| scalar(v, out).with_context(|| format!("resolving {key}")))
        .transpose()
}

/// `props[key]` resolved and read as a boolean, if present.
fn flag(props: &Value, key: &str, out: &Deployed) -> Result<Option<bool>> {
    text(props, key, out)?
        .map(|s| {
            s.parse()
                .with_context(|| format!("{key}: {s:?} is not a boolean"))
        })
        .transpose()
}

/// `props[key]` resolved, required.
fn required(props: &Value, key: &str, out: &Deployed) -> Result<String> {
    text(props, key, out)?.with_context(|| format!("{key} is required"))
}

/// A list of HTTP methods (`[GET, HEAD]`).
fn methods(v: Option<&Value>) -> Vec<Method> {
    v.and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(Method::from)
        .collect()
}

fn quantity(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl Template {
    /// `AWS::CloudFront::OriginAccessControl`: created in moto (CreateOriginAccessControl);
    /// `!Ref` and `!GetAtt X.Id` give its id.
    pub(super) async fn origin_access_controls(
        &self,
        cloudfront: &aws_sdk_cloudfront::Client,
        prefix: &str,
        out: &mut Deployed,
    ) -> Result<()> {
        for (logical, _, props) in self
            .resources()
            .filter(|(_, t, _)| *t == "AWS::CloudFront::OriginAccessControl")
        {
            let config = props
                .get("OriginAccessControlConfig")
                .with_context(|| format!("{logical}: OriginAccessControlConfig"))?;
            let name = text(config, "Name", out)?
                .unwrap_or_else(|| format!("{prefix}-{}", kebab(logical)));
            let created = cloudfront
                .create_origin_access_control()
                .origin_access_control_config(
                    OriginAccessControlConfig::builder()
                        .name(&name)
                        .set_description(text(config, "Description", out)?)
                        .signing_protocol(OriginAccessControlSigningProtocols::from(
                            required(config, "SigningProtocol", out)?.as_str(),
                        ))
                        .signing_behavior(OriginAccessControlSigningBehaviors::from(
                            required(config, "SigningBehavior", out)?.as_str(),
                        ))
                        .origin_access_control_origin_type(OriginAccessControlOriginTypes::from(
                            required(config, "OriginAccessControlOriginType", out)?.as_str(),
                        ))
                        .build()?,
                )
                .send()
                .await
                .with_context(|| format!("creating origin access control {name}"))?;
            let id = created
                .origin_access_control()
                .map(|c| c.id().to_string())
                .context("CreateOriginAccessControl returned no id")?;
            out.resources.insert(
                logical.to_string(),
                Physical {
                    kind: "AWS::CloudFront::OriginAccessControl".into(),
                    arn: format!(
                        "arn:aws:cloudfront::{LOCAL_ACCOUNT_ID}:origin-access-control/{id}"
                    ),
                    attributes: BTreeMap::from([("Id".to_string(), id.clone())]),
                    reference: id,
                },
            );
        }
        Ok(())
    }

    /// `AWS::CloudFront::Distribution`: created in moto (CreateDistribution) with the
    /// template's origins (domain, path, origin access control) and default cache behavior;
    /// `!Ref` gives its id, `!GetAtt X.DomainName` the `<id>.cloudfront.net` moto gave it.
    pub(super) async fn distributions(
        &self,
        cloudfront: &aws_sdk_cloudfront::Client,
        prefix: &str,
        out: &mut Deployed,
    ) -> Result<()> {
        for (logical, _, props) in self
            .resources()
            .filter(|(_, t, _)| *t == "AWS::CloudFront::Distribution")
        {
            let config = props
                .get("DistributionConfig")
                .with_context(|| format!("{logical}: DistributionConfig"))?;
            let config = distribution_config(config, prefix, logical, out)
                .with_context(|| format!("{logical}: its DistributionConfig"))?;
            let d = match cloudfront
                .create_distribution()
                .distribution_config(config)
                .send()
                .await
            {
                Ok(created) => LocalDistribution::from(
                    created
                        .distribution()
                        .context("CreateDistribution returned no distribution")?,
                ),
                Err(e) => LocalDistribution::from_unread_answer(&e)
                    .with_context(|| format!("creating distribution {logical}"))?,
            };
            out.resources.insert(
                logical.to_string(),
                Physical {
                    kind: "AWS::CloudFront::Distribution".into(),
                    attributes: BTreeMap::from([
                        ("DomainName".to_string(), d.domain_name),
                        ("Id".to_string(), d.id.clone()),
                    ]),
                    reference: d.id,
                    arn: d.arn,
                },
            );
        }
        Ok(())
    }
}

/// A distribution as moto answers for it (CreateDistribution, GetDistribution): what the
/// local stack and its tests look at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LocalDistribution {
    pub id: String,
    pub arn: String,
    /// `<id>.cloudfront.net`: what `!GetAtt X.DomainName` gives.
    pub domain_name: String,
    pub enabled: bool,
    pub origins: Vec<LocalOrigin>,
    /// The default cache behavior's (`redirect-to-https`, …).
    pub viewer_protocol_policy: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LocalOrigin {
    pub id: String,
    pub domain_name: String,
    /// Empty when it has none.
    pub origin_path: String,
}

/// GetDistribution of `id`, as moto keeps it.
pub async fn get_distribution(
    cloudfront: &aws_sdk_cloudfront::Client,
    id: &str,
) -> Result<LocalDistribution> {
    match cloudfront.get_distribution().id(id).send().await {
        Ok(got) => Ok(LocalDistribution::from(
            got.distribution()
                .context("GetDistribution returned no distribution")?,
        )),
        Err(e) => LocalDistribution::from_unread_answer(&e)
            .with_context(|| format!("reading distribution {id}")),
    }
}

impl From<&aws_sdk_cloudfront::types::Distribution> for LocalDistribution {
    fn from(d: &aws_sdk_cloudfront::types::Distribution) -> Self {
        let config = d.distribution_config();
        Self {
            id: d.id().to_string(),
            arn: d.arn().to_string(),
            domain_name: d.domain_name().to_string(),
            enabled: config.is_some_and(|c| c.enabled()),
            origins: config
                .and_then(|c| c.origins())
                .map(|o| o.items())
                .unwrap_or_default()
                .iter()
                .map(|o| LocalOrigin {
                    id: o.id().to_string(),
                    domain_name: o.domain_name().to_string(),
                    origin_path: o.origin_path().unwrap_or_default().to_string(),
                })
                .collect(),
            viewer_protocol_policy: config
                .and_then(|c| c.default_cache_behavior())
                .map(|b| b.viewer_protocol_policy().as_str().to_string())
                .unwrap_or_default(),
        }
    }
}

impl LocalDistribution {
    /// A successful answer the SDK could not read (moto's): read from its XML. Any other
    /// error (moto refused the call) is returned as it is.
    fn from_unread_answer<E>(
        e: &aws_sdk_cloudfront::error::SdkError<E, aws_sdk_cloudfront::config::http::HttpResponse>,
    ) -> Result<Self>
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        let body = e
            .raw_response()
            .filter(|r| r.status().is_success())
            .and_then(|r| r.body().bytes());
        match body {
            Some(body) => Self::from_xml(body).with_context(|| {
                format!("an answer neither the SDK nor the local stack reads ({e})")
            }),
            None => bail!(
                "CloudFront refused: {}",
                aws_sdk_cloudfront::error::DisplayErrorContext(e)
            ),
        }
    }

    /// The distribution of a `<Distribution>` (or moto's `<CreateDistributionResult>`)
    /// document.
    fn from_xml(body: &[u8]) -> Result<Self> {
        let leaves = leaves(body)?;
        let one = |path: &str| {
            leaves
                .iter()
                .find(|(p, _)| p == path)
                .map(|(_, t)| t.clone())
                .unwrap_or_default()
        };
        let mut d = Self {
            id: one("Id"),
            arn: one("ARN"),
            domain_name: one("DomainName"),
            enabled: one("DistributionConfig/Enabled").eq_ignore_ascii_case("true"),
            origins: Vec::new(),
            viewer_protocol_policy: one(
                "DistributionConfig/DefaultCacheBehavior/ViewerProtocolPolicy",
            ),
        };
        const ORIGIN: &str = "DistributionConfig/Origins/Items/Origin/";
        for (path, text) in &leaves {
            let Some(field) = path.strip_prefix(ORIGIN) else {
                continue;
            };
            if field == "Id" {
                d.origins.push(LocalOrigin {
                    id: text.clone(),
                    ..LocalOrigin::default()
                });
            } else if let Some(origin) = d.origins.last_mut() {
                match field {
                    "DomainName" => origin.domain_name = text.clone(),
                    "OriginPath" => origin.origin_path = text.clone(),
                    _ => {}
                }
            }
        }
        if d.id.is_empty() || d.domain_name.is_empty() {
            bail!(
                "no distribution Id and DomainName in {}",
                String::from_utf8_lossy(body)
            );
        }
        Ok(d)
    }
}

/// Every element's text, by its path below the root (`DistributionConfig/Enabled`), in
/// document order.
fn leaves(body: &[u8]) -> Result<Vec<(String, String)>> {
    let mut reader = Reader::from_str(std::str::from_utf8(body)?);
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut out = Vec::new();
    loop {
        match reader.read_event()? {
            Event::Start(start) => {
                path.push(String::from_utf8(start.local_name().as_ref().to_vec())?);
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.xml10_content()?),
            Event::CData(t) => text.push_str(&t.decode()?),
            Event::GeneralRef(r) => {
                let name = r.decode()?;
                match r.resolve_char_ref()? {
                    Some(c) => text.push(c),
                    None => text.push_str(
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .with_context(|| format!("unknown entity &{name};"))?,
                    ),
                }
            }
            Event::End(_) => {
                if path.len() > 1 {
                    out.push((path[1..].join("/"), text.trim().to_string()));
                }
                text.clear();
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// The template's `DistributionConfig` as CreateDistribution takes it: what moto keeps
/// (origins, default cache behavior, price class, HTTP version, comment, enabled).
fn distribution_config(
    config: &Value,
    prefix: &str,
    logical: &str,
    out: &Deployed,
) -> Result<DistributionConfig> {
    let mut origins = Vec::new();
    for origin in config
        .get("Origins")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        let s3 = origin
            .get("S3OriginConfig")
            .map(|s3| -> Result<S3OriginConfig> {
                Ok(S3OriginConfig::builder()
                    .origin_access_identity(
                        text(s3, "OriginAccessIdentity", out)?.unwrap_or_default(),
                    )
                    .build())
            })
            .transpose()?;
        origins.push(
            Origin::builder()
                .id(required(origin, "Id", out)?)
                .domain_name(required(origin, "DomainName", out)?)
                .set_origin_path(text(origin, "OriginPath", out)?)
                .set_s3_origin_config(s3)
                .set_origin_access_control_id(text(origin, "OriginAccessControlId", out)?)
                .build()?,
        );
    }
    let behavior = config
        .get("DefaultCacheBehavior")
        .context("DefaultCacheBehavior")?;
    let allowed = methods(behavior.get("AllowedMethods"));
    let cached = methods(behavior.get("CachedMethods"));
    let allowed = (!allowed.is_empty())
        .then(|| -> Result<AllowedMethods> {
            let mut m = AllowedMethods::builder()
                .quantity(quantity(allowed.len()))
                .set_items(Some(allowed));
            if !cached.is_empty() {
                m = m.cached_methods(
                    CachedMethods::builder()
                        .quantity(quantity(cached.len()))
                        .set_items(Some(cached))
                        .build()?,
                );
            }
            Ok(m.build()?)
        })
        .transpose()?;
    let behavior = DefaultCacheBehavior::builder()
        .target_origin_id(required(behavior, "TargetOriginId", out)?)
        .viewer_protocol_policy(ViewerProtocolPolicy::from(
            required(behavior, "ViewerProtocolPolicy", out)?.as_str(),
        ))
        .set_allowed_methods(allowed)
        .set_compress(flag(behavior, "Compress", out)?)
        .set_cache_policy_id(text(behavior, "CachePolicyId", out)?)
        .set_response_headers_policy_id(text(behavior, "ResponseHeadersPolicyId", out)?)
        .build()?;
    Ok(DistributionConfig::builder()
        // CloudFormation makes one per create; unique, so a second deploy into the same moto
        // is not taken for a retry of the first.
        .caller_reference(format!("{prefix}-{logical}-{}", uuid::Uuid::new_v4()))
        .comment(text(config, "Comment", out)?.unwrap_or_default())
        .enabled(flag(config, "Enabled", out)?.unwrap_or(false))
        .origins(
            Origins::builder()
                .quantity(quantity(origins.len()))
                .set_items(Some(origins))
                .build()?,
        )
        .default_cache_behavior(behavior)
        .set_http_version(text(config, "HttpVersion", out)?.map(|v| HttpVersion::from(v.as_str())))
        .set_price_class(text(config, "PriceClass", out)?.map(|v| PriceClass::from(v.as_str())))
        .set_is_ipv6_enabled(flag(config, "IPV6Enabled", out)?)
        .build()?)
}
