//! The OCDS 1.1.5 schemas vendored with the core's tests (`crates/core/tests/data`, with
//! their licence), and a validator of release packages with the bid, lots and enquiry
//! extensions patched in, offline.

use serde_json::Value;
use std::path::{Path, PathBuf};

/// Where the vendored schemas are.
pub fn data() -> PathBuf {
    crate::repo_root().join("crates/core/tests/data/ocds-1.1.5")
}

/// A JSON file.
pub fn read(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .expect("json")
}

/// RFC 7386 JSON merge patch, as OCDS extensions are applied.
fn merge_patch(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

struct Local(Value);

impl jsonschema::Retrieve for Local {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        if uri.as_str().ends_with("/1__1__5/release-schema.json") {
            Ok(self.0.clone())
        } else {
            Err(format!("offline: {uri}").into())
        }
    }
}

/// The release package schema with the extensions, resolving its references offline.
pub fn validator() -> jsonschema::Validator {
    let mut release = read(&data().join("release-schema.json"));
    for ext in [
        "ocds_bid_extension-v1.1.5",
        "ocds_lots_extension-v1.1.5",
        "ocds_enquiry_extension-v1.1.5",
    ] {
        merge_patch(
            &mut release,
            &read(
                &data()
                    .join("extensions")
                    .join(ext)
                    .join("release-schema.json"),
            ),
        );
    }
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .with_retriever(Local(release))
        .build(&read(&data().join("release-package-schema.json")))
        .expect("the package schema compiles")
}
