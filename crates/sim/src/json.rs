//! A tiny JSON writer whose objects keep their key order.
//!
//! The simulator promises byte-exact bodies. `serde_json::Value` sorts keys or keeps insertion
//! order depending on whether some other crate in the build turned on `preserve_order`, so the
//! bodies are built from this type instead: key order is what the code says, whatever the build.

use std::fmt::Write as _;

/// A JSON value with ordered object keys.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum J {
    Null,
    Bool(bool),
    Int(i128),
    Num(f64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    /// An object from `(key, value)` pairs, in that order.
    pub(crate) fn obj<K: Into<String>>(pairs: impl IntoIterator<Item = (K, J)>) -> J {
        J::Obj(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The value of `key` when `self` is an object that has it.
    pub(crate) fn get(&self, key: &str) -> Option<&J> {
        match self {
            J::Obj(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string inside, if this is a string.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            J::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Appends `(key, value)` when `self` is an object; does nothing otherwise.
    pub(crate) fn push(&mut self, key: &str, value: J) {
        if let J::Obj(pairs) = self {
            pairs.push((key.to_owned(), value));
        }
    }

    /// Serializes without whitespace, as `JSON.stringify` does.
    pub(crate) fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            J::Null => out.push_str("null"),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Int(i) => {
                let _ = write!(out, "{i}");
            }
            J::Num(f) => {
                if f.is_finite() {
                    // `Display` for f64 prints what JavaScript prints for the values we use
                    // (1 rather than 1.0, 0.35 rather than 3.5e-1).
                    let _ = write!(out, "{f}");
                } else {
                    out.push_str("null");
                }
            }
            J::Str(s) => write_str(s, out),
            J::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            J::Obj(pairs) => {
                out.push('{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(k, out);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl From<&str> for J {
    fn from(s: &str) -> J {
        J::Str(s.to_owned())
    }
}

impl From<String> for J {
    fn from(s: String) -> J {
        J::Str(s)
    }
}

impl From<&String> for J {
    fn from(s: &String) -> J {
        J::Str(s.clone())
    }
}

impl From<bool> for J {
    fn from(b: bool) -> J {
        J::Bool(b)
    }
}

impl From<u64> for J {
    fn from(n: u64) -> J {
        J::Int(n.into())
    }
}

impl From<u16> for J {
    fn from(n: u16) -> J {
        J::Int(n.into())
    }
}

impl From<usize> for J {
    fn from(n: usize) -> J {
        J::Int(n as i128)
    }
}

impl From<f64> for J {
    fn from(n: f64) -> J {
        J::Num(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_key_order_and_escapes() {
        let j = J::obj([
            ("z", J::from("a\"b\\c\n\u{1}")),
            (
                "a",
                J::Arr(vec![J::Int(1), J::Num(0.5), J::Num(2.0), J::Null]),
            ),
            ("m", J::Bool(false)),
        ]);
        assert_eq!(
            j.to_json(),
            r#"{"z":"a\"b\\c\n\u0001","a":[1,0.5,2,null],"m":false}"#
        );
        // What we write is what serde_json reads.
        let back: serde_json::Value = serde_json::from_str(&j.to_json()).unwrap();
        assert_eq!(back["z"], "a\"b\\c\n\u{1}");
    }
}
