//! Build helpers that are easier in Rust than in shell.
//!
//!   cargo run -p xtask -- idl --program programs/meridian --out target/idl/meridian.json
//!   cargo run -p xtask -- docs [--idl target/idl/meridian.json]
//!
//! `idl` generates the Anchor IDL the way `anchor idl build` does: it compiles the program's
//! `__anchor_private_print_idl` test with the `idl-build` feature (host cargo) and assembles what it
//! prints, through anchor-lang-idl's own builder. Nothing in the IDL is written by hand.
//!
//! `docs` rewrites the generated tables of docs/instructions.md and docs/errors.md from the IDL
//! (`xtask::tables`); a program test fails while the committed ones differ.
use anyhow::{bail, Context, Result};
use std::path::PathBuf;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("idl") => idl(&args[1..]),
        Some("docs") => docs(&args[1..]),
        _ => bail!("usage: xtask idl --program <dir> --out <file.json> | xtask docs [--idl <file.json>]"),
    }
}

fn flag(args: &[String], name: &str) -> Result<String> {
    let i = args.iter().position(|a| a == name).with_context(|| format!("missing {name}"))?;
    args.get(i + 1).cloned().with_context(|| format!("{name} needs a value"))
}

fn idl(args: &[String]) -> Result<()> {
    let program = PathBuf::from(flag(args, "--program")?).canonicalize()?;
    let out = PathBuf::from(flag(args, "--out")?);
    // anchor-lang-idl runs `cargo +$RUSTUP_TOOLCHAIN` when that is set; the default toolchain is right.
    std::env::remove_var("RUSTUP_TOOLCHAIN");
    let idl = anchor_lang_idl::build::IdlBuilder::new()
        .program_path(program)
        .resolution(true)
        .skip_lint(false)
        .no_docs(false)
        .build()
        .context("building the IDL (run with ANCHOR_LOG=1 to see cargo's output)")?;
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let json = serde_json::to_string_pretty(&idl)?;
    std::fs::write(&out, json + "\n")?;
    println!(
        "{}: {} instructions, {} accounts, {} errors",
        out.display(),
        idl.instructions.len(),
        idl.accounts.len(),
        idl.errors.len()
    );
    Ok(())
}

fn docs(args: &[String]) -> Result<()> {
    let idl_path = flag(args, "--idl").unwrap_or_else(|_| "target/idl/meridian.json".to_string());
    let idl: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&idl_path).with_context(|| format!("{idl_path} (run scripts/sbf.sh idl)"))?,
    )?;
    for (path, table) in xtask::tables(&idl) {
        let doc = std::fs::read_to_string(path).with_context(|| path.to_string())?;
        let new = xtask::splice(&doc, &table).with_context(|| format!("{path} lacks the generated-table markers"))?;
        std::fs::write(path, new)?;
        println!("{path}: table written");
    }
    Ok(())
}
