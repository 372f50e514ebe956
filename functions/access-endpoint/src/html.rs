//! The browser pages: server-rendered, no framework, no JavaScript, readable on a phone.

use records_domain::access::AccessRefusal;

/// `&`, `<`, `>`, `"` and `'` as entities: every value on a page passes through here.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:48rem;padding:1rem;line-height:1.4}\
header{display:flex;justify-content:space-between;align-items:center;gap:1rem;flex-wrap:wrap}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem;border-bottom:1px solid #ddd;vertical-align:top}\
td.sha{font-family:monospace;font-size:.75rem;word-break:break-all}.hold{color:#a00;font-weight:bold}\
.refusal{border-left:4px solid #a00;padding:.5rem 1rem;background:#fee}a.button,button{font-size:1rem;padding:.4rem .8rem}\
@media(max-width:40rem){td.sha{display:none}th.sha{display:none}}";

/// A whole page around `body`.
pub fn page(title: &str, user: Option<&str>, body: &str) -> String {
    let who = match user {
        Some(u) => format!(
            "<form method=\"post\" action=\"/logout\"><span>{}</span> <button type=\"submit\" id=\"sign-out\">Sign out</button></form>",
            escape(u)
        ),
        None => String::new(),
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{t} · records-bridge</title><style>{STYLE}</style></head><body>\
<header><h1>{t}</h1>{who}</header><main>{body}</main></body></html>",
        t = escape(title)
    )
}

pub fn sign_in(message: Option<&str>) -> String {
    let note = message
        .map(|m| format!("<p class=\"refusal\" id=\"notice\">{}</p>", escape(m)))
        .unwrap_or_default();
    page(
        "Records",
        None,
        &format!(
            "{note}<p>Records whose content is kept in Amazon S3, opened with your OpenText \
permissions.</p><p><a class=\"button\" id=\"sign-in\" href=\"/login\">Sign in with OpenText</a></p>"
        ),
    )
}

/// The page a refusal shows in a browser (the API answers JSON).
pub fn refusal(r: &AccessRefusal, user: Option<&str>) -> String {
    page(
        &format!("Not available ({})", r.status()),
        user,
        &format!(
            "<p class=\"refusal\" id=\"refusal\" data-code=\"{}\">{}</p><p><a href=\"/\">Back to the records</a></p>",
            escape(r.body()["code"].as_str().unwrap_or("")),
            escape(&r.message())
        ),
    )
}

/// After sign-in: a same-site step, so the browser sends the strict session cookie on the
/// next request (a redirect chain that began at OTDS counts as cross-site).
pub fn continue_to(location: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"refresh\" content=\"0;url={l}\"><title>Signed in</title></head>\
<body><p><a id=\"continue\" href=\"{l}\">Continue</a></p></body></html>",
        l = escape(location)
    )
}

/// One row of the folder listing.
pub struct Row {
    pub node_id: i64,
    pub name: String,
    pub size: Option<u64>,
    pub record_date: Option<String>,
    pub sha256: Option<String>,
    pub holds: Vec<i64>,
    pub in_s3: bool,
}

fn size_text(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

pub fn folder(name: &str, user: &str, rows: &[Row]) -> String {
    let mut body = String::from(
        "<table id=\"records\"><thead><tr><th>Name</th><th>Size</th><th>Record date</th>\
<th class=\"sha\">SHA-256</th><th>Hold</th></tr></thead><tbody>",
    );
    if rows.is_empty() {
        body.push_str("<tr><td colspan=\"5\">No records you may see.</td></tr>");
    }
    for r in rows {
        let name = if r.in_s3 {
            format!(
                "<a class=\"record\" data-node=\"{id}\" href=\"/records/{id}/content\">{}</a>",
                escape(&r.name),
                id = r.node_id
            )
        } else {
            format!("{} <small>(not in S3)</small>", escape(&r.name))
        };
        let hold = if r.holds.is_empty() {
            String::new()
        } else {
            format!(
                "<span class=\"hold\">on hold ({})</span>",
                r.holds
                    .iter()
                    .map(|h| h.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        body.push_str(&format!(
            "<tr data-node=\"{}\"><td>{name}</td><td>{}</td><td>{}</td><td class=\"sha\">{}</td><td>{hold}</td></tr>",
            r.node_id,
            r.size.map(size_text).unwrap_or_default(),
            escape(r.record_date.as_deref().unwrap_or("")),
            escape(r.sha256.as_deref().unwrap_or("")),
        ));
    }
    body.push_str("</tbody></table>");
    page(name, Some(user), &body)
}

pub fn signed_out() -> String {
    page(
        "Signed out",
        None,
        "<p id=\"signed-out\">You are signed out.</p><p><a href=\"/\">Sign in again</a></p>",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped() {
        assert_eq!(
            escape("<a href=\"x\">O'Neil & co</a>"),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;"
        );
        let p = folder(
            "<Finance>",
            "jdoe",
            &[Row {
                node_id: 7,
                name: "<script>alert(1)</script>".into(),
                size: Some(2048),
                record_date: None,
                sha256: None,
                holds: vec![6100],
                in_s3: true,
            }],
        );
        assert!(!p.contains("<script>alert"));
        assert!(p.contains("2.0 KiB") && p.contains("on hold (6100)"));
        assert!(p.contains("name=\"viewport\""));
    }
}
