//! The artifact itself: an SBF ELF (e_machine 247, SBPF v3) that the runtime loads and executes.
use meridian_program_tests::harness::{program_bytes, Harness, SPL_TOKEN};
use solana_sdk::signer::Signer;

#[test]
fn binary_is_an_sbpf_v3_elf() {
    let elf = program_bytes();
    assert_eq!(&elf[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(elf[4], 2, "not a 64-bit ELF");
    let machine = u16::from_le_bytes([elf[18], elf[19]]);
    assert_eq!(machine, 247, "e_machine is {machine}, not 247 (EM_SBPF)");
    let flags = u32::from_le_bytes(elf[48..52].try_into().unwrap());
    assert_eq!(flags, 3, "e_flags {flags}: expected SBPF v3");
}

#[test]
fn runtime_loads_and_executes_it() {
    // LiteSVM verifies the ELF when adding it; an instruction then runs it end to end.
    let mut h = Harness::new();
    let fx = h.setup_exchange(6, SPL_TOKEN, meridian::ExchangeParams::default());
    assert_eq!(h.exchange(&fx.exchange).admin, fx.admin.pubkey());
    let meta = h.ok(&[meridian_sdk::ix::set_paused(&fx.exchange, &fx.admin.pubkey(), 0)], &[&fx.admin]);
    assert!(meta.compute_units_consumed > 0);
    assert!(meta.logs.iter().any(|l| l == &format!("Program {} success", meridian::ID)), "{:?}", meta.logs);
}
