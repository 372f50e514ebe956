//! S3 Control's REST-XML on the wire: a small element tree read with quick-xml (the SDK's
//! requests are a few dozen elements, so a tree is simpler to query than a streaming
//! state machine), and the writer for the bodies the SDK's deserializers read.

use quick_xml::Reader;
use quick_xml::events::Event;

use super::{JobRecord, iso8601};

/// S3 Control's XML namespace (requests carry it; responses declare it too).
pub(super) const NAMESPACE: &str = "http://awss3control.amazonaws.com/doc/2018-08-20/";

/// Deeper than any S3 Control request; bounds the work a hostile body can cause.
const MAX_DEPTH: usize = 32;

/// One element: its local name (no namespace prefix), its text, its children in order.
#[derive(Debug, Default)]
pub(super) struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the named child (a leaf), if present.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

/// Parses a whole document into its root element. Any malformation is an error (the
/// server answers `MalformedXML`), never a panic.
pub(super) fn parse(body: &[u8]) -> Result<Element, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("not UTF-8: {e}"))?;
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("at byte {}: {e}", reader.buffer_position()))?;
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err("more than one root element".into());
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("nested deeper than {MAX_DEPTH} elements"));
                }
                stack.push(Element {
                    name: local_name(start.local_name().as_ref())?,
                    ..Element::default()
                });
            }
            Event::Empty(start) => {
                let el = Element {
                    name: local_name(start.local_name().as_ref())?,
                    ..Element::default()
                };
                attach(&mut stack, &mut root, el);
            }
            Event::End(_) => {
                let el = stack.pop().ok_or("an end tag without its start")?;
                attach(&mut stack, &mut root, el);
            }
            Event::Text(t) => {
                let t = t.xml10_content().map_err(|e| e.to_string())?;
                push_text(&mut stack, &t)?;
            }
            Event::CData(t) => {
                let t = t.decode().map_err(|e| e.to_string())?;
                push_text(&mut stack, &t)?;
            }
            // Since quick-xml 0.38 `&amp;` / `&#xA;` come as their own events.
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().map_err(|e| e.to_string())?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| format!("unknown entity &{name};"))?
                            .to_string()
                    }
                };
                push_text(&mut stack, &resolved)?;
            }
            Event::DocType(_) => return Err("DOCTYPE is not allowed".into()),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(format!(
            "unclosed element <{}>",
            stack[stack.len() - 1].name
        ));
    }
    root.ok_or_else(|| "no root element".to_string())
}

fn local_name(raw: &[u8]) -> Result<String, String> {
    std::str::from_utf8(raw)
        .map(str::to_string)
        .map_err(|e| format!("element name: {e}"))
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, el: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), String> {
    match stack.last_mut() {
        Some(el) => {
            el.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err("text outside the root element".into()),
    }
}

/// Escapes as the SDK's own XML writer does (line breaks as character references, so
/// they survive any end-of-line normalisation).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' | '\n' | '\u{85}' | '\u{2028}' => out.push_str(&format!("&#x{:X};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A minimal XML writer: enough for S3 Control's response bodies.
struct Writer(String);

impl Writer {
    fn document(root: &str) -> Self {
        Self(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{NAMESPACE}\">"
        ))
    }
    fn open(&mut self, name: &str) {
        self.0.push_str(&format!("<{name}>"));
    }
    fn close(&mut self, name: &str) {
        self.0.push_str(&format!("</{name}>"));
    }
    fn leaf(&mut self, name: &str, text: impl AsRef<str>) {
        self.0
            .push_str(&format!("<{name}>{}</{name}>", escape(text.as_ref())));
    }
    fn opt(&mut self, name: &str, text: Option<&str>) {
        if let Some(t) = text {
            self.leaf(name, t);
        }
    }
    fn finish(mut self, root: &str) -> String {
        self.close(root);
        self.0
    }
}

/// `CreateJobResult`, the root the SDK's `de_create_job` insists on.
pub(super) fn create_job_result(job_id: &str) -> String {
    let mut w = Writer::document("CreateJobResult");
    w.leaf("JobId", job_id);
    w.finish("CreateJobResult")
}

/// The error body S3 Control sends, which the SDK's `rest_xml_wrapped_errors` reads
/// (`Code` and `Message` inside `<ErrorResponse><Error>`).
pub(super) fn error_response(code: &str, message: &str, request_id: &str) -> String {
    let mut w = Writer(String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse>",
    ));
    w.open("Error");
    w.leaf("Code", code);
    w.leaf("Message", message);
    w.close("Error");
    w.leaf("RequestId", request_id);
    w.leaf("HostId", request_id);
    w.finish("ErrorResponse")
}

/// `DescribeJobResult` with the job's `JobDescriptor`, elements as the SDK reads them.
pub(super) fn describe_job_result(job: &JobRecord) -> String {
    let mut w = Writer::document("DescribeJobResult");
    w.open("Job");
    w.leaf("JobId", &job.job_id);
    w.leaf(
        "ConfirmationRequired",
        job.confirmation_required.to_string(),
    );
    w.opt("Description", job.description.as_deref());
    w.leaf("JobArn", job.job_arn());
    w.leaf("Status", job.status.as_str());
    w.open("Manifest");
    w.open("Spec");
    w.leaf("Format", &job.manifest.format);
    w.open("Fields");
    for f in &job.manifest.fields {
        w.leaf("member", f);
    }
    w.close("Fields");
    w.close("Spec");
    w.open("Location");
    w.leaf("ObjectArn", &job.manifest.object_arn);
    w.opt("ObjectVersionId", job.manifest.version_id.as_deref());
    w.leaf("ETag", &job.manifest.etag);
    w.close("Location");
    w.close("Manifest");
    w.open("Operation");
    w.open("LambdaInvoke");
    w.leaf("FunctionArn", &job.function_arn);
    w.leaf("InvocationSchemaVersion", &job.invocation_schema_version);
    if !job.user_arguments.is_empty() {
        w.open("UserArguments");
        for (k, v) in &job.user_arguments {
            w.open("entry");
            w.leaf("key", k);
            w.leaf("value", v);
            w.close("entry");
        }
        w.close("UserArguments");
    }
    w.close("LambdaInvoke");
    w.close("Operation");
    w.leaf("Priority", job.priority.to_string());
    w.open("ProgressSummary");
    w.leaf("TotalNumberOfTasks", job.total_tasks.to_string());
    w.leaf("NumberOfTasksSucceeded", job.succeeded_tasks.to_string());
    w.leaf("NumberOfTasksFailed", job.failed_tasks.to_string());
    w.open("Timers");
    w.leaf(
        "ElapsedTimeInActiveSeconds",
        job.elapsed_active_seconds().to_string(),
    );
    w.close("Timers");
    w.close("ProgressSummary");
    if !job.failure_reasons.is_empty() {
        w.open("FailureReasons");
        for f in &job.failure_reasons {
            w.open("member");
            w.leaf("FailureCode", &f.code);
            w.leaf("FailureReason", &f.reason);
            w.close("member");
        }
        w.close("FailureReasons");
    }
    w.open("Report");
    w.opt("Bucket", job.report.bucket_arn.as_deref());
    w.opt("Format", job.report.format.as_deref());
    w.leaf("Enabled", job.report.enabled.to_string());
    w.opt("Prefix", job.report.prefix.as_deref());
    w.opt("ReportScope", job.report.scope.as_deref());
    w.close("Report");
    w.leaf("CreationTime", iso8601(job.creation_time));
    w.opt(
        "TerminationDate",
        job.termination_date.map(iso8601).as_deref(),
    );
    w.leaf("RoleArn", &job.role_arn);
    if let Some(cause) = &job.suspended_cause {
        w.leaf("SuspendedDate", iso8601(job.creation_time));
        w.leaf("SuspendedCause", cause);
    }
    w.close("Job");
    w.finish("DescribeJobResult")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_and_character_references_are_resolved() {
        let el = parse(
            br#"<?xml version="1.0"?><R xmlns="x"><A>a&amp;b&#xA;&lt;c&#x2028;</A><B/><C> </C></R>"#,
        )
        .unwrap();
        assert_eq!(el.name, "R");
        assert_eq!(el.text_of("A"), Some("a&b\n<c\u{2028}"));
        assert_eq!(el.text_of("B"), Some(""));
        assert_eq!(el.text_of("C"), Some(" "));
    }

    #[test]
    fn malformed_documents_are_errors() {
        for bad in [
            &b""[..],
            b"<a>",
            b"<a></b>",
            b"<a/><b/>",
            b"text",
            b"<a>&bogus;</a>",
            b"<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>",
            b"\xff\xfe",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn what_is_written_reads_back() {
        let body = error_response("InvalidRequest", "a \"b\" & <c>\nd", "req-1");
        let el = parse(body.as_bytes()).unwrap();
        let err = el.child("Error").unwrap();
        assert_eq!(err.text_of("Code"), Some("InvalidRequest"));
        assert_eq!(err.text_of("Message"), Some("a \"b\" & <c>\nd"));
    }
}
