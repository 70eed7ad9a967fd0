//! Canonical JSON bytes and SHA-256 commitments.
//!
//! Canonical form: object keys sorted by their UTF-8 bytes, no insignificant whitespace,
//! numbers and strings as serde_json writes them. A bidder can recompute the commitment on its
//! receipt from the bid it sent.

use serde_json::Value;
use sha2::{Digest, Sha256};

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
                out.extend_from_slice(Value::String(k.clone()).to_string().as_bytes());
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
        other => out.extend_from_slice(other.to_string().as_bytes()),
    }
}

/// The canonical bytes of `v`.
pub fn canonical_bytes(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_canonical(v, &mut out);
    out
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
