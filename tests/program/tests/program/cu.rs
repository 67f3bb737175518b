//! Compute-unit ceilings per instruction, on the SBF binary, and a complete committed table.
use meridian_program_tests::cu;

#[test]
fn every_instruction_stays_under_its_ceiling() {
    let figures = cu::measure();
    let mut over = vec![];
    for row in cu::ROWS {
        let units = figures[row.name];
        println!("{:<28} {units:>8} CU (ceiling {})", row.name, row.ceiling);
        if units > row.ceiling {
            over.push(format!("{}: {units} > {}", row.name, row.ceiling));
        }
    }
    assert!(over.is_empty(), "over the CU ceiling: {over:?}");
}

#[test]
fn committed_table_covers_every_instruction() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/cu.json");
    let text = std::fs::read_to_string(&path).expect("bench/cu.json exists (scripts/cu.sh writes it)");
    let table: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
    for row in cu::ROWS {
        let units = table.get(row.name).and_then(|v| v.as_u64());
        assert!(units.is_some_and(|u| u > 0 && u <= row.ceiling), "bench/cu.json: {} is {units:?}", row.name);
    }
    assert_eq!(table.len(), cu::ROWS.len(), "bench/cu.json has rows the benchmark no longer measures");
}
