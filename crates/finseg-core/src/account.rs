//! Account types (finAPI Access's list).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccountType {
    Checking,
    Savings,
    CreditCard,
    Security,
    Loan,
    Pocket,
    Membership,
    Bausparen,
}

impl AccountType {
    pub const ALL: [AccountType; 8] = [
        AccountType::Checking,
        AccountType::Savings,
        AccountType::CreditCard,
        AccountType::Security,
        AccountType::Loan,
        AccountType::Pocket,
        AccountType::Membership,
        AccountType::Bausparen,
    ];

    /// Deposit types: the default of `highBalance`.
    pub const DEPOSIT: [AccountType; 3] = [
        AccountType::Checking,
        AccountType::Savings,
        AccountType::Pocket,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::Checking => "CHECKING",
            AccountType::Savings => "SAVINGS",
            AccountType::CreditCard => "CREDIT_CARD",
            AccountType::Security => "SECURITY",
            AccountType::Loan => "LOAN",
            AccountType::Pocket => "POCKET",
            AccountType::Membership => "MEMBERSHIP",
            AccountType::Bausparen => "BAUSPAREN",
        }
    }

    /// Accepts `CREDIT_CARD`, `creditCard`, `credit_card`, `CreditCard`
    /// (finAPI Access spells types in several cases).
    pub fn parse(s: &str) -> Option<Self> {
        let norm: String = s
            .chars()
            .filter(|c| *c != '_')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().replace('_', "") == norm)
    }

    pub fn code(self) -> i16 {
        self as i16
    }

    pub fn from_code(c: i16) -> Option<Self> {
        Self::ALL.get(usize::try_from(c).ok()?).copied()
    }
}

impl fmt::Display for AccountType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for AccountType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for AccountType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        AccountType::parse(&s).ok_or_else(|| serde::de::Error::custom("not an account type"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        assert_eq!(
            AccountType::parse("CREDIT_CARD"),
            Some(AccountType::CreditCard)
        );
        assert_eq!(
            AccountType::parse("creditCard"),
            Some(AccountType::CreditCard)
        );
        assert_eq!(AccountType::parse("checking"), Some(AccountType::Checking));
        assert_eq!(
            AccountType::parse("Bausparen"),
            Some(AccountType::Bausparen)
        );
        assert_eq!(AccountType::parse("GIRO"), None);
        for t in AccountType::ALL {
            assert_eq!(AccountType::from_code(t.code()), Some(t));
        }
    }
}
