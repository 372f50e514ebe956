//! Spec loading, schema lookup and the request/check harness for spec_conformance.rs.

pub mod disposition;

use std::collections::BTreeSet;
use std::sync::Mutex;

use opentext_sim::SimServer;
use reqwest::multipart::{Form, Part};
use reqwest::{Client, Method};
use serde_json::{Map, Value, json};

const CS_SPEC: &str = include_str!("../../spec/content-server-rest-api-2.0.2.yaml");
const RM_SPEC: &str = include_str!("../../spec/records-management-26.1.json");
/// The one list of known deviations (see the file's introduction).
pub const DEVIATIONS_MD: &str = include_str!("../../SPEC-DEVIATIONS.md");

/// One row of the SPEC-DEVIATIONS.md table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deviation {
    method: String,
    pub path: String,
    kind: String,
    key: String,
    actual: String,
}

/// Rows look like `| GET | /v1/serverinfo | type | server | object | why |`.
pub fn deviations() -> Vec<Deviation> {
    DEVIATIONS_MD
        .lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().trim_matches('`').to_string())
                .collect::<Vec<_>>()
        })
        .filter(|c| c.len() >= 5 && ["type", "extra-key", "status"].contains(&c[2].as_str()))
        .map(|c| Deviation {
            method: c[0].to_lowercase(),
            path: c[1].clone(),
            kind: c[2].clone(),
            key: c[3].clone(),
            actual: c[4].clone(),
        })
        .collect()
}

/// YAML → JSON value (status-code keys become strings).
fn yaml_to_json(v: serde_norway::Value) -> Value {
    use serde_norway::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                json!(i)
            } else if let Some(u) = n.as_u64() {
                json!(u)
            } else {
                json!(n.as_f64())
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(s) => Value::Array(s.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => format!("{other:?}"),
                };
                out.insert(key, yaml_to_json(v));
            }
            Value::Object(out)
        }
        Y::Tagged(t) => yaml_to_json(t.value),
    }
}

pub struct Specs {
    cs: Value,
    rm: Value,
}

impl Specs {
    pub fn load() -> Specs {
        let cs: serde_norway::Value = serde_norway::from_str(CS_SPEC).expect("CS spec parses");
        Specs {
            cs: yaml_to_json(cs),
            rm: serde_json::from_str(RM_SPEC).expect("RM spec parses"),
        }
    }

    /// The operation object and the spec document it came from.
    pub fn op(&self, method: &str, path: &str) -> Option<(&Value, &Value)> {
        [&self.cs, &self.rm]
            .into_iter()
            .find_map(|doc| doc["paths"].get(path)?.get(method).map(|op| (doc, op)))
    }
}

fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    let mut cur = v;
    for _ in 0..16 {
        let Some(r) = cur.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let mut target = doc;
        for seg in r.trim_start_matches("#/").split('/') {
            target = &target[seg];
        }
        cur = target;
    }
    cur
}

/// Top-level properties of a schema (following `$ref` and `allOf`).
fn properties(doc: &Value, schema: &Value) -> Option<Map<String, Value>> {
    let s = resolve(doc, schema);
    let mut out = Map::new();
    let mut any = false;
    if let Some(p) = s.get("properties").and_then(Value::as_object) {
        out.extend(p.clone());
        any = true;
    }
    for part in s
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(p) = properties(doc, part) {
            out.extend(p);
            any = true;
        }
    }
    any.then_some(out)
}

fn spec_type(doc: &Value, prop: &Value) -> Option<String> {
    let p = resolve(doc, prop);
    if let Some(t) = p.get("type").and_then(Value::as_str) {
        return Some(t.to_string());
    }
    if p.get("properties").is_some() {
        return Some("object".into());
    }
    p.get("items").map(|_| "array".into())
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_ok(spec: &str, actual: &str) -> bool {
    spec == actual || actual == "null" || (spec == "number" && actual == "integer")
}

pub enum Body {
    None,
    Form(Vec<(&'static str, String)>),
    File {
        field: &'static str,
        bytes: Vec<u8>,
        fields: Vec<(&'static str, String)>,
    },
}

pub struct Call {
    pub method: &'static str,
    pub spec_path: &'static str,
    pub path: String,
    pub body: Body,
    /// Authenticate with this ticket (None = no auth header).
    pub ticket: Option<String>,
}

pub struct Harness {
    pub sim: SimServer,
    pub http: Client,
    pub specs: Specs,
    pub devs: Vec<Deviation>,
    pub used: Mutex<BTreeSet<Deviation>>,
    pub failures: Mutex<Vec<String>>,
    pub driven: Mutex<BTreeSet<(String, String)>>,
}

impl Harness {
    pub fn url(&self, path: &str) -> String {
        format!("{}/api{}", self.sim.base_url(), path)
    }

    pub async fn send(&self, c: &Call) -> reqwest::Response {
        let method = Method::from_bytes(c.method.to_uppercase().as_bytes()).unwrap();
        let mut rb = self.http.request(method, self.url(&c.path));
        if let Some(t) = &c.ticket {
            rb = rb.header("OTCSTicket", t);
        }
        rb = match &c.body {
            Body::None => rb,
            Body::Form(f) => rb.form(f),
            Body::File {
                field,
                bytes,
                fields,
            } => {
                let mut form = Form::new();
                for (k, v) in fields {
                    form = form.text(*k, v.clone());
                }
                rb.multipart(form.part(
                    *field,
                    Part::bytes(bytes.clone()).file_name("conformance.txt"),
                ))
            }
        };
        rb.send().await.expect("request sent")
    }

    fn deviation(&self, method: &str, path: &str, kind: &str, key: &str, actual: &str) -> bool {
        let hit = self.devs.iter().find(|d| {
            d.method == method
                && d.path == path
                && d.kind == kind
                && d.key == key
                && (d.actual == actual || d.actual == "*")
        });
        if let Some(d) = hit {
            self.used.lock().unwrap().insert(d.clone());
        }
        hit.is_some()
    }

    pub fn fail(&self, msg: String) {
        self.failures.lock().unwrap().push(msg);
    }

    /// Sends the call and checks status and top-level keys against the spec. Returns the body.
    pub async fn check(&self, c: Call) -> Value {
        let (m, p) = (c.method, c.spec_path);
        let op_name = format!("{} {p}", m.to_uppercase());
        let Some((doc, op)) = self.specs.op(m, p) else {
            self.fail(format!("{op_name}: not in spec"));
            return Value::Null;
        };
        self.driven
            .lock()
            .unwrap()
            .insert((m.to_string(), p.to_string()));
        let resp = self.send(&c).await;
        let status = resp.status().as_u16().to_string();
        let is_json = resp
            .headers()
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap_or("").starts_with("application/json"));
        let text = resp.text().await.unwrap_or_default();
        let body: Value = if is_json {
            serde_json::from_str(&text).unwrap_or(Value::Null)
        } else {
            Value::Null
        };
        let responses = &op["responses"];
        let Some(documented) = responses.get(&status) else {
            if !self.deviation(m, p, "status", &status, &status) {
                self.fail(format!(
                    "{op_name}: status {status} not documented (body {text:.200})"
                ));
            }
            return body;
        };
        let documented = resolve(doc, documented);
        let schema = documented
            .get("content")
            .and_then(|c| c.get("application/json"))
            .and_then(|j| j.get("schema"));
        let (Some(schema), Value::Object(obj)) = (schema, &body) else {
            return body;
        };
        let Some(props) = properties(doc, schema) else {
            return body;
        };
        for (key, value) in obj {
            let actual = json_type(value);
            match props.get(key) {
                None => {
                    if !self.deviation(m, p, "extra-key", key, actual) {
                        self.fail(format!(
                            "{op_name} ({status}): key '{key}' not in the spec schema"
                        ));
                    }
                }
                Some(prop) => {
                    if let Some(t) = spec_type(doc, prop)
                        && !type_ok(&t, actual)
                        && !self.deviation(m, p, "type", key, actual)
                    {
                        self.fail(format!(
                            "{op_name} ({status}): '{key}' is {actual}, spec says {t}"
                        ));
                    }
                }
            }
        }
        body
    }
}

impl Harness {
    pub fn new(sim: SimServer) -> Harness {
        Harness {
            sim,
            http: Client::new(),
            specs: Specs::load(),
            devs: deviations(),
            used: Mutex::new(BTreeSet::new()),
            failures: Mutex::new(Vec::new()),
            driven: Mutex::new(BTreeSet::new()),
        }
    }

    pub async fn login(&self, user: &str, pass: &str) -> String {
        let form = [("username", user), ("password", pass)];
        let r = self
            .http
            .post(self.url("/v1/auth"))
            .form(&form)
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        v["ticket"].as_str().unwrap().to_string()
    }

    /// Starts a chunked upload session of `size` bytes.
    pub async fn upload_key(&self, ticket: &str, size: u64) -> String {
        let size = size.to_string();
        let form = [
            ("file_name", "k.bin"),
            ("file_size", size.as_str()),
            ("mime_type", "text/plain"),
        ];
        let r = self
            .http
            .post(self.url("/v2/multipart"))
            .header("OTCSTicket", ticket)
            .form(&form)
            .send()
            .await;
        let v: Value = r.unwrap().json().await.unwrap();
        v["upload_key"].as_str().unwrap().to_string()
    }
}
