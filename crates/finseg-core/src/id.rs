//! The client's own identifiers for users, accounts and transactions.

use std::fmt;

use crate::text::Text;

/// 1–128 characters of `[A-Za-z0-9._:@-]`, unique per client (SPEC §3).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExternalId(Text);

pub const ID_RULE: &str = "1 to 128 characters of A-Z a-z 0-9 . _ : @ -";

/// The bytes [`ID_RULE`] allows, looked up (two ids a transaction).
const ID_BYTES: [bool; 256] = {
    let mut allowed = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        allowed[c] = b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'@' | b'-');
        c += 1;
    }
    allowed
};

impl ExternalId {
    pub fn parse(s: &str) -> Option<Self> {
        Self::is_valid(s).then(|| ExternalId(s.into()))
    }

    pub fn is_valid(s: &str) -> bool {
        (1..=128).contains(&s.len()) && s.bytes().all(|c| ID_BYTES[usize::from(c)])
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0.into()
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for ExternalId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_rules() {
        assert!(ExternalId::parse("user-1@bank:2.x_y").is_some());
        assert!(ExternalId::parse("").is_none());
        assert!(ExternalId::parse("a b").is_none());
        assert!(ExternalId::parse("ü").is_none());
        assert!(ExternalId::parse(&"a".repeat(128)).is_some());
        assert!(ExternalId::parse(&"a".repeat(129)).is_none());
        for b in 0..=255u8 {
            let rule = b.is_ascii_alphanumeric() || b".-_:@".contains(&b);
            assert_eq!(ID_BYTES[usize::from(b)], rule, "byte {b}");
        }
    }
}
