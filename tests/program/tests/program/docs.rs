//! The documentation agrees with the program: the instruction and error tables of docs/ are the
//! ones generated from the IDL (`cargo run -p xtask -- docs`), and every relative link of the README
//! and docs/ leads to a file of the repository.
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn generated_tables_are_current() {
    let path = root().join("target/idl/meridian.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (run scripts/sbf.sh build)", path.display()));
    let idl: serde_json::Value = serde_json::from_str(&text).unwrap();
    for (doc, table) in xtask::tables(&idl) {
        let committed = std::fs::read_to_string(root().join(doc)).unwrap();
        let generated = xtask::generated(&committed).unwrap_or_else(|| panic!("{doc} lacks the table markers"));
        assert!(generated == table, "{doc}'s table differs from the IDL's: run `cargo run -p xtask -- docs`");
    }
    // every error the program can return has a row, with its number
    let errors = std::fs::read_to_string(root().join("docs/errors.md")).unwrap();
    for e in meridian::MeridianError::ALL {
        let row = format!("| {} | `{}` |", u32::from(*e), e.name());
        assert!(errors.contains(&row), "docs/errors.md lacks the row {row:?}");
    }
}

#[test]
fn relative_links_lead_to_files() {
    let mut docs = vec![root().join("README.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        docs.push(entry.unwrap().path());
    }
    for doc in docs {
        let text = std::fs::read_to_string(&doc).unwrap();
        for (i, _) in text.match_indices("](") {
            let target = &text[i + 2..];
            let target = &target[..target.find(')').unwrap_or(0)];
            let file = target.split('#').next().unwrap_or("");
            if file.is_empty() || file.contains("://") {
                continue;
            }
            let resolved = doc.parent().unwrap().join(file);
            assert!(resolved.exists(), "{}: the link {target:?} leads nowhere", doc.display());
        }
    }
}
