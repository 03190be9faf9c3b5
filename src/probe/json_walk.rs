//! Looks up a JSON path in a response body without building the document: every level is
//! scanned with `IgnoredAny` until the wanted key or index, and only that value is kept as a
//! borrowed `RawValue`. A probe that checks `flags` on a large environment document allocates
//! almost nothing.

use super::assert::Step;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// The value at `steps` inside `root`, if present.
pub fn walk<'a>(root: &'a RawValue, steps: &[Step]) -> Option<&'a RawValue> {
    let mut v = root;
    for step in steps {
        let mut de = serde_json::Deserializer::from_str(v.get());
        v = Find { step }.deserialize(&mut de).ok()??;
    }
    Some(v)
}

struct Find<'s> {
    step: &'s Step,
}

impl<'de> DeserializeSeed<'de> for Find<'_> {
    type Value = Option<&'de RawValue>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Find<'_> {
    type Value = Option<&'de RawValue>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object or array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Step::Key(want) = self.step else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(None);
        };
        let mut found = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if found.is_none() && key == want.as_str() {
                found = Some(map.next_value::<&'de RawValue>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let Step::Index(want) = self.step else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(None);
        };
        let mut found = None;
        let mut i = 0;
        loop {
            if i == *want {
                match seq.next_element::<&'de RawValue>()? {
                    Some(v) => found = Some(v),
                    None => break,
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                break;
            }
            i += 1;
        }
        Ok(found)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::assert::JsonPath;

    fn at(doc: &str, path: &str) -> Option<String> {
        let root: &RawValue = serde_json::from_str(doc).ok()?;
        let p = JsonPath::parse(path).ok()?;
        walk(root, p.steps()).map(|v| v.get().to_owned())
    }

    #[test]
    fn finds_keys_and_indexes_and_misses_cleanly() {
        let doc = r#"{"a": 1, "fl\"ags": 0, "flags": [{"feature": {"name": "x"}}, {"id": 2}], "z": null}"#;
        assert_eq!(at(doc, "flags[0].feature.name").as_deref(), Some("\"x\""));
        assert_eq!(at(doc, "flags[1].id").as_deref(), Some("2"));
        assert_eq!(at(doc, "flags[2]"), None);
        assert_eq!(at(doc, "a.b"), None);
        assert_eq!(at(doc, "z").as_deref(), Some("null"));
        assert_eq!(at(doc, "missing"), None);
        assert_eq!(at(doc, "flags.name"), None);
    }
}
