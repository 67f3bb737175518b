//! Book cost by depth, on the SBF binary: place (resting), cancel and a one-maker fill, with each
//! side of the book holding `depth` orders at distinct prices. Run once per program build (red-black
//! and critbit) by scripts/book-compare.sh, which writes bench/BOOK.md.
//!
//! Usage: `MERIDIAN_SO=<program.so> book-bench <label> [depths...]` prints a JSON object.
use meridian::ExchangeParams;
use meridian_engine::book::{book_data_len, critbit::Critbit, rbtree::RedBlack};
use meridian_program_tests::harness::{default_market_params, fixed_keypair, Harness, Trader, SPL_TOKEN};
use meridian_sdk::{
    ix,
    order::{self, OrderExt, Side},
};
use solana_sdk::signer::Signer;

const PRICE: u64 = 650_000;

fn main() {
    let mut args = std::env::args().skip(1);
    let label = args.next().expect("usage: book-bench <label> [depths...]");
    let depths: Vec<u32> = {
        let d: Vec<u32> = args.map(|a| a.parse().expect("depth")).collect();
        if d.is_empty() {
            vec![16, 256, 1024, 4096]
        } else {
            d
        }
    };
    let mut rows = vec![];
    for depth in depths {
        let mut h = Harness::new();
        let mint = h.create_mint(6, SPL_TOKEN);
        let fx = h.setup_exchange_as(fixed_keypair(1), mint, SPL_TOKEN, ExchangeParams::default());
        let mut params = default_market_params();
        params.book_capacity = depth + 8;
        params.event_queue_capacity = 64;
        // the book account must be sized for the tree the binary under test was built with
        let book_len = meridian::BOOK_HEADER_OFFSET
            + match label.as_str() {
                "critbit" => book_data_len::<Critbit>(params.book_capacity),
                _ => book_data_len::<RedBlack>(params.book_capacity),
            };
        let m = h.setup_market_with_book_len(&fx, params, book_len);
        let book_bytes = h.svm.get_account(&m.accounts.book).unwrap().data.len();
        // fill both sides: 64 orders per account (the open-order limit), distinct prices
        assert!(depth <= 4096, "fixed keys cover 128 accounts of 64 orders");
        let traders: Vec<Trader> = (0..(2 * depth).div_ceil(64))
            .map(|i| {
                let t = h.trader_as(fixed_keypair(10 + i as u8), &fx, 1_000_000_000_000);
                h.deposit(&fx, &t, 1_000_000_000_000);
                t
            })
            .collect();
        // interleave so the tree sees non-monotone inserts
        for i in 0..depth as u64 {
            let t = &traders[(2 * i as usize) / 64];
            let offset = 1 + (i * 7919) % (depth as u64 * 2);
            h.place(&m, t, order::limit(Side::Bid, PRICE - offset * 3, 1));
            let t = &traders[(2 * i as usize + 1) / 64];
            h.place(&m, t, order::limit(Side::Ask, PRICE + offset * 3, 1));
        }
        let me = h.trader_as(fixed_keypair(250), &fx, 1_000_000_000);
        h.deposit(&fx, &me, 1_000_000_000);
        h.place(&m, &me, order::limit(Side::Bid, PRICE - 1, 1)); // a position already open
                                                                 // a resting order in the middle of the bids
        let (r, meta) = h.try_place(&m, &me, order::limit(Side::Bid, PRICE - depth as u64 * 3 + 1, 1)).unwrap();
        let place = meta.compute_units_consumed;
        let cancel = h
            .ok(&[ix::cancel_order(&m.accounts, &me.margin, &me.owner.pubkey(), r.order_seq)], &[&me.owner])
            .compute_units_consumed;
        let (_, meta) = h
            .try_place(&m, &me, order::limit(Side::Bid, PRICE + 3 * 2 * depth as u64, 1).immediate_or_cancel())
            .unwrap();
        let fill = meta.compute_units_consumed;
        rows.push(format!(
            "{{\"depth\": {depth}, \"place_resting\": {place}, \"cancel\": {cancel}, \"fill_1\": {fill}, \"book_bytes\": {book_bytes}, \"rent_sol\": {:.3}}}",
            h.svm.minimum_balance_for_rent_exemption(book_bytes) as f64 / 1e9
        ));
        eprintln!("{label} depth {depth}: place {place} cancel {cancel} fill {fill} ({book_bytes} bytes)");
    }
    println!("{{\"tree\": \"{label}\", \"rows\": [{}]}}", rows.join(", "));
}
