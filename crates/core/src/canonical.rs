//! Canonical JSON bytes and SHA-256 commitments.
//!
//! A commitment a person or another system recomputes (a bid's, an announcement's) names its
//! [`Recipe`]: new ones are RFC 8785 (the JSON Canonicalization Scheme, which any language's
//! JCS library reproduces, by `serde_json_canonicalizer`); those made before carry no recipe
//! and are [`Recipe::V1`] — keys sorted by their UTF-8 bytes, no insignificant whitespace,
//! numbers and strings as serde_json writes them — and still verify. Internal digests (a
//! request's fingerprint, a view's tag) use V1. A bidder can recompute the commitment on its
//! receipt from the bid it sent.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// How a commitment's bytes are made from JSON.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Recipe {
    /// Keys sorted by their UTF-8 bytes, serde_json's numbers and strings: every commitment
    /// recorded without a recipe.
    #[default]
    V1,
    /// RFC 8785, the JSON Canonicalization Scheme: what new commitments use.
    Jcs,
}

impl Recipe {
    /// The recipe new commitments are made with.
    pub const CURRENT: Self = Self::Jcs;

    /// Whether this is [`Recipe::V1`] (left out of JSON, as before recipes were named).
    pub fn is_v1(&self) -> bool {
        *self == Self::V1
    }

    /// SHA-256 (lower-case hex) of `v`'s canonical bytes by this recipe.
    pub fn sha256_hex(self, v: &Value) -> String {
        match self {
            Self::V1 => sha256_hex(v),
            // Serialising a `Value` cannot fail but for a number JCS cannot write (NaN),
            // which JSON cannot hold.
            Self::Jcs => hex::encode(Sha256::digest(
                serde_json_canonicalizer::to_vec(v).unwrap_or_else(|_| canonical_bytes(v)),
            )),
        }
    }
}

/// Appends the canonical bytes of `v` to `out`.
pub fn write_canonical(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable();
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_leaf(&mut *out, k.as_str());
                out.push(b':');
                write_canonical(&map[k], out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        other => write_leaf(out, other),
    }
}

fn write_leaf<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    // Writing a string or number into a Vec cannot fail.
    let _ = serde_json::to_writer(out, v);
}

/// Looks up a JSON Pointer (RFC 6901) without allocating unless a token is escaped
/// (`serde_json::Value::pointer` allocates for every token).
pub fn pointer<'a>(v: &'a Value, pointer: &str) -> Option<&'a Value> {
    if pointer.is_empty() {
        return Some(v);
    }
    let rest = pointer.strip_prefix('/')?;
    let mut node = v;
    for token in rest.split('/') {
        let owned;
        let token = if token.contains('~') {
            owned = token.replace("~1", "/").replace("~0", "~");
            owned.as_str()
        } else {
            token
        };
        node = match node {
            Value::Object(map) => map.get(token)?,
            Value::Array(items) => items.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// The canonical bytes of `v`.
pub fn canonical_bytes(v: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write_canonical(v, &mut out);
    out
}

/// SHA-256 (lower-case hex) of a text's UTF-8 bytes.
pub fn sha256_text(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// SHA-256 (lower-case hex) of the canonical bytes of `v`.
pub fn sha256_hex(v: &Value) -> String {
    hex::encode(Sha256::digest(canonical_bytes(v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointer_matches_serde_json() {
        let v = json!({"a": {"b/c": [1, {"d~e": 2}]}, "": 3});
        for p in [
            "",
            "/a",
            "/a/b~1c",
            "/a/b~1c/1/d~0e",
            "/a/b~1c/0",
            "/",
            "/x",
            "/a/b~1c/9",
            "a",
        ] {
            assert_eq!(pointer(&v, p), v.pointer(p), "{p}");
        }
    }

    #[test]
    fn both_recipes_verify_and_jcs_is_rfc_8785() {
        // RFC 8785's own example values: numbers as ECMAScript writes them.
        let v: Value = serde_json::from_str(
            r#"{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"b":1.0}"#,
        )
        .expect("json");
        let jcs = serde_json_canonicalizer::to_vec(&v).expect("jcs");
        assert_eq!(
            String::from_utf8(jcs).expect("utf-8"),
            r#"{"b":1,"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}"#
        );
        // The recipes differ here (`1.0`): each commitment is checked by its own.
        assert_ne!(Recipe::V1.sha256_hex(&v), Recipe::Jcs.sha256_hex(&v));
        assert_eq!(Recipe::V1.sha256_hex(&v), sha256_hex(&v));
        // A recipe left out of recorded JSON is V1.
        assert_eq!(
            serde_json::from_value::<Recipe>(serde_json::json!("jcs")).expect("jcs"),
            Recipe::Jcs
        );
        assert_eq!(Recipe::default(), Recipe::V1);
    }

    #[test]
    fn key_order_does_not_change_the_commitment() {
        let a: Value = serde_json::from_str(r#"{"b":1,"a":{"y":[1,2],"x":"中"}}"#).expect("json");
        let b = json!({"a": {"x": "中", "y": [1, 2]}, "b": 1});
        assert_eq!(
            canonical_bytes(&a),
            r#"{"a":{"x":"中","y":[1,2]},"b":1}"#.as_bytes().to_vec()
        );
        assert_eq!(sha256_hex(&a), sha256_hex(&b));
    }
}
