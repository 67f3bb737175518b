//! The account lists of the order-flow instructions, each declared once.
//!
//! Both entry paths run the same handlers over one struct per list: Anchor's (built from its
//! `Context` by `of`) and the program's own entrypoint (built from the input buffer by
//! `from_raw`, which checks the flags Anchor's constraints would, and for the crank this program's
//! id as well, which Anchor's `#[event_cpi]` leaves unchecked: stricter, and no handler reads it).
//! Both constructors, the flag checks and `LAYOUT` (the list as data) come from the one declaration
//! below; a test compares `LAYOUT` with the accounts of Anchor's generated IDL, so the Anchor
//! structs in `instructions/` cannot drift from it.

use crate::account_handle::RawAccount;
use crate::instructions::{CancelOrder, ConsumeEvents, PlaceOrder};
use anchor_lang::prelude::*;

/// One account of a list: its name and what the instruction demands of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountSpec {
    pub name: &'static str,
    pub writable: bool,
    pub signer: bool,
    /// A fixed address (the event authority PDA, this program).
    pub fixed_address: bool,
}

/// What `from_raw` checks of an account for each flag of its declaration.
macro_rules! check_flag {
    (writable, $a:ident) => {
        if !$a.is_writable {
            return None;
        }
    };
    (signer, $a:ident) => {
        if !$a.is_signer {
            return None;
        }
    };
    (event_authority, $a:ident) => {
        if *$a.key() != crate::EVENT_AUTHORITY_AND_BUMP.0 {
            return None;
        }
    };
    (this_program, $a:ident) => {
        if *$a.key() != crate::ID {
            return None;
        }
    };
}

macro_rules! has_flag {
    (writable; writable $($r:ident)*) => { true };
    (signer; signer $($r:ident)*) => { true };
    (event_authority; event_authority $($r:ident)*) => { true };
    (this_program; this_program $($r:ident)*) => { true };
    ($want:ident; $other:ident $($r:ident)*) => { has_flag!($want; $($r)*) };
    ($want:ident;) => { false };
}

macro_rules! hot_accounts {
    // `of`: the accounts Anchor's dispatcher checked (its constraints are the declared flags). With
    // remaining accounts the context's lifetime is 'info (Anchor hands them out for 'info).
    (@of $name:ident $anchor:ident [$($field:ident)*]) => {
        impl<'r, 'info> $name<'r, AccountInfo<'info>> {
            pub fn of(ctx: &'r Context<'_, $anchor<'info>>) -> Self {
                let a = &ctx.accounts;
                $name { $( $field: &a.$field, )* }
            }
        }
    };
    (@of $name:ident $anchor:ident [$($field:ident)*] $rest:ident) => {
        impl<'r, 'info> $name<'r, AccountInfo<'info>> {
            pub fn of(ctx: &'r Context<'info, $anchor<'info>>) -> Self {
                let a = &ctx.accounts;
                $name { $( $field: &a.$field, )* $rest: ctx.remaining_accounts }
            }
        }
    };
    (
        $(#[$meta:meta])*
        $name:ident from $anchor:ident {
            $( $(#[$fmeta:meta])* $field:ident: [$($flag:ident),*], )*
        }
        $( $(#[$rmeta:meta])* remaining $rest:ident; )?
    ) => {
        $(#[$meta])*
        pub struct $name<'r, A> {
            $( $(#[$fmeta])* pub $field: &'r A, )*
            $( $(#[$rmeta])* pub $rest: &'r [A], )?
        }

        impl<A> $name<'_, A> {
            /// The accounts in the order a client passes them (remaining accounts after them).
            pub const LAYOUT: &'static [AccountSpec] = &[$(AccountSpec {
                name: stringify!($field),
                writable: has_flag!(writable; $($flag)*),
                signer: has_flag!(signer; $($flag)*),
                fixed_address: has_flag!(event_authority; $($flag)*) || has_flag!(this_program; $($flag)*),
            },)*];
        }

        hot_accounts!(@of $name $anchor [$($field)*] $($rest)?);

        impl<'r, 'a> $name<'r, RawAccount<'a>> {
            /// The accounts of the fast path, or None (Anchor's path then reports the error) when
            /// one is missing or lacks a flag its declaration demands.
            pub fn from_raw(accounts: &'r [RawAccount<'a>]) -> Option<Self> {
                let [$($field,)* _rest @ ..] = accounts else { return None };
                $( $( check_flag!($flag, $field); )* )*
                Some($name { $( $field, )* $( $rest: _rest, )? })
            }
        }
    };
}

hot_accounts! {
    /// `place_order`, `replace_order` and `mass_quote`.
    PlaceAccounts from PlaceOrder {
        /// Read only: order flow in one market never waits on another's.
        exchange: [],
        market: [writable],
        book: [writable],
        event_queue: [writable],
        margin_account: [writable],
        /// The account's owner or its trading delegate.
        owner: [signer],
    }
    /// The markets of the account's other positions, in position-slot order (margin check).
    remaining remaining;
}

hot_accounts! {
    /// `cancel_order`, `cancel_order_by_client_id` and `cancel_all_orders`.
    CancelAccounts from CancelOrder {
        market: [],
        book: [writable],
        margin_account: [writable],
        owner: [signer],
    }
}

hot_accounts! {
    /// `consume_events` (the crank).
    ConsumeAccounts from ConsumeEvents {
        /// Read only: cranks of different markets run in parallel.
        exchange: [],
        market: [writable],
        event_queue: [writable],
        reward_account: [writable],
        /// Signs the self-CPI that publishes the applied events (`crate::history`).
        event_authority: [event_authority],
        /// This program, the self-CPI's target (`#[event_cpi]`).
        program: [this_program],
    }
    /// The makers' margin accounts, writable, in any order.
    remaining makers;
}
