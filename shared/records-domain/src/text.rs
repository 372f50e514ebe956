//! Cutting text to a limit without cutting a character in two: S3 keys and names are UTF-8,
//! and `String::truncate` panics inside a multibyte character.

/// The longest prefix of `s` with at most `max_chars` characters.
pub fn truncate_chars(s: &str, max_chars: usize) -> &str {
    match s.char_indices().nth(max_chars) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::truncate_chars;

    #[test]
    fn cuts_on_character_boundaries() {
        let japanese = "請求書".repeat(100); // 300 characters, 900 bytes
        assert_eq!(truncate_chars(&japanese, 255).chars().count(), 255);
        let emoji = "📄".repeat(250); // 1,000 bytes
        assert_eq!(truncate_chars(&emoji, 255), emoji, "shorter than the limit");
        assert_eq!(truncate_chars(&emoji, 3), "📄📄📄");
        assert_eq!(truncate_chars("abc", 0), "");
        assert_eq!(truncate_chars("", 5), "");
    }
}
