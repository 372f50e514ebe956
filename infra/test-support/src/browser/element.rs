//! Elements of the current page: text, clicks, typing, attributes and properties.

use anyhow::Result;
use reqwest::Method;
use serde_json::{Value, json};

use super::Browser;

/// An element of the current page (a WebDriver element reference).
pub struct Element<'a> {
    pub(super) browser: &'a Browser,
    pub(super) id: String,
}

impl Element<'_> {
    /// The rendered text (as a person sees it: hidden text excluded).
    pub async fn text(&self) -> Result<String> {
        self.browser.string(Method::GET, &self.path("text")).await
    }

    pub async fn click(&self) -> Result<()> {
        self.browser
            .cmd(Method::POST, &self.path("click"), Value::Null)
            .await
            .map(drop)
    }

    /// Types into the element (appends to what a field already holds).
    pub async fn send_keys(&self, text: &str) -> Result<()> {
        self.browser
            .cmd(Method::POST, &self.path("value"), json!({ "text": text }))
            .await
            .map(drop)
    }

    pub async fn clear(&self) -> Result<()> {
        self.browser
            .cmd(Method::POST, &self.path("clear"), Value::Null)
            .await
            .map(drop)
    }

    /// An attribute as the markup has it; `None` when absent. (What a person typed is the
    /// `value` *property*: see [`Element::property`].)
    pub async fn attribute(&self, name: &str) -> Result<Option<String>> {
        self.optional_string(&format!("attribute/{name}")).await
    }

    /// A DOM property (`value`, `checked`, `href` resolved...); `None` when null/undefined.
    pub async fn property(&self, name: &str) -> Result<Option<String>> {
        self.optional_string(&format!("property/{name}")).await
    }

    async fn optional_string(&self, what: &str) -> Result<Option<String>> {
        let v = self
            .browser
            .cmd(Method::GET, &self.path(what), Value::Null)
            .await?;
        Ok(match v {
            Value::Null => None,
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        })
    }

    fn path(&self, what: &str) -> String {
        format!("element/{}/{what}", self.id)
    }
}
