//! The client's own identifiers for users, accounts and transactions.

use std::fmt;

use crate::text::Text;

/// 1–128 characters of `[A-Za-z0-9._:@-]`, unique per client (SPEC §3).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExternalId(Text);

pub const ID_RULE: &str = "1 to 128 characters of A-Z a-z 0-9 . _ : @ -";

impl ExternalId {
    pub fn parse(s: &str) -> Option<Self> {
        Self::is_valid(s).then(|| ExternalId(s.into()))
    }

    pub fn is_valid(s: &str) -> bool {
        (1..=128).contains(&s.len())
            && s.bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b':' | b'@' | b'-'))
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
    }
}
