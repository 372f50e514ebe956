//! The Function URL request as the endpoint reads it, and the response it answers with.

use std::collections::BTreeMap;

use aws_lambda_events::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use http::HeaderValue;

/// What the endpoint reads from a request (headers lower-cased, as Function URLs send them).
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Query parameters, `%`-decoded.
    pub query: BTreeMap<String, String>,
    pub headers: BTreeMap<String, String>,
    pub request_id: String,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

fn decode(s: &str) -> String {
    let spaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// The query string's parameters (`a=1&b=x%20y`); the last of a repeated name wins.
pub fn parse_query(raw: &str) -> BTreeMap<String, String> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

impl From<LambdaFunctionUrlRequest> for Request {
    fn from(req: LambdaFunctionUrlRequest) -> Self {
        let mut headers: BTreeMap<String, String> = req
            .headers
            .iter()
            .filter_map(|(k, v)| {
                Some((
                    k.as_str().to_ascii_lowercase(),
                    v.to_str().ok()?.to_string(),
                ))
            })
            .collect();
        // Payload 2.0 sends the request's cookies apart, in `cookies`.
        if let Some(cookies) = req.cookies.as_ref().filter(|c| !c.is_empty()) {
            headers.insert("cookie".into(), cookies.join("; "));
        }
        let http = &req.request_context.http;
        Request {
            method: http.method.clone().unwrap_or_default(),
            path: req.raw_path.clone().unwrap_or_else(|| "/".into()),
            query: parse_query(req.raw_query_string.as_deref().unwrap_or("")),
            headers,
            request_id: req.request_context.request_id.clone().unwrap_or_default(),
            source_ip: http.source_ip.clone(),
            user_agent: http.user_agent.clone(),
        }
    }
}

/// An answer: status, headers, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Response {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    pub fn redirect(location: &str) -> Self {
        Response {
            status: 303,
            headers: vec![("location".into(), location.into())],
            body: String::new(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl From<Response> for LambdaFunctionUrlResponse {
    fn from(r: Response) -> Self {
        let mut out = LambdaFunctionUrlResponse::default();
        out.status_code = r.status as i64;
        for (k, v) in &r.headers {
            // Function URLs (payload 2.0) take Set-Cookie from `cookies`, one per entry.
            if k == "set-cookie" {
                out.cookies.push(v.clone());
                continue;
            }
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                out.headers.append(name, value);
            }
        }
        // Nothing here may be cached or leak through a Referer: URLs are short-lived
        // credentials.
        out.headers
            .insert("cache-control", HeaderValue::from_static("no-store"));
        out.headers
            .insert("referrer-policy", HeaderValue::from_static("no-referrer"));
        out.headers.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        out.body = Some(r.body);
        out.is_base64_encoded = false;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_decoded() {
        let q = parse_query("uri=s3%3A%2F%2Fgov%2Fa%2520b.pdf%3FversionId%3D1&x&y=a+b");
        assert_eq!(q["uri"], "s3://gov/a%20b.pdf?versionId=1");
        assert_eq!(q["x"], "");
        assert_eq!(q["y"], "a b");
    }
}
