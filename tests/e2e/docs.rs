//! The documentation stays true to the code: docs/ARCHITECTURE.md's code map names every
//! source file, in the section of its crate.

use std::path::{Path, PathBuf};
use tenderflow_testkit::repo_root;

/// Every `.rs` file under `dir`, relative to it, with `/` separators.
fn sources(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p: PathBuf = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(dir).expect("prefix");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

/// The text of the code map's section whose heading names `crates/{name}` (or
/// `migrations/`), up to the next heading.
fn section<'a>(doc: &'a str, heading: &str) -> &'a str {
    let start = doc
        .find(&format!("### `{heading}`"))
        .unwrap_or_else(|| panic!("docs/ARCHITECTURE.md has no section for `{heading}`"));
    let rest = &doc[start + 4..];
    let end = rest.find("\n### ").map_or(rest.len(), |e| e);
    &rest[..end]
}

#[test]
fn the_code_map_names_every_source_file() {
    let root = repo_root();
    let doc = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).expect("architecture");
    let mut missing = Vec::new();
    let mut crates: Vec<(String, PathBuf)> = std::fs::read_dir(root.join("crates"))
        .expect("crates")
        .flatten()
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (format!("crates/{name}"), e.path().join("src"))
        })
        .collect();
    crates.sort();
    // The migrations are mapped in the store's section.
    let store = section(&doc, "crates/store");
    for file in sources(&root.join("migrations/src")) {
        if !store.contains(&format!("`{file}`"))
            && !store.contains(&format!("`migrations/src/{file}`"))
        {
            missing.push(format!("migrations/src/{file}"));
        }
    }
    for (heading, src) in &crates {
        let text = section(&doc, heading);
        for file in sources(src) {
            if !text.contains(&format!("`{file}`")) {
                missing.push(format!("{heading}/src/{file}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/ARCHITECTURE.md's code map does not name: {missing:#?}"
    );
}
