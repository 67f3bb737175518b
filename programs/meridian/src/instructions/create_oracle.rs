use crate::{error::MeridianError, state::*};
use anchor_lang::prelude::*;

#[derive(Accounts)]
#[instruction(name: [u8; 16])]
pub struct CreateOracle<'info> {
    #[account(has_one = admin @ MeridianError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(
        init,
        payer = admin,
        space = OracleAggregate::SPACE,
        seeds = [ORACLE_SEED, exchange.key().as_ref(), &name],
        bump,
    )]
    pub oracle: AccountLoader<'info, OracleAggregate>,
    pub system_program: Program<'info, System>,
}

pub fn process_create_oracle(ctx: Context<CreateOracle>, name: [u8; 16], params: OracleParams) -> Result<()> {
    require!(params.is_valid(), MeridianError::InvalidOracleParams);
    let mut o = ctx.accounts.oracle.load_init()?;
    o.exchange = ctx.accounts.exchange.key();
    o.name = name;
    o.bump = ctx.bumps.oracle;
    o.status = OracleStatus::Uninitialized as u8;
    apply_params(&mut o, &params);
    Ok(())
}

/// Writes the limits and sources. A source keeps its history (last publish time: no replay) only
/// when the same source stays at the same position.
pub(crate) fn apply_params(o: &mut OracleAggregate, p: &OracleParams) {
    for (i, slot) in o.sources.iter_mut().enumerate() {
        match p.sources.get(i) {
            Some(s) if s.kind as u8 == slot.kind && s.id == slot.id => {}
            Some(s) => *slot = OracleSource { kind: s.kind as u8, id: s.id, ..OracleSource::default() },
            None => *slot = OracleSource::default(),
        }
    }
    o.num_sources = p.sources.len() as u8; // <= MAX_SOURCES (4): both callers check is_valid first
    o.min_valid_sources = p.min_valid_sources;
    o.max_age_slots = p.max_age_slots;
    o.max_age_secs = p.max_age_secs;
    o.max_conf_bps = p.max_conf_bps;
    o.max_deviation_bps = p.max_deviation_bps;
    o.vol_tau_secs = p.vol_tau_secs;
    o.vol_sample_secs = p.vol_sample_secs;
}
