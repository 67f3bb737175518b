//! Disassembles an SBF program the way the runtime loads it (for compute-unit work: what a hot
//! path actually executes, which libcalls it reaches).
//!
//! Usage: `sbf-disasm <program.so> [substring]` (only functions whose label contains it)
use litesvm::LiteSVM;
use solana_compute_budget::compute_budget::ComputeBudget;
use solana_program_runtime::invoke_context::InvokeContext;
use solana_sbpf::{elf::Executable, static_analysis::Analysis};
use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bytes = std::fs::read(args.first().expect("usage: sbf-disasm <program.so> [substring]")).expect("read program");
    let features = LiteSVM::mainnet_feature_set();
    let budget = ComputeBudget::new_with_defaults(false).to_budget();
    let env = solana_syscalls::create_program_runtime_environment(&features.runtime_features(), &budget, false, true)
        .expect("runtime environment");
    let exe = Executable::<InvokeContext>::load(&bytes, (*env).clone()).expect("load ELF");
    let analysis = Analysis::from_executable(&exe).expect("analysis");
    let mut text = Vec::new();
    analysis.disassemble(&mut text).expect("disassemble");
    let text = String::from_utf8_lossy(&text);
    let filter = args.get(1);
    let mut keep = filter.is_none();
    let mut out = std::io::stdout().lock();
    for line in text.lines() {
        if let Some(f) = filter {
            if line.ends_with(':') && !line.starts_with(' ') {
                keep = line.contains(f.as_str());
            }
        }
        if keep {
            let _ = writeln!(out, "{line}");
        }
    }
}
