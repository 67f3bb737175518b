//! The README documents every error users can meet, with its number.
use meridian::MeridianError;

#[test]
fn readme_lists_every_program_error_with_its_code() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap();
    for e in MeridianError::ALL {
        let row = format!("| {} | `{}` |", u32::from(*e), e.name());
        assert!(readme.contains(&row), "README.md lacks the error row {row:?}");
    }
}
