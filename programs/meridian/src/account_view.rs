//! One view of an account for both entry paths of the order-flow instructions.
//!
//! Anchor's path hands handlers `AccountInfo`s, which the runtime's standard deserializer builds
//! with two heap-allocated `Rc<RefCell<..>>` per account: ~210 CU per account measured on this
//! binary, about 1,300 CU of a six-account `place_order`. The order-flow entrypoint (`fast_entry`)
//! reads accounts straight from the input buffer into [`RawAccount`]s instead. The handlers are
//! written once, over [`AccountView`], and serve both.

use anchor_lang::prelude::*;
use anchor_lang::solana_program::{instruction::Instruction, program::invoke_signed};
use std::cell::{Ref, RefCell, RefMut};

/// What a handler needs of an account: its address, its owner, and its data behind a borrow flag
/// (a second mutable borrow of the same account fails, as with `AccountInfo`).
pub trait AccountView {
    fn address(&self) -> &Pubkey;
    fn owner_program(&self) -> &Pubkey;
    fn data(&self) -> Result<Ref<'_, [u8]>>;
    fn data_mut(&self) -> Result<RefMut<'_, [u8]>>;
    /// Invokes `ix`, whose only account is this one, signed with `seeds`. Used only for the event
    /// authority (no data, never borrowed by a handler).
    fn invoke_signed_alone(&self, ix: &Instruction, seeds: &[&[&[u8]]]) -> Result<()>;
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
    fn invoke_signed_alone(&self, ix: &Instruction, seeds: &[&[&[u8]]]) -> Result<()> {
        invoke_signed(ix, core::slice::from_ref(self), seeds).map_err(Into::into)
    }
}

/// An account read in place from the program's input buffer: no allocation.
pub struct RawAccount<'a> {
    /// The account's record in the input buffer (see `fast_entry`'s layout notes): key at +8,
    /// owner at +40, lamports at +72, data length at +80, data at +88.
    header: *mut u8,
    pub is_signer: bool,
    pub is_writable: bool,
    data: RefCell<&'a mut [u8]>,
}

impl<'a> RawAccount<'a> {
    /// # Safety
    /// `header` is a non-duplicate account record of the runtime's input buffer, alive and not
    /// otherwise referenced for `'a`.
    #[inline(always)]
    pub unsafe fn new(header: *mut u8) -> Self {
        let data_len = *(header.add(80) as *const u64) as usize;
        RawAccount {
            header,
            is_signer: *header.add(1) != 0,
            is_writable: *header.add(2) != 0,
            data: RefCell::new(core::slice::from_raw_parts_mut(header.add(88), data_len)),
        }
    }

    #[inline(always)]
    pub fn key(&self) -> &Pubkey {
        // SAFETY: `header` is this account's record (`RawAccount::new`); the key is never written
        unsafe { &*(self.header.add(8) as *const Pubkey) }
    }

    #[inline(always)]
    pub fn owner(&self) -> &Pubkey {
        // SAFETY: as for `key`; the owner is never written by this program's handlers
        unsafe { &*(self.header.add(40) as *const Pubkey) }
    }
}

impl AccountView for RawAccount<'_> {
    #[inline(always)]
    fn address(&self) -> &Pubkey {
        self.key()
    }
    #[inline(always)]
    fn owner_program(&self) -> &Pubkey {
        self.owner()
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
    fn invoke_signed_alone(&self, ix: &Instruction, seeds: &[&[&[u8]]]) -> Result<()> {
        // The runtime checks that a CPI's account infos point at the input buffer's own fields
        // (lamports at +72, data at +88), so the info is built from the record itself.
        // SAFETY: `header` is this account's record (`RawAccount::new`), alive while `self` is;
        // the lamports and data references alias `self.data` only for an account no handler
        // borrows (the event authority), and they end with this call.
        let info = unsafe {
            let p = self.header;
            let data_len = *(p.add(80) as *const u64) as usize;
            AccountInfo::new(
                self.key(),
                self.is_signer,
                self.is_writable,
                &mut *(p.add(72) as *mut u64),
                core::slice::from_raw_parts_mut(p.add(88), data_len),
                self.owner(),
                *p.add(3) != 0,
            )
        };
        invoke_signed(ix, &[info], seeds).map_err(Into::into)
    }
}
