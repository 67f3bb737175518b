//! The trade history: what `consume_events` emits for the events it applies.
//!
//! Every fill and every out (an order that left the book without its owner's instruction) passes
//! through a market's event queue, and `consume_events` is the only instruction that removes events
//! from it, each exactly once. So that is where they are published: one [`EventsApplied`] per
//! `consume_events`, carrying the applied events in queue order. It is emitted by a self-CPI
//! (Anchor's `emit_cpi` convention: instruction data = `EVENT_IX_TAG_LE`, the event's
//! discriminator, its Borsh encoding; signed by the `__event_authority` PDA) rather than a log
//! line, because a transaction's logs are cut at 10,000 bytes and a crank with a log-heavy
//! instruction in front of it would then lose fills; inner instructions are never cut. One CPI per
//! crank, not per event: a CPI costs ~1,000 CU.
//!
//! Readers trust only inner instructions of successful transactions whose program is Meridian and
//! whose first account is the event authority (it signs only through this program).

use crate::account_handle::AccountHandle;
use anchor_lang::prelude::*;
use meridian_engine::events::{Event, OutReason as EngineOutReason, EVENT_FILL};

/// Most events one `consume_events` applies: its [`EventsApplied`] must fit the runtime's limit on
/// CPI instruction data (10 KiB): 16 + 32 + 4 + 64 × (1 + [`FillRecord::SIZE`]) = 7,988 bytes.
pub const MAX_EVENTS_PER_CONSUME: u16 = 64;

/// The events one `consume_events` applied to makers' accounts, in queue order.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventsApplied {
    pub market: Pubkey,
    pub events: Vec<AppliedEvent>,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppliedEvent {
    Fill(FillRecord),
    Out(OutRecord),
}

/// An order side, as the IDL names it.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Bid,
    Ask,
}

/// Why an order left the book without its owner's instruction.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutReason {
    /// Unknown to this program version (never written by it).
    Other,
    Expired,
    /// Self-trade prevention removed or decremented it.
    SelfTrade,
    /// A better order took its place on a full book.
    Evicted,
    /// Its owner's account was liquidated (orders cancelled).
    Liquidated,
    /// Outside the price band when a taker met it: removed, not filled.
    OutOfBand,
}

/// One fill of a resting order. The taker's side is the other side; the taker's fee is charged
/// on its whole order at placement (`MarginAccount::last_placement`), not per fill.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct FillRecord {
    /// The event's number in the market's event history: (market, seq_num) identifies a fill.
    pub seq_num: u64,
    /// Unix time of the match (the auction's clearing for an auction fill).
    pub timestamp: i64,
    /// The resting order's margin account (for an auction fill: the order's, whichever its role).
    pub maker: Pubkey,
    /// The taker's margin account; the default address for an auction fill (no taker).
    pub taker: Pubkey,
    pub maker_order_seq: u64,
    pub maker_client_order_id: u64,
    /// Ticks.
    pub price: u64,
    /// Lots.
    pub size: u64,
    /// What `maker` paid (negative: the rebate it received), native quote units, as charged.
    pub maker_fee: i64,
    pub maker_side: Side,
    /// The maker's order left the book with this fill.
    pub maker_out: bool,
    /// A batch auction's fill.
    pub auction: bool,
}

impl FillRecord {
    pub const SIZE: usize = 8 + 8 + 32 + 32 + 8 + 8 + 8 + 8 + 8 + 1 + 1 + 1;
}

/// An order (or part of one) removed without its owner's instruction.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutRecord {
    pub seq_num: u64,
    pub timestamp: i64,
    /// The order's margin account.
    pub owner: Pubkey,
    pub order_seq: u64,
    pub client_order_id: u64,
    /// Ticks.
    pub price: u64,
    /// Lots removed.
    pub size: u64,
    pub side: Side,
    pub reason: OutReason,
    /// The whole order left (false: self-trade prevention decremented it).
    pub order_out: bool,
}

const HEADER: usize = 8 + 8 + 32 + 4;

/// The instruction data of the self-CPI, written as the events are applied (one allocation).
pub struct EventsWriter {
    data: Vec<u8>,
    count: u32,
}

impl EventsWriter {
    pub fn new(market: &Pubkey, capacity: u16) -> Self {
        let mut data = Vec::with_capacity(HEADER + capacity as usize * (1 + FillRecord::SIZE));
        data.extend_from_slice(anchor_lang::event::EVENT_IX_TAG_LE);
        data.extend_from_slice(EventsApplied::DISCRIMINATOR);
        data.extend_from_slice(market.as_ref());
        data.extend_from_slice(&0u32.to_le_bytes());
        EventsWriter { data, count: 0 }
    }

    /// Records an applied event; `maker_fee` is what the maker was charged for a fill. Written
    /// field by field at fixed offsets (the Borsh encoding of [`AppliedEvent`], which the tests
    /// decode): a third of the cost of building the record and serializing it.
    pub fn push(&mut self, e: &Event, maker_fee: i64) {
        let mut b = [0u8; 1 + FillRecord::SIZE];
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            b[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        if e.kind == EVENT_FILL {
            put(&[0]);
            put(&e.seq_num.to_le_bytes());
            put(&e.timestamp.to_le_bytes());
            put(&e.maker);
            put(&e.taker);
            put(&e.maker_order_seq.to_le_bytes());
            put(&e.maker_client_order_id.to_le_bytes());
            put(&e.price.0.to_le_bytes());
            put(&e.size.0.to_le_bytes());
            put(&maker_fee.to_le_bytes());
            // a fill event carries the taker's side: the maker's is the other
            put(&[u8::from(e.side == 0), e.maker_out.min(1), e.auction.min(1)]);
        } else {
            put(&[1]);
            put(&e.seq_num.to_le_bytes());
            put(&e.timestamp.to_le_bytes());
            put(&e.maker);
            put(&e.maker_order_seq.to_le_bytes());
            put(&e.maker_client_order_id.to_le_bytes());
            put(&e.price.0.to_le_bytes());
            put(&e.size.0.to_le_bytes());
            put(&[u8::from(e.side != 0), out_reason(e.out_reason) as u8, e.maker_out.min(1)]);
        }
        self.data.extend_from_slice(&b[..at]);
        self.count += 1;
    }

    /// The CPI's instruction data, with the event count in place.
    pub fn finish(mut self) -> Vec<u8> {
        self.data[HEADER - 4..HEADER].copy_from_slice(&self.count.to_le_bytes());
        self.data
    }
}

fn out_reason(code: u8) -> OutReason {
    const EXPIRED: u8 = EngineOutReason::Expired as u8;
    const SELF_TRADE: u8 = EngineOutReason::SelfTrade as u8;
    const EVICTED: u8 = EngineOutReason::Evicted as u8;
    const LIQUIDATED: u8 = EngineOutReason::Liquidated as u8;
    const OUT_OF_BAND: u8 = EngineOutReason::OutOfBand as u8;
    match code {
        EXPIRED => OutReason::Expired,
        SELF_TRADE => OutReason::SelfTrade,
        EVICTED => OutReason::Evicted,
        LIQUIDATED => OutReason::Liquidated,
        OUT_OF_BAND => OutReason::OutOfBand,
        _ => OutReason::Other,
    }
}

/// Publishes the written events: a self-CPI signed by the event authority, which the program's
/// entrypoint accepts and does nothing with (the data is the record).
pub fn emit<A: AccountHandle>(event_authority: &A, data: Vec<u8>) -> Result<()> {
    let ix = anchor_lang::solana_program::instruction::Instruction {
        program_id: crate::ID,
        accounts: vec![AccountMeta::new_readonly(*event_authority.address(), true)],
        data,
    };
    let (_, bump) = crate::EVENT_AUTHORITY_AND_BUMP;
    event_authority.invoke_signed_alone(&ix, &[&[b"__event_authority", &[bump]]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use meridian_engine::units::{Lots, Ticks};

    /// The bytes written in place decode as the IDL's type: what any Anchor client reads.
    #[test]
    fn written_bytes_decode_as_the_event() {
        let market = Pubkey::new_unique();
        let fill = Event {
            kind: EVENT_FILL,
            side: 0,
            maker_out: 1,
            seq_num: 7,
            timestamp: 1_700_000_000,
            maker: [3; 32],
            taker: [4; 32],
            maker_order_seq: 11,
            maker_client_order_id: 12,
            price: Ticks(100),
            size: Lots(5),
            ..Event::default()
        };
        let out =
            Event { kind: 2, side: 1, out_reason: EngineOutReason::Expired as u8, seq_num: 8, size: Lots(2), ..fill };
        let mut w = EventsWriter::new(&market, 2);
        w.push(&fill, -3);
        w.push(&out, 0);
        let data = w.finish();
        assert_eq!(&data[..8], anchor_lang::event::EVENT_IX_TAG_LE);
        assert_eq!(&data[8..16], EventsApplied::DISCRIMINATOR);
        let decoded = EventsApplied::deserialize(&mut &data[16..]).unwrap();
        assert_eq!(decoded.market, market);
        assert_eq!(decoded.events.len(), 2);
        let AppliedEvent::Fill(f) = decoded.events[0] else { panic!("not a fill") };
        assert_eq!((f.seq_num, f.price, f.size, f.maker_fee), (7, 100, 5, -3));
        assert_eq!((f.maker_side, f.maker_out, f.auction), (Side::Ask, true, false));
        assert_eq!(f.taker, Pubkey::new_from_array([4; 32]));
        let AppliedEvent::Out(o) = decoded.events[1] else { panic!("not an out") };
        assert_eq!((o.seq_num, o.size, o.side, o.reason), (8, 2, Side::Ask, OutReason::Expired));
        // the capacity bound: a full batch of fills fits the CPI data limit
        assert!(HEADER + MAX_EVENTS_PER_CONSUME as usize * (1 + FillRecord::SIZE) <= 10 * 1024);
        assert_eq!(data.len(), HEADER + 1 + FillRecord::SIZE + 1 + (8 + 8 + 32 + 8 + 8 + 8 + 8 + 1 + 1 + 1));
    }
}
