//! One view of an account for both entry paths of the order-flow instructions.
//!
//! Anchor's path hands handlers `AccountInfo`s, which the runtime's standard deserializer builds
//! with two heap-allocated `Rc<RefCell<..>>` per account: ~210 CU per account measured on this
//! binary, about 1,300 CU of a six-account `place_order`. The order-flow entrypoint (`fast_entry`)
//! reads accounts straight from the input buffer into [`RawAccount`]s instead. The handlers are
//! written once, over [`AccountHandle`], and serve both.

use anchor_lang::prelude::*;
use anchor_lang::solana_program::{instruction::Instruction, program::invoke_signed};
use std::cell::{Ref, RefCell, RefMut};

/// What a handler needs of an account: its address, its owner, and its data behind a borrow flag
/// (a second mutable borrow of the same account fails, as with `AccountInfo`).
pub trait AccountHandle {
    fn address(&self) -> &Pubkey;
    fn owner_program(&self) -> &Pubkey;
    fn data(&self) -> Result<Ref<'_, [u8]>>;
    fn data_mut(&self) -> Result<RefMut<'_, [u8]>>;
    /// Invokes `ix`, whose only account is this one, signed with `seeds`. Used only for the event
    /// authority (no data, never borrowed by a handler).
    fn invoke_signed_alone(&self, ix: &Instruction, seeds: &[&[&[u8]]]) -> Result<()>;
}

impl AccountHandle for AccountInfo<'_> {
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

/// An account's record in the runtime's input buffer (loader v3, aligned serialization), up to its
/// data. The data (`data_len` bytes) follows at once, then `MAX_PERMITTED_DATA_INCREASE` bytes of
/// room, padding to 8 bytes and the rent epoch (u64). Records start 8-aligned.
#[repr(C)]
pub struct AccountRecord {
    /// `NON_DUP_MARKER` (0xff), or the index of the earlier account this one repeats (then only 7
    /// bytes of padding follow, no record).
    pub dup_marker: u8,
    pub is_signer: u8,
    pub is_writable: u8,
    pub executable: u8,
    _padding: [u8; 4],
    pub key: Pubkey,
    pub owner: Pubkey,
    pub lamports: u64,
    pub data_len: u64,
}

// The runtime's layout, checked at compile time.
const _: () = {
    assert!(core::mem::size_of::<AccountRecord>() == 88);
    assert!(core::mem::align_of::<AccountRecord>() == 8);
    assert!(core::mem::offset_of!(AccountRecord, key) == 8);
    assert!(core::mem::offset_of!(AccountRecord, owner) == 40);
    assert!(core::mem::offset_of!(AccountRecord, lamports) == 72);
    assert!(core::mem::offset_of!(AccountRecord, data_len) == 80);
};

impl AccountRecord {
    /// Where the account's data starts.
    #[inline(always)]
    pub fn data_ptr(record: *mut AccountRecord) -> *mut u8 {
        record.wrapping_add(1) as *mut u8
    }
}

/// An account read in place from the program's input buffer: no allocation.
pub struct RawAccount<'a> {
    /// The account's record in the input buffer.
    record: *mut AccountRecord,
    pub is_signer: bool,
    pub is_writable: bool,
    data: RefCell<&'a mut [u8]>,
}

impl<'a> RawAccount<'a> {
    /// # Safety
    /// `record` is a non-duplicate account record of the runtime's input buffer, followed by its
    /// `data_len` bytes of data, alive and not otherwise referenced for `'a`.
    #[inline(always)]
    pub unsafe fn new(record: *mut AccountRecord) -> Self {
        // SAFETY: the caller's contract: a whole record, its data right after it
        let (r, data) = unsafe { (&*record, AccountRecord::data_ptr(record)) };
        RawAccount {
            record,
            is_signer: r.is_signer != 0,
            is_writable: r.is_writable != 0,
            // SAFETY: the data is `data_len` bytes long and only this view refers to it for 'a
            data: RefCell::new(unsafe { core::slice::from_raw_parts_mut(data, r.data_len as usize) }),
        }
    }

    #[inline(always)]
    pub fn key(&self) -> &Pubkey {
        // SAFETY: `record` is this account's record (`RawAccount::new`); the key is never written
        unsafe { &(*self.record).key }
    }

    #[inline(always)]
    pub fn owner(&self) -> &Pubkey {
        // SAFETY: as for `key`; the owner is never written by this program's handlers
        unsafe { &(*self.record).owner }
    }
}

impl AccountHandle for RawAccount<'_> {
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
        // (the record's lamports and data), so the info is built from the record itself.
        // SAFETY: `record` is this account's record (`RawAccount::new`), alive while `self` is;
        // the lamports and data references alias `self.data` only for an account no handler
        // borrows (the event authority), and they end with this call.
        let info = unsafe {
            let r = self.record;
            AccountInfo::new(
                &(*r).key,
                self.is_signer,
                self.is_writable,
                &mut (*r).lamports,
                core::slice::from_raw_parts_mut(AccountRecord::data_ptr(r), (*r).data_len as usize),
                &(*r).owner,
                (*r).executable != 0,
            )
        };
        invoke_signed(ix, &[info], seeds).map_err(Into::into)
    }
}
