//! Every shipped definition loads; every bad-definition fixture fails with its codes and
//! pointers; every error code has a fixture.

use serde_json::Value;
use std::collections::BTreeSet;
use tenderflow_core::DefinitionErrorCode;

use tenderflow_testkit::repo_root as root;

#[test]
fn every_shipped_definition_is_valid() {
    let dir = root().join("workflows");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("workflows/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let bytes = std::fs::read(&path).expect("read");
            if let Err(e) = tenderflow_core::load(&path.display().to_string(), &bytes) {
                panic!("{e}");
            }
            n += 1;
        }
    }
    assert_eq!(n, 5, "five shipped definitions");
}

/// Applies RFC 6902 add/replace/remove operations (enough for the fixtures).
fn patch(doc: &mut Value, ops: &[Value]) {
    for op in ops {
        let path = op["path"].as_str().expect("path");
        let (parent, last) = path.rsplit_once('/').expect("pointer");
        let target = doc
            .pointer_mut(parent)
            .unwrap_or_else(|| panic!("no {parent}"));
        let value = op.get("value").cloned();
        match (op["op"].as_str().expect("op"), target) {
            ("remove", Value::Array(a)) => {
                a.remove(last.parse::<usize>().expect("index"));
            }
            ("remove", Value::Object(o)) => {
                o.remove(last);
            }
            ("add", Value::Array(a)) if last == "-" => a.push(value.expect("value")),
            ("add", Value::Array(a)) => {
                a.insert(last.parse().expect("index"), value.expect("value"))
            }
            ("add" | "replace", Value::Object(o)) => {
                o.insert(last.to_owned(), value.expect("value"));
            }
            ("replace", Value::Array(a)) => {
                a[last.parse::<usize>().expect("index")] = value.expect("value")
            }
            (other, _) => panic!("unsupported op {other} at {path}"),
        }
    }
}

#[test]
fn every_bad_fixture_reports_its_codes_at_its_pointers() {
    let dir = root().join("crates/core/tests/fixtures/bad");
    let mut covered = BTreeSet::new();
    let mut count = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let fixture: Value =
            serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("fixture json");
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let bytes = match fixture["base"].as_str() {
            Some(base) => {
                let file = root().join("workflows").join(format!("{base}.json"));
                let mut doc: Value =
                    serde_json::from_slice(&std::fs::read(file).expect("base")).expect("base json");
                patch(&mut doc, fixture["patch"].as_array().expect("patch"));
                serde_json::to_vec_pretty(&doc).expect("ser")
            }
            None => fixture["raw"].as_str().expect("raw").as_bytes().to_vec(),
        };
        let errors = match tenderflow_core::load(&name, &bytes) {
            Ok(_) => panic!("{name}: expected errors, the definition loaded"),
            Err(e) => e.0,
        };
        for e in &errors {
            assert_eq!(e.file, name, "errors name the file");
            assert!(!e.found.is_empty() && !e.expected.is_empty(), "{name}: {e}");
        }
        for want in fixture["expect"].as_array().expect("expect") {
            let code = want["code"].as_str().expect("code");
            let pointer = want["pointer"].as_str().expect("pointer");
            let hit = errors
                .iter()
                .any(|e| e.code.as_str() == code && e.pointer == pointer);
            assert!(
                hit,
                "{name}: expected [{code}] at `{pointer}`; got:\n{}",
                errors
                    .iter()
                    .map(|e| format!("  {e}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            covered.insert(code.to_owned());
        }
        count += 1;
    }
    assert!(count >= 20, "at least 20 fixtures, found {count}");
    let missing: Vec<&str> = DefinitionErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !covered.contains(*c))
        .collect();
    assert!(missing.is_empty(), "codes without a fixture: {missing:?}");
}

#[test]
fn many_problems_are_reported_together() {
    let path = root().join("crates/core/tests/fixtures/bad/many-problems.json");
    let fixture: Value = serde_json::from_slice(&std::fs::read(path).expect("read")).expect("json");
    let mut doc: Value = serde_json::from_slice(
        &std::fs::read(root().join("workflows/partner-recruitment.json")).expect("base"),
    )
    .expect("json");
    patch(&mut doc, fixture["patch"].as_array().expect("patch"));
    let errors = tenderflow_core::load("x.json", &serde_json::to_vec(&doc).expect("ser"))
        .expect_err("invalid")
        .0;
    assert!(errors.len() >= 4, "{errors:?}");
    let text = tenderflow_core::DefinitionErrors(errors).to_string();
    assert!(
        text.contains("x.json: /transitions/0/roles/0 [unknown_role]: found `clerk`"),
        "{text}"
    );
}
