//! The artifact itself: an SBF ELF (e_machine 247, SBPF v3) that the runtime loads and executes.
use meridian_program_tests::harness::{program_bytes, Harness};

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
    // LiteSVM verifies the ELF when adding it; a probe instruction then runs it end to end.
    let mut h = Harness::new();
    let ix = meridian_sdk::ix::math_probe(0, 6, 7, 0);
    let meta = h.ok(&[ix], &[]);
    assert!(meta.compute_units_consumed > 0);
    assert!(meta.logs.iter().any(|l| l.ends_with(" success")), "{:?}", meta.logs);
    assert_eq!(meta.return_data.program_id, meridian::ID);
    assert_eq!(i128::from_le_bytes(meta.return_data.data[..16].try_into().unwrap()), 42);
}
