//! The program's entrypoint (feature `fast-entrypoint`, on by default): the order flow is parsed
//! straight from the runtime's input buffer; everything else goes to Anchor's dispatcher.
//!
//! Why: the standard deserializer behind Anchor's entrypoint builds an `AccountInfo` with two
//! heap `Rc<RefCell<..>>` per account, ~210 CU each here; a six-account `place_order` spent
//! ~1,400 CU before its handler ran. This entrypoint walks the buffer once (~20 CU per account)
//! and runs the same handlers over [`RawAccount`]s.
//!
//! It takes the fast path only when the input is plain: the program id is ours, no account is
//! passed twice, at most `MAX_ACCOUNTS` accounts, enough accounts with the signer/writable flags
//! Anchor's constraints demand, and arguments that deserialize. Anything else (duplicates, a
//! missing signature, short data, ...) goes to Anchor's path, so every error a client can meet is
//! the one Anchor reports, from the same checks. Handlers are shared: `place_checked`,
//! `replace_checked`, the cancels and `consume` are generic over [`AccountHandle`](crate::account_handle::AccountHandle).
//!
//! The input layout (the runtime's aligned serialization, loader v3): u64 account count; per
//! account either a duplicate marker (u8 index + 7 bytes padding) or an [`AccountRecord`]
//! (0xff, flags, key, owner, lamports, data length), the data, 10 KiB of realloc room, padding to
//! 8, u64 rent epoch; then u64 data length, the instruction data, the program id.

use crate::account_handle::{AccountRecord, RawAccount};
use crate::hot_accounts::{CancelAccounts, ConsumeAccounts, PlaceAccounts};
use crate::instructions::{cancel_order::*, consume_events::*, mass_quote::*, place_order::*, replace_order::*};
use anchor_lang::prelude::*;
use anchor_lang::solana_program::entrypoint::{MAX_PERMITTED_DATA_INCREASE, NON_DUP_MARKER, SUCCESS};
use anchor_lang::{AnchorDeserialize, Discriminator};
use core::mem::MaybeUninit;

/// Accounts the fast path holds on the stack (48 bytes each). Larger inputs take Anchor's path.
const MAX_ACCOUNTS: usize = 32;

/// An 8-byte discriminator as one word: a single compare per instruction instead of a memcmp.
const fn disc(d: &[u8]) -> u64 {
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}
const PLACE_ORDER: u64 = disc(crate::instruction::PlaceOrder::DISCRIMINATOR);
const CANCEL_ORDER: u64 = disc(crate::instruction::CancelOrder::DISCRIMINATOR);
const CONSUME_EVENTS: u64 = disc(crate::instruction::ConsumeEvents::DISCRIMINATOR);
const REPLACE_ORDER: u64 = disc(crate::instruction::ReplaceOrder::DISCRIMINATOR);
const CANCEL_ORDER_BY_CLIENT_ID: u64 = disc(crate::instruction::CancelOrderByClientId::DISCRIMINATOR);
const CANCEL_ALL_ORDERS: u64 = disc(crate::instruction::CancelAllOrders::DISCRIMINATOR);
const MASS_QUOTE: u64 = disc(crate::instruction::MassQuote::DISCRIMINATOR);
const EVENT_IX_TAG: u64 = anchor_lang::event::EVENT_IX_TAG;

/// # Safety
/// Called by the runtime with its serialized input.
#[cfg(all(target_os = "solana", feature = "fast-entrypoint", not(feature = "cpi")))]
#[no_mangle]
pub unsafe extern "C" fn entrypoint(input: *mut u8) -> u64 {
    if let Some(code) = fast_path(input) {
        return code;
    }
    let (program_id, accounts, data) = anchor_lang::solana_program::entrypoint::deserialize(input);
    match crate::entry(program_id, &accounts, data) {
        Ok(()) => SUCCESS,
        Err(e) => e.into(),
    }
}
#[cfg(all(target_os = "solana", feature = "fast-entrypoint", not(feature = "cpi")))]
mod handlers {
    anchor_lang::solana_program::entrypoint::custom_heap_default!();
    anchor_lang::solana_program::entrypoint::custom_panic_default!();
}

/// Runs an order-flow instruction on its fast path, or returns None for Anchor's path.
///
/// # Safety
/// `input` is the runtime's serialized input (layout above), valid for the whole instruction and
/// referred to by nothing else. Every read below follows that layout: the count and lengths are
/// u64s at 8-aligned offsets, each record starts 8-aligned, and nothing is read past the program id.
#[cfg_attr(not(target_os = "solana"), allow(dead_code))]
unsafe fn fast_path(input: *mut u8) -> Option<u64> {
    let count = *(input as *const u64) as usize;
    if count > MAX_ACCOUNTS {
        return None;
    }
    // one walk that only finds the accounts: instructions that go to Anchor pay little for it
    let mut starts: [MaybeUninit<*mut AccountRecord>; MAX_ACCOUNTS] = [const { MaybeUninit::uninit() }; MAX_ACCOUNTS];
    let mut offset = 8usize;
    for start in starts.iter_mut().take(count) {
        let record = input.add(offset) as *mut AccountRecord;
        // a duplicate is only a marker: left to Anchor's path
        if (*record).dup_marker != NON_DUP_MARKER {
            return None;
        }
        start.write(record);
        // the record, the data, realloc room and rent epoch, then up to the next 8-byte boundary
        let data_len = (*record).data_len as usize;
        offset = (offset + core::mem::size_of::<AccountRecord>() + data_len + MAX_PERMITTED_DATA_INCREASE + 8 + 7) & !7;
    }
    let data_len = *(input.add(offset) as *const u64) as usize;
    let data = core::slice::from_raw_parts(input.add(offset + 8), data_len);
    let program_id = &*(input.add(offset + 8 + data_len) as *const Pubkey);
    if program_id != &crate::ID || data.len() < 8 {
        return None;
    }
    let mut slots: [MaybeUninit<RawAccount>; MAX_ACCOUNTS] = [const { MaybeUninit::uninit() }; MAX_ACCOUNTS];
    let (disc, mut args) = data.split_at(8);
    let disc = u64::from_le_bytes([disc[0], disc[1], disc[2], disc[3], disc[4], disc[5], disc[6], disc[7]]);
    let result = match disc {
        PLACE_ORDER => {
            let a = PlaceAccounts::from_raw(raw_accounts(&starts[..count], &mut slots))?;
            let ix = crate::instruction::PlaceOrder::deserialize(&mut args).ok()?;
            place_checked(&a, &ix.args, |_, _| Ok(()))
        }
        CANCEL_ORDER => {
            let a = CancelAccounts::from_raw(raw_accounts(&starts[..count], &mut slots))?;
            let ix = crate::instruction::CancelOrder::deserialize(&mut args).ok()?;
            cancel_by_seq(&a, ix.order_seq)
        }
        CONSUME_EVENTS => {
            let a = ConsumeAccounts::from_raw(raw_accounts(&starts[..count], &mut slots))?;
            let ix = crate::instruction::ConsumeEvents::deserialize(&mut args).ok()?;
            consume(&a, ix.limit).map(|n| set_return_data(&n.to_le_bytes()))
        }
        REPLACE_ORDER => {
            let a = PlaceAccounts::from_raw(raw_accounts(&starts[..count], &mut slots))?;
            let ix = crate::instruction::ReplaceOrder::deserialize(&mut args).ok()?;
            replace_checked(&a, ix.cancel_seq, &ix.args)
        }
        CANCEL_ORDER_BY_CLIENT_ID => {
            let a = CancelAccounts::from_raw(raw_accounts(&starts[..count], &mut slots))?;
            let ix = crate::instruction::CancelOrderByClientId::deserialize(&mut args).ok()?;
            cancel_by_client_id(&a, ix.client_order_id)
        }
        CANCEL_ALL_ORDERS => {
            let a = CancelAccounts::from_raw(raw_accounts(&starts[..count], &mut slots))?;
            let ix = crate::instruction::CancelAllOrders::deserialize(&mut args).ok()?;
            cancel_all(&a, ix.side, ix.limit).map(|n| set_return_data(&[n]))
        }
        EVENT_IX_TAG => {
            return event_record_signed(raw_accounts(&starts[..count], &mut slots)).then_some(SUCCESS);
        }
        MASS_QUOTE => {
            let a = PlaceAccounts::from_raw(raw_accounts(&starts[..count], &mut slots))?;
            let ix = crate::instruction::MassQuote::deserialize(&mut args).ok()?;
            mass_quote_checked(&a, &ix.args).map(|r| set_return_data(&[r.cancelled, r.posted, r.skipped]))
        }
        _ => return None,
    };
    Some(match result {
        Ok(()) => SUCCESS,
        Err(e) => {
            e.log();
            ProgramError::from(e).into()
        }
    })
}

/// Views of the accounts found by the walk (their records are read only now).
///
/// # Safety
/// `starts` are initialized, distinct (no duplicates) records of the input buffer.
unsafe fn raw_accounts<'s, 'a>(
    starts: &[MaybeUninit<*mut AccountRecord>],
    slots: &'s mut [MaybeUninit<RawAccount<'a>>; MAX_ACCOUNTS],
) -> &'s [RawAccount<'a>] {
    for (slot, start) in slots.iter_mut().zip(starts) {
        slot.write(RawAccount::new(start.assume_init()));
    }
    core::slice::from_raw_parts(slots.as_ptr() as *const RawAccount, starts.len())
}

fn set_return_data(data: &[u8]) {
    anchor_lang::solana_program::program::set_return_data(data)
}

/// The self-CPI of `crate::history`: the record is its data; it is accepted only when the event
/// authority signed, which only this program can make it do (Anchor's `__event_dispatch` checks
/// the same, with its errors, for anything else).
fn event_record_signed(a: &[RawAccount]) -> bool {
    matches!(a.first(), Some(authority) if authority.is_signer && *authority.key() == crate::EVENT_AUTHORITY_AND_BUMP.0)
}
