//! The layers the architecture describes hold in the code: the pages, the API and the CLI
//! depend on the application layer only (never on the store), and no crate's modules import
//! each other in a cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use tenderflow_testkit::repo_root;

/// The presenters: what people and clients use, above the application layer.
const PRESENTERS: &[&str] = &["web", "api", "cli"];

/// The `[dependencies]` table of a Cargo.toml (not its dev-dependencies: tests may tamper
/// with the store as an attacker would).
fn dependencies(manifest: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in manifest.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            inside = t == "[dependencies]";
            continue;
        }
        if inside {
            out.push_str(t);
            out.push('\n');
        }
    }
    out
}

/// Every `.rs` file under `dir` with its text, comments removed.
fn sources(dir: &Path) -> Vec<(std::path::PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).expect("read");
                let code: Vec<&str> = text
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("//"))
                    .collect();
                out.push((p, code.join("\n")));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn pages_api_and_cli_depend_on_the_application_layer_only() {
    let root = repo_root();
    let mut found = Vec::new();
    for c in PRESENTERS {
        let dir = root.join("crates").join(c);
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("manifest");
        if dependencies(&manifest).contains("tenderflow-store") {
            found.push(format!("crates/{c}/Cargo.toml depends on tenderflow-store"));
        }
        for (path, code) in sources(&dir.join("src")) {
            if code.contains("tenderflow_store") {
                found.push(format!("{} names tenderflow_store", path.display()));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}

/// The top-level modules of a crate (`src/x.rs` or `src/x/…`) and which others each one
/// names as `crate::y`.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut text: BTreeMap<String, String> = BTreeMap::new();
    for (path, code) in sources(src) {
        let rel = path.strip_prefix(src).expect("prefix");
        let first = rel
            .components()
            .next()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_owned()
            })
            .unwrap_or_default();
        if first == "lib" || first == "main" {
            continue;
        }
        text.entry(first).or_default().push_str(&code);
    }
    let names: BTreeSet<String> = text.keys().cloned().collect();
    let mut graph = BTreeMap::new();
    for (module, code) in &text {
        let mut uses = BTreeSet::new();
        let mut named = |name: &str| {
            if names.contains(name) && name != module {
                uses.insert(name.to_owned());
            }
        };
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                for part in group.split(',') {
                    named(part.trim().split("::").next().unwrap_or_default());
                }
            } else {
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                named(&rest[..end]);
            }
        }
        graph.insert(module.clone(), uses);
    }
    graph
}

/// A cycle in `graph`, if it has one (depth-first search).
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut c = path[at..].to_vec();
            c.push(node.to_owned());
            return Some(c);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_crate_has_an_import_cycle_between_its_modules() {
    let root = repo_root();
    let mut cycles = Vec::new();
    for e in std::fs::read_dir(root.join("crates"))
        .expect("crates")
        .flatten()
    {
        let src = e.path().join("src");
        if src.is_dir() {
            if let Some(c) = cycle(&module_graph(&src)) {
                cycles.push(format!(
                    "{}: {}",
                    e.file_name().to_string_lossy(),
                    c.join(" → ")
                ));
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles: {cycles:#?}");
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(
        cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}
