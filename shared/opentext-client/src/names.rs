//! How Content Server compares node names: a folder cannot hold two items whose names differ
//! only in case, in any script (`plain.pdf` / `PLAIN.pdf`, `Verträge Ü.pdf` / `verträge ü.pdf`),
//! so every lookup by name must compare the same way or it misses the item the server
//! reports as a clash.

/// True when the server treats `a` and `b` as the same name (Unicode case folding).
pub fn same_name(a: &str, b: &str) -> bool {
    unicase::eq(a, b)
}

#[cfg(test)]
mod tests {
    use super::same_name;

    #[test]
    fn ascii_and_unicode_case_fold() {
        assert!(same_name("plain.pdf", "PLAIN.pdf"));
        assert!(same_name("Verträge Ü.pdf", "verträge ü.pdf"));
        assert!(same_name("ΣΊΣΥΦΟΣ.txt", "σίσυφος.txt"));
        assert!(!same_name("a.pdf", "b.pdf"));
        assert!(
            !same_name("Verträge U.pdf", "Verträge Ü.pdf"),
            "accents still count"
        );
    }
}
