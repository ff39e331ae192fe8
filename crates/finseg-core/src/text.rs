//! [`Text`]: an immutable string kept inline when it is short.
//!
//! A bulk import parses every field of every record into its own value and
//! frees it a batch later, on the thread that parsed it: with `String`,
//! that was an allocation and a free per field, most of them for ids,
//! codes, IBANs and names of a few dozen bytes. A `Text` of up to
//! [`Text::INLINE`] bytes lives inside its record.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    /// The bytes of a whole `str`, never cut.
    Inline {
        len: u8,
        bytes: [u8; Text::INLINE],
    },
    Heap(Box<str>),
}

impl Text {
    /// Longest text kept inline: ids (a UUID is 36), IBANs (34), codes,
    /// most names. A `Text` is then 40 bytes.
    pub const INLINE: usize = 38;

    pub fn new(s: &str) -> Self {
        if s.len() <= Self::INLINE {
            let mut bytes = [0; Self::INLINE];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            Text(Repr::Inline {
                len: s.len() as u8,
                bytes,
            })
        } else {
            Text(Repr::Heap(s.into()))
        }
    }

    #[allow(unsafe_code)]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline { len, bytes } => {
                let bytes = &bytes[..usize::from(*len)];
                // SAFETY: `new` copied these bytes from a whole `&str` (the
                // length is the str's own), so they are valid UTF-8; they
                // are never changed after.
                unsafe { std::str::from_utf8_unchecked(bytes) }
            }
            Repr::Heap(s) => s,
        }
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text::new(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        if s.len() <= Self::INLINE {
            Text::new(&s)
        } else {
            Text(Repr::Heap(s.into_boxed_str()))
        }
    }
}

impl From<Text> for String {
    fn from(t: Text) -> Self {
        match t.0 {
            Repr::Heap(s) => s.into_string(),
            Repr::Inline { .. } => t.as_str().to_owned(),
        }
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// As `str` hashes, so that a map keyed by `Text` is searched by `&str`.
impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_texts_are_inline_and_the_size_is_forty_bytes() {
        assert_eq!(std::mem::size_of::<Text>(), 40);
        assert_eq!(std::mem::size_of::<Option<Text>>(), 40);
        assert!(matches!(
            Text::new("DE89370400440532013000").0,
            Repr::Inline { .. }
        ));
        assert!(matches!(Text::new(&"x".repeat(38)).0, Repr::Inline { .. }));
        assert!(matches!(Text::new(&"x".repeat(39)).0, Repr::Heap(_)));
    }

    proptest! {
        /// Whatever its length and characters, a `Text` is its string:
        /// the same text, order, equality and hash.
        #[test]
        fn a_text_is_its_string(a in "\\PC{0,60}", b in "\\PC{0,60}") {
            let (ta, tb) = (Text::from(a.as_str()), Text::from(b.clone()));
            prop_assert_eq!(ta.as_str(), a.as_str());
            prop_assert_eq!(tb.as_str(), b.as_str());
            prop_assert_eq!(ta.cmp(&tb), a.cmp(&b));
            prop_assert_eq!(ta == tb, a == b);
            let hash = |x: &dyn Fn(&mut std::collections::hash_map::DefaultHasher)| {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                x(&mut h);
                h.finish()
            };
            prop_assert_eq!(hash(&|h| ta.hash(h)), hash(&|h| a.as_str().hash(h)));
            prop_assert_eq!(String::from(tb), b);
        }
    }
}
