//! One view of an account for both entry paths of the order-flow instructions.
//!
//! Anchor's path hands handlers `AccountInfo`s, which the runtime's standard deserializer builds
//! with two heap-allocated `Rc<RefCell<..>>` per account: ~210 CU per account measured on this
//! binary, about 1,300 CU of a six-account `place_order`. The order-flow entrypoint (`fast_entry`)
//! reads accounts straight from the input buffer into [`RawAccount`]s instead. The handlers are
//! written once, over [`AccountView`], and serve both.

use anchor_lang::prelude::*;
use std::cell::{Ref, RefCell, RefMut};

/// What a handler needs of an account: its address, its owner, and its data behind a borrow flag
/// (a second mutable borrow of the same account fails, as with `AccountInfo`).
pub trait AccountView {
    fn address(&self) -> &Pubkey;
    fn owner_program(&self) -> &Pubkey;
    fn data(&self) -> Result<Ref<'_, [u8]>>;
    fn data_mut(&self) -> Result<RefMut<'_, [u8]>>;
}

impl AccountView for AccountInfo<'_> {
    #[inline(always)]
    fn address(&self) -> &Pubkey {
        self.key
    }
    #[inline(always)]
    fn owner_program(&self) -> &Pubkey {
        self.owner
    }
    #[inline(always)]
    fn data(&self) -> Result<Ref<'_, [u8]>> {
        Ok(Ref::map(self.try_borrow_data()?, |d| &**d))
    }
    #[inline(always)]
    fn data_mut(&self) -> Result<RefMut<'_, [u8]>> {
        Ok(RefMut::map(self.try_borrow_mut_data()?, |d| &mut **d))
    }
}

/// An account read in place from the program's input buffer: no allocation.
pub struct RawAccount<'a> {
    pub key: &'a Pubkey,
    pub owner: &'a Pubkey,
    pub is_signer: bool,
    pub is_writable: bool,
    data: RefCell<&'a mut [u8]>,
}

impl<'a> RawAccount<'a> {
    pub fn new(key: &'a Pubkey, owner: &'a Pubkey, is_signer: bool, is_writable: bool, data: &'a mut [u8]) -> Self {
        RawAccount { key, owner, is_signer, is_writable, data: RefCell::new(data) }
    }
}

impl AccountView for RawAccount<'_> {
    #[inline(always)]
    fn address(&self) -> &Pubkey {
        self.key
    }
    #[inline(always)]
    fn owner_program(&self) -> &Pubkey {
        self.owner
    }
    #[inline(always)]
    fn data(&self) -> Result<Ref<'_, [u8]>> {
        match self.data.try_borrow() {
            Ok(d) => Ok(Ref::map(d, |d| &**d)),
            Err(_) => Err(ProgramError::AccountBorrowFailed.into()),
        }
    }
    #[inline(always)]
    fn data_mut(&self) -> Result<RefMut<'_, [u8]>> {
        match self.data.try_borrow_mut() {
            Ok(d) => Ok(RefMut::map(d, |d| &mut **d)),
            Err(_) => Err(ProgramError::AccountBorrowFailed.into()),
        }
    }
}
