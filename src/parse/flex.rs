//! A lenient scalar: exports disagree on types (`"LogonType": 0` vs `"0"`, `"RecordType": "2"`),
//! so scalar fields accept a string, number or bool and keep its text; objects and arrays where a
//! scalar was expected are ignored rather than failing the whole record.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// `str::trim`, with the common case (printable ASCII at both ends) decided from two bytes.
#[inline]
pub fn trim(s: &str) -> &str {
    let printable = |b: Option<&u8>| b.is_some_and(|b| (0x21..0x80).contains(b));
    if printable(s.as_bytes().first()) && printable(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    }
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Flex<'a>(pub Option<Cow<'a, str>>);

impl<'a> Flex<'a> {
    /// The trimmed text, `None` when absent or empty.
    pub fn get(&self) -> Option<&str> {
        self.0.as_deref().map(trim).filter(|s| !s.is_empty())
    }
    pub fn owned(&self) -> Option<String> {
        self.get().map(str::to_string)
    }
    /// `get` as a value that outlives the `Flex`: borrowed from the input when the text was.
    pub fn cow(&self) -> Option<Cow<'a, str>> {
        Some(match self.0.as_ref()? {
            Cow::Borrowed(s) => Cow::Borrowed(trim(s)),
            Cow::Owned(s) => Cow::Owned(trim(s).to_string()),
        })
        .filter(|s| !s.is_empty())
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Flex<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Flex<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Flex(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Flex(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Flex(Some(Cow::Owned(v))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Flex(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Flex(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Flex(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Flex(Some(Cow::Borrowed(if v { "True" } else { "False" }))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Flex(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Flex(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Flex(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Flex(None))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}
