//! The test-only oracle writer (target/deploy/oracle_writer.so), deployed at the Pyth receiver's and
//! Switchboard's addresses as the local validator does: accounts it writes are read by
//! `refresh_oracle` like the real ones, and it refuses what it should.

use anchor_lang::solana_program::system_instruction;
use meridian::OracleStatus;
use meridian_oracle_sim::{self as sim, writer};
use meridian_program_tests::harness::{deployed_bytes, Harness, SPL_TOKEN};
use meridian_program_tests::oracle::*;
use solana_sdk::{
    instruction::InstructionError, pubkey::Pubkey, signature::Keypair, signer::Signer, transaction::TransactionError,
};

/// Creates `account` owned by `program` and writes `data` into it, in writes that fit transactions.
fn create_and_write(h: &mut Harness, program: Pubkey, account: &Keypair, data: &[u8]) {
    let lamports = h.svm.minimum_balance_for_rent_exemption(data.len());
    let create =
        system_instruction::create_account(&h.payer.pubkey(), &account.pubkey(), lamports, data.len() as u64, &program);
    h.ok(&[create], &[account]);
    for (at, bytes) in writer::diff_writes(&vec![0; data.len()], data) {
        h.ok(&[writer::write_ix(&program, &account.pubkey(), at, &bytes)], &[account]);
    }
    assert_eq!(h.svm.get_account(&account.pubkey()).unwrap().data, data);
}

#[test]
fn written_accounts_feed_refresh_oracle() {
    let mut h = Harness::new();
    let so = deployed_bytes("oracle_writer.so");
    let sb_program = sim::switchboard_program_id();
    h.svm.add_program(sim::PYTH_RECEIVER_ID, &so).unwrap();
    h.svm.add_program(sb_program, &so).unwrap();
    let fx = h.setup_exchange(6, SPL_TOKEN, Default::default());
    h.set_clock(900, 1_700_000_000);

    let (pyth, sb) = (Keypair::new(), Keypair::new());
    let sources =
        vec![Source::Pyth { account: pyth.pubkey(), feed_id: [5; 32] }, Source::Switchboard { account: sb.pubkey() }];
    let name = meridian_sdk::state::encode_name("ETH");
    let create =
        meridian_sdk::ix::create_oracle(&fx.exchange, &fx.admin.pubkey(), name, default_oracle_params(&sources));
    h.ok(&[create], &[&fx.admin]);
    let o = OracleFixture { address: meridian_sdk::pda::oracle(&fx.exchange, &name).0, sources };

    let p = sim::pyth_account_data(&pyth_price([5; 32], 3_000.0, 1_700_000_000, 900));
    create_and_write(&mut h, sim::PYTH_RECEIVER_ID, &pyth, &p);
    let s = sim::switchboard_account_data(&switchboard_price(3_001.0, 1_700_000_000, 900));
    create_and_write(&mut h, sb_program, &sb, &s);
    h.ok(&[o.refresh_ix()], &[]);
    let a = h.oracle(&o.address);
    assert_eq!((a.status(), a.price), (OracleStatus::Valid, 3_000_500_000_000_000));

    // an update writes only what changed
    h.set_clock(901, 1_700_000_001);
    let s2 = sim::switchboard_account_data(&switchboard_price(3_002.0, 1_700_000_001, 901));
    let writes = writer::diff_writes(&s, &s2);
    assert!(writes.iter().map(|(_, b)| b.len()).sum::<usize>() < 300, "{writes:?}");
    for (at, bytes) in writes {
        h.ok(&[writer::write_ix(&sb_program, &sb.pubkey(), at, &bytes)], &[&sb]);
    }
    h.ok(&[o.refresh_ix()], &[]);
    assert_eq!(h.oracle(&o.address).sources[1].last_price, 3_002 * 1_000_000_000_000);

    // refusals: no signature, someone else's account, out of bounds
    let mut unsigned = writer::write_ix(&sb_program, &sb.pubkey(), 0, &[1]);
    unsigned.accounts[0].is_signer = false;
    let err = h.send(&[unsigned], &[]).unwrap_err().err;
    assert_eq!(err, TransactionError::InstructionError(0, InstructionError::MissingRequiredSignature));
    let err = h.send(&[writer::write_ix(&sb_program, &pyth.pubkey(), 0, &[1])], &[&pyth]).unwrap_err().err;
    assert_eq!(err, TransactionError::InstructionError(0, InstructionError::IncorrectProgramId));
    let err = h.send(&[writer::write_ix(&sb_program, &sb.pubkey(), s.len() - 1, &[1, 2])], &[&sb]).unwrap_err().err;
    assert_eq!(err, TransactionError::InstructionError(0, InstructionError::AccountDataTooSmall));
}
