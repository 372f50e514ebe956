//! Reads `template.yaml` (the SAM template that is deployed) and creates its storage,
//! queues, tables, secrets and CloudFront distributions in moto, so the local stack cannot
//! drift from what ships. It also resolves each function's environment (`!Ref` to
//! parameters, pseudo parameters and resources, `!GetAtt` of their attributes, roles'
//! `!GetAtt …RoleId`, `!Join`, `!Sub`).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use serde_norway::Value;

mod cloudfront;
mod deploy;

pub use cloudfront::{LocalDistribution, LocalOrigin, get_distribution};

/// The account moto serves (what `AWS::AccountId` is locally).
pub const LOCAL_ACCOUNT_ID: &str = "123456789012";
/// The region of the local stack (what `AWS::Region` is locally).
pub const LOCAL_REGION: &str = "us-east-1";

/// The parts of the template the local stack needs.
pub struct Template {
    root: Value,
}

/// What one template resource became locally.
#[derive(Debug, Clone, Default)]
pub struct Physical {
    pub kind: String,
    /// What `!Ref` returns for this resource type (bucket/table name, queue URL, secret ARN,
    /// distribution id).
    pub reference: String,
    /// What `!GetAtt X.Arn` returns.
    pub arn: String,
    /// What `!GetAtt X.<Attribute>` returns for its other attributes (a bucket's
    /// `RegionalDomainName`, a distribution's `DomainName`, an origin access control's `Id`).
    pub attributes: BTreeMap<String, String>,
}

/// The template's resources as created in moto, by logical id.
#[derive(Debug, Clone, Default)]
pub struct Deployed {
    pub resources: BTreeMap<String, Physical>,
    pub parameters: BTreeMap<String, String>,
    /// What `AWS::StackName` is locally: the resource name prefix.
    pub stack_name: String,
}

impl Deployed {
    pub fn reference(&self, logical: &str) -> Result<&str> {
        self.resources
            .get(logical)
            .map(|p| p.reference.as_str())
            .ok_or_else(|| anyhow!("template has no resource {logical}"))
    }

    /// What `!GetAtt <logical>.<attribute>` is locally.
    pub fn attribute(&self, logical: &str, attribute: &str) -> Result<&str> {
        let resource = self.resources.get(logical).with_context(|| {
            format!("!GetAtt {logical}.{attribute}: {logical} was not created locally")
        })?;
        if attribute == "Arn" {
            return Ok(&resource.arn);
        }
        resource
            .attributes
            .get(attribute)
            .map(String::as_str)
            .with_context(|| format!("cannot resolve !GetAtt {logical}.{attribute} locally"))
    }

    /// A pseudo parameter (`AWS::StackName`, `AWS::Region`, …) as it is locally.
    fn pseudo_parameter(&self, name: &str) -> Option<&str> {
        Some(match name {
            "AWS::StackName" => &self.stack_name,
            "AWS::Region" => LOCAL_REGION,
            "AWS::AccountId" => LOCAL_ACCOUNT_ID,
            "AWS::Partition" => "aws",
            "AWS::URLSuffix" => "amazonaws.com",
            _ => return None,
        })
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

/// What `!GetAtt <Role>.RoleId` gives locally: moto creates no function roles (SAM's implicit
/// `<Function>Role`), so a stable stand-in shaped like a role unique id (`AROA…`).
pub fn local_role_id(role_logical: &str) -> String {
    let id: String = role_logical
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    format!("AROALOCAL{id}")
}

/// `!GetAtt Logical.Attr` or `Fn::GetAtt: [Logical, Attr]` → (`Logical`, `Attr`).
fn get_att(v: &Value) -> Option<(String, String)> {
    if let Some((tag, inner)) = tag_name(v)
        && tag == "GetAtt"
    {
        let (logical, attr) = inner.as_str()?.split_once('.')?;
        return Some((logical.to_string(), attr.to_string()));
    }
    let parts = v.get("Fn::GetAtt")?;
    Some((
        parts.get(0)?.as_str()?.to_string(),
        parts.get(1)?.as_str()?.to_string(),
    ))
}

/// `!Join [delimiter, [values]]` or `Fn::Join: [...]` → its two arguments.
fn join_args(v: &Value) -> Option<&Value> {
    if let Some((tag, inner)) = tag_name(v)
        && tag == "Join"
    {
        return Some(inner);
    }
    v.get("Fn::Join")
}

/// `!Sub` or `Fn::Sub` → its argument (a string, or `[string, {name: value}]`).
fn sub_args(v: &Value) -> Option<&Value> {
    if let Some((tag, inner)) = tag_name(v)
        && tag == "Sub"
    {
        return Some(inner);
    }
    v.get("Fn::Sub")
}

/// What `!Ref <target>` gives: a parameter, a pseudo parameter or a created resource.
fn reference(target: &str, deployed: &Deployed) -> Result<String> {
    if let Some(p) = deployed.parameters.get(target) {
        return Ok(p.clone());
    }
    if let Some(p) = deployed.pseudo_parameter(target) {
        return Ok(p.to_string());
    }
    deployed.reference(target).map(str::to_string)
}

/// `!Sub`: each `${Name}` (a parameter, pseudo parameter, resource or one of `vars`) and
/// `${Logical.Attribute}` replaced; `${!Literal}` gives `${Literal}`.
fn substitute(args: &Value, deployed: &Deployed) -> Result<String> {
    let (text, vars) = match args {
        Value::String(s) => (s.as_str(), None),
        Value::Sequence(items) => (
            items
                .first()
                .and_then(Value::as_str)
                .context("!Sub [string, vars] needs its string")?,
            items.get(1).and_then(Value::as_mapping),
        ),
        other => bail!("!Sub needs a string: {other:?}"),
    };
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .with_context(|| format!("!Sub {text:?}: unclosed ${{"))?;
        let name = &after[..end];
        if let Some(literal) = name.strip_prefix('!') {
            out.push_str("${");
            out.push_str(literal);
            out.push('}');
        } else if let Some(value) = vars.and_then(|m| m.get(name)) {
            out.push_str(&scalar(value, deployed)?);
        } else if let Some((logical, attr)) = name.split_once('.') {
            out.push_str(&get_att_value(logical, attr, deployed)?);
        } else {
            out.push_str(&reference(name, deployed)?);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// What `!GetAtt <logical>.<attr>` gives locally.
fn get_att_value(logical: &str, attr: &str, deployed: &Deployed) -> Result<String> {
    match attr {
        "RoleId" => Ok(local_role_id(logical)),
        // SAM's `<Function>Url`: a stand-in of AWS's form (the local one is served by
        // `function_url::serve` on a port chosen at start).
        "FunctionUrl" => Ok(format!(
            "https://{}.lambda-url.us-east-1.on.aws/",
            kebab(logical.trim_end_matches("Url"))
        )),
        // A created resource's ARN or other attribute.
        _ => deployed.attribute(logical, attr).map(str::to_string),
    }
}

/// A scalar value: a literal, `!Ref` to a parameter, pseudo parameter or created resource,
/// `!GetAtt` of a created resource's attribute or a role's `RoleId` ([`local_role_id`]), or
/// a `!Join` or `!Sub` of those.
fn scalar(v: &Value, deployed: &Deployed) -> Result<String> {
    if let Some(target) = ref_target(v) {
        return reference(&target, deployed);
    }
    if let Some(args) = sub_args(v) {
        return substitute(args, deployed);
    }
    if let Some((logical, attr)) = get_att(v) {
        return get_att_value(&logical, &attr, deployed);
    }
    if let Some(args) = join_args(v) {
        let (Some(delimiter), Some(values)) = (
            args.get(0).and_then(Value::as_str),
            args.get(1).and_then(Value::as_sequence),
        ) else {
            bail!("!Join needs a delimiter and a list: {args:?}");
        };
        let values: Vec<String> = values
            .iter()
            .map(|item| scalar(item, deployed))
            .collect::<Result<_>>()?;
        return Ok(values.join(delimiter));
    }
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => bail!("cannot resolve {other:?} locally"),
    }
}
