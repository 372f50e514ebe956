//! Object keys in S3 event notifications are URL-encoded form-style: '+' for a
//! space and %XX for the rest (moto also encodes '/').

/// Why an event key cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyDecodeError {
    #[error("malformed percent escape at byte {0}")]
    BadEscape(usize),
    #[error("decoded key is not UTF-8")]
    NotUtf8,
}

/// Decode an S3 event key: '+' → space, then percent-decode as UTF-8.
/// A literal '+' arrives as `%2B`, so replacing '+' first is correct.
/// Malformed escapes are errors rather than passed through: a key we cannot
/// read exactly must not be declared under a guessed name.
pub fn decode_s3_event_key(raw: &str) -> Result<String, KeyDecodeError> {
    let bytes = raw.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'%' {
            let ok = bytes
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
            if !ok {
                return Err(KeyDecodeError::BadEscape(i));
            }
        }
    }
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| KeyDecodeError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes() {
        assert_eq!(decode_s3_event_key("a+b.txt").unwrap(), "a b.txt");
        assert_eq!(decode_s3_event_key("a%2Bb.txt").unwrap(), "a+b.txt");
        assert_eq!(
            decode_s3_event_key("finance%2Finvoices%2Fx.pdf").unwrap(),
            "finance/invoices/x.pdf"
        );
        assert_eq!(
            decode_s3_event_key("finance/caf%C3%A9.pdf").unwrap(),
            "finance/café.pdf"
        );
        assert_eq!(decode_s3_event_key("100%25+done").unwrap(), "100% done");
        assert_eq!(
            decode_s3_event_key("plain/key.txt").unwrap(),
            "plain/key.txt"
        );
        assert_eq!(decode_s3_event_key("").unwrap(), "");
    }

    #[test]
    fn rejects_invalid() {
        assert_eq!(
            decode_s3_event_key("bad%C"),
            Err(KeyDecodeError::BadEscape(3))
        );
        assert_eq!(decode_s3_event_key("bad%C3"), Err(KeyDecodeError::NotUtf8));
        assert_eq!(
            decode_s3_event_key("x%zz"),
            Err(KeyDecodeError::BadEscape(1))
        );
        assert_eq!(
            decode_s3_event_key("50%"),
            Err(KeyDecodeError::BadEscape(2))
        );
        assert_eq!(
            decode_s3_event_key("caf%C3%28"),
            Err(KeyDecodeError::NotUtf8)
        );
        assert_eq!(decode_s3_event_key("%FF"), Err(KeyDecodeError::NotUtf8));
    }
}
