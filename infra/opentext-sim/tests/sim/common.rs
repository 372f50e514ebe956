//! Helpers shared by the sim's HTTP tests.

use std::time::Duration;

use opentext_sim::{MultipartSettings, SimConfig, SimServer};
use reqwest::multipart::{Form, Part};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

pub struct T {
    pub sim: SimServer,
    pub http: Client,
}

pub async fn start() -> T {
    start_with(SimConfig::default()).await
}

pub async fn start_with(cfg: SimConfig) -> T {
    let sim = SimServer::start(cfg).await.expect("sim starts");
    let http = Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    T { sim, http }
}

/// Small chunked-upload limits so tests stay fast.
pub fn small_multipart() -> MultipartSettings {
    MultipartSettings {
        is_enabled: true,
        min_size: 10,
        max_size: 1 << 20,
        part_size: 16,
    }
}

impl T {
    pub fn api(&self, path: &str) -> String {
        format!("{}/api{}", self.sim.base_url(), path)
    }

    pub fn admin(&self, path: &str) -> String {
        format!("{}{}", self.sim.admin_url(), path)
    }

    pub async fn login(&self, user: &str, pass: &str) -> String {
        let r = self
            .http
            .post(self.api("/v1/auth"))
            .form(&[("username", user), ("password", pass)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "login {user}");
        let v: Value = r.json().await.unwrap();
        v["ticket"].as_str().unwrap().to_string()
    }

    pub async fn admin_ticket(&self) -> String {
        self.login("Admin", "livelink").await
    }

    pub async fn get(&self, ticket: &str, path: &str) -> Response {
        self.send(self.http.get(self.api(path)), ticket).await
    }

    pub async fn delete(&self, ticket: &str, path: &str) -> Response {
        self.send(self.http.delete(self.api(path)), ticket).await
    }

    pub async fn post_form(&self, ticket: &str, path: &str, form: &[(&str, &str)]) -> Response {
        self.send(self.http.post(self.api(path)).form(form), ticket)
            .await
    }

    pub async fn put_form(&self, ticket: &str, path: &str, form: &[(&str, &str)]) -> Response {
        self.send(self.http.put(self.api(path)).form(form), ticket)
            .await
    }

    /// Sends a request under a ticket.
    async fn send(&self, request: reqwest::RequestBuilder, ticket: &str) -> Response {
        request.header("OTCSTicket", ticket).send().await.unwrap()
    }

    /// Creates a document with a multipart `body` JSON field plus the `file` part.
    pub async fn create_doc(
        &self,
        ticket: &str,
        parent: i64,
        name: &str,
        bytes: &[u8],
    ) -> Response {
        let body = serde_json::json!({"type": 144, "parent_id": parent, "name": name});
        let form = Form::new().text("body", body.to_string()).part(
            "file",
            Part::bytes(bytes.to_vec())
                .file_name(name.to_string())
                .mime_str("text/plain")
                .unwrap(),
        );
        self.post_multipart(ticket, "/v2/nodes", form)
            .await
            .unwrap()
    }

    /// POSTs a multipart form; the transport's error is the caller's to judge.
    pub async fn post_multipart(
        &self,
        ticket: &str,
        path: &str,
        form: Form,
    ) -> reqwest::Result<Response> {
        self.http
            .post(self.api(path))
            .header("OTCSTicket", ticket)
            .multipart(form)
            .send()
            .await
    }

    pub async fn create_folder(&self, ticket: &str, parent: i64, name: &str) -> i64 {
        let r = self
            .post_form(
                ticket,
                "/v2/nodes",
                &[
                    ("type", "0"),
                    ("parent_id", &parent.to_string()),
                    ("name", name),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        v["results"]["data"]["properties"]["id"].as_i64().unwrap()
    }

    pub async fn admin_json(&self, path: &str) -> Value {
        self.http
            .get(self.admin(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(self.admin(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "admin {path}: {}", r.status());
        r.json().await.unwrap()
    }
}

pub async fn json(r: Response) -> (StatusCode, Value) {
    let s = r.status();
    let text = r.text().await.unwrap();
    (
        s,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The `audit_name` of each entry of an audit list, in order.
pub fn audit_names(audit: &Value) -> Vec<&str> {
    audit
        .as_array()
        .expect("an audit list")
        .iter()
        .map(|e| e["audit_name"].as_str().expect("audit_name"))
        .collect()
}

pub fn node_id(v: &Value) -> i64 {
    v["results"]["data"]["properties"]["id"]
        .as_i64()
        .expect("node id in v2 envelope")
}
