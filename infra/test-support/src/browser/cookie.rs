//! Cookies as WebDriver shows them: what the page under test set, flags included.

use serde_json::{Value, json};

/// A cookie as the browser holds it: what the page under test set, flags included.
#[derive(Debug, Clone, PartialEq)]
pub struct Cookie {
    pub name: String,
    pub value: String,
    pub path: Option<String>,
    pub domain: Option<String>,
    pub http_only: bool,
    pub secure: bool,
    /// `Strict`, `Lax` or `None` (as the browser reports it).
    pub same_site: Option<String>,
    /// Epoch seconds; `None` for a session cookie.
    pub expiry: Option<u64>,
}

impl Cookie {
    /// A plain cookie to [`Browser::set_cookie`]: path `/`, no flags.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            path: Some("/".into()),
            domain: None,
            http_only: false,
            secure: false,
            same_site: None,
            expiry: None,
        }
    }

    pub(super) fn from_json(v: &Value) -> Self {
        let s = |k: &str| v[k].as_str().map(str::to_owned);
        Self {
            name: s("name").unwrap_or_default(),
            value: s("value").unwrap_or_default(),
            path: s("path"),
            domain: s("domain"),
            http_only: v["httpOnly"].as_bool().unwrap_or(false),
            secure: v["secure"].as_bool().unwrap_or(false),
            same_site: s("sameSite"),
            expiry: v["expiry"].as_u64(),
        }
    }

    pub(super) fn to_json(&self) -> Value {
        let mut v = json!({
            "name": self.name, "value": self.value,
            "httpOnly": self.http_only, "secure": self.secure,
        });
        let fields = [
            ("path", self.path.clone().map(Value::from)),
            ("domain", self.domain.clone().map(Value::from)),
            ("sameSite", self.same_site.clone().map(Value::from)),
            ("expiry", self.expiry.map(Value::from)),
        ];
        for (k, x) in fields {
            if let Some(x) = x {
                v[k] = x;
            }
        }
        v
    }
}
