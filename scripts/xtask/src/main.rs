//! Build helpers that are easier in Rust than in shell.
//!
//!   cargo run -p xtask -- idl --program programs/meridian --out target/idl/meridian.json
//!
//! `idl` generates the Anchor IDL the way `anchor idl build` does: it compiles the program's
//! `__anchor_private_print_idl` test with the `idl-build` feature (host cargo) and assembles what it
//! prints, through anchor-lang-idl's own builder. Nothing in the IDL is written by hand.
use anyhow::{bail, Context, Result};
use std::path::PathBuf;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("idl") => idl(&args[1..]),
        _ => bail!("usage: xtask idl --program <dir> --out <file.json>"),
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
