//! Explicit account loaders for the hot instructions (place, replace, cancel, consume_events).
//!
//! Anchor's `AccountLoader` borrows an account again for every `has_one`, and rewrites the
//! discriminator of every writable account on exit. The order-flow instructions take their
//! program accounts as `UncheckedAccount` instead and load each exactly once here: owner and
//! discriminator checked (with Anchor's own error codes), then a zero-copy view. Relations between
//! accounts are checked by the handlers with plain key comparisons.

use crate::account_handle::AccountHandle;
use anchor_lang::error::ErrorCode;
use anchor_lang::prelude::*;
use anchor_lang::{Discriminator, ZeroCopy};
use std::cell::{Ref, RefMut};

fn check<T: Discriminator>(address: &Pubkey, owner: &Pubkey, data: &[u8]) -> Result<()> {
    if owner != &crate::ID {
        return Err(Error::from(ErrorCode::AccountOwnedByWrongProgram).with_account_name(address.to_string()));
    }
    if data.len() < 8 {
        return err!(ErrorCode::AccountDiscriminatorNotFound);
    }
    if &data[..8] != T::DISCRIMINATOR {
        return Err(Error::from(ErrorCode::AccountDiscriminatorMismatch).with_account_name(address.to_string()));
    }
    if data.len() < 8 + core::mem::size_of::<T>() {
        return err!(ErrorCode::AccountDidNotDeserialize);
    }
    Ok(())
}

/// A writable zero-copy view of a program account of type `T`.
pub fn load_mut<'r, T: ZeroCopy + Discriminator, A: AccountHandle>(info: &'r A) -> Result<RefMut<'r, T>> {
    let data = info.data_mut()?;
    check::<T>(info.address(), info.owner_program(), &data)?;
    Ok(RefMut::map(data, |d| bytemuck::from_bytes_mut(&mut d[8..8 + core::mem::size_of::<T>()])))
}

/// A read-only zero-copy view of a program account of type `T`.
pub fn load<'r, T: ZeroCopy + Discriminator, A: AccountHandle>(info: &'r A) -> Result<Ref<'r, T>> {
    let data = info.data()?;
    check::<T>(info.address(), info.owner_program(), &data)?;
    Ok(Ref::map(data, |d| bytemuck::from_bytes(&d[8..8 + core::mem::size_of::<T>()])))
}
