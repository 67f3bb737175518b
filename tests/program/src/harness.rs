//! A LiteSVM harness around the real SBF binary (`target/deploy/meridian.so`), with the bundled SPL
//! Token and Token-2022 programs. No mocks: every instruction runs in the Solana runtime.

use anchor_lang::{solana_program::system_instruction, Discriminator};
use litesvm::{
    types::{FailedTransactionMetadata, TransactionMetadata},
    LiteSVM,
};
use meridian::{
    Exchange, ExchangeParams, LastPlacement, MarginAccount, Market, MarketParams, MeridianError, PlaceOrderArgs,
};
use meridian_sdk::{
    book::BookView,
    history::{event_seq_num, EventsApplied},
    ix::{self, CollateralAccounts, MarketAccounts},
    pda,
    state::{encode_name, ZeroCopyAccount},
    token::{self, spl_token_2022, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID},
};
use solana_sdk::{
    account::Account,
    instruction::{Instruction, InstructionError},
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
    transaction::{Transaction, TransactionError},
};
use std::path::PathBuf;

/// Where the SBF binary is: `$MERIDIAN_SO`, else `<workspace>/target/deploy/meridian.so`.
pub fn program_so_path() -> PathBuf {
    if let Ok(p) = std::env::var("MERIDIAN_SO") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/deploy/meridian.so")
}

pub fn program_bytes() -> Vec<u8> {
    read_so(&program_so_path())
}

/// A test-only program of `target/deploy/` (`oracle_writer.so`, `math_probe.so`).
pub fn deployed_bytes(file: &str) -> Vec<u8> {
    read_so(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/deploy").join(file))
}

fn read_so(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| {
        panic!("cannot read {} ({e}): build the SBF binaries first with `scripts/sbf.sh build`", path.display())
    })
}

/// A failed transaction: the runtime's error and the program logs.
#[derive(Debug)]
pub struct Failure {
    pub err: TransactionError,
    pub logs: Vec<String>,
}

/// What a failing transaction must fail with.
#[derive(Clone, Debug)]
pub enum Expected {
    Meridian(MeridianError),
    Anchor(anchor_lang::error::ErrorCode),
    /// A custom error of another program (SPL Token's, say).
    Custom(u32),
    Tx(TransactionError),
}

impl Expected {
    pub fn matches(&self, err: &TransactionError) -> bool {
        let custom =
            |code: u32| matches!(err, TransactionError::InstructionError(_, InstructionError::Custom(c)) if *c == code);
        match self {
            Expected::Meridian(e) => custom(u32::from(*e)),
            Expected::Anchor(e) => custom(u32::from(*e)),
            Expected::Custom(code) => custom(*code),
            Expected::Tx(t) => err == t,
        }
    }
}

pub struct Harness {
    pub svm: LiteSVM,
    /// Fee payer of every transaction (so traders' lamports only move when the program moves them).
    pub payer: Keypair,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    pub fn new() -> Harness {
        let mut svm = LiteSVM::new();
        svm.add_program(meridian::ID, &program_bytes()).expect("LiteSVM rejected meridian.so");
        let payer = Keypair::new();
        svm.airdrop(&payer.pubkey(), 1_000_000_000_000).unwrap();
        Harness { svm, payer }
    }

    /// This harness with the test-only math probe program (target/deploy/math_probe.so, built by
    /// `scripts/sbf.sh build`) loaded at `math_probe::ID`.
    pub fn with_math_probe(mut self) -> Harness {
        self.svm.add_program(math_probe::ID, &deployed_bytes("math_probe.so")).expect("LiteSVM rejected math_probe.so");
        self
    }

    /// Sends `ixs` signed by the payer and `signers`; a fresh blockhash each time so identical
    /// transactions are not deduplicated.
    pub fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<TransactionMetadata, Failure> {
        let mut all: Vec<&Keypair> = vec![&self.payer];
        all.extend(signers.iter().copied().filter(|k| k.pubkey() != self.payer.pubkey()));
        let tx = Transaction::new_signed_with_payer(ixs, Some(&self.payer.pubkey()), &all, self.svm.latest_blockhash());
        let result = self.svm.send_transaction(tx);
        self.svm.expire_blockhash();
        if std::env::var_os("MERIDIAN_PRINT_LOGS").is_some() {
            let (logs, cu) = match &result {
                Ok(m) => (&m.logs, m.compute_units_consumed),
                Err(f) => (&f.meta.logs, f.meta.compute_units_consumed),
            };
            eprintln!("--- {cu} CU\n{}", logs.join("\n"));
        }
        result.map_err(|FailedTransactionMetadata { err, meta }| Failure { err, logs: meta.logs })
    }

    /// Sends and panics with the logs on failure.
    pub fn ok(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> TransactionMetadata {
        match self.send(ixs, signers) {
            Ok(meta) => meta,
            Err(f) => panic!("transaction failed: {:?}\n{}", f.err, f.logs.join("\n")),
        }
    }

    /// Sends, expects `expected`, and checks that none of `watched` changed (data, lamports, owner).
    pub fn fails(&mut self, ixs: &[Instruction], signers: &[&Keypair], expected: Expected, watched: &[Pubkey]) {
        let before = self.snapshot(watched);
        match self.send(ixs, signers) {
            Ok(meta) => panic!("expected {expected:?}, transaction succeeded:\n{}", meta.logs.join("\n")),
            Err(f) => {
                assert!(expected.matches(&f.err), "expected {expected:?}, got {:?}\n{}", f.err, f.logs.join("\n"))
            }
        }
        let after = self.snapshot(watched);
        for ((key, b), a) in watched.iter().zip(&before).zip(&after) {
            assert_eq!(b, a, "account {key} changed although the transaction failed");
        }
    }

    /// Sends, expects any failure, and checks that none of `watched` changed. Returns the error.
    pub fn fails_any(&mut self, ixs: &[Instruction], signers: &[&Keypair], watched: &[Pubkey]) -> TransactionError {
        let before = self.snapshot(watched);
        let err = match self.send(ixs, signers) {
            Ok(meta) => panic!("expected a failure, transaction succeeded:\n{}", meta.logs.join("\n")),
            Err(f) => f.err,
        };
        let after = self.snapshot(watched);
        for ((key, b), a) in watched.iter().zip(&before).zip(&after) {
            assert_eq!(b, a, "account {key} changed although the transaction failed");
        }
        err
    }

    pub fn snapshot(&self, keys: &[Pubkey]) -> Vec<Option<Account>> {
        keys.iter().map(|k| self.svm.get_account(k)).collect()
    }

    pub fn decode<T: ZeroCopyAccount>(&self, address: &Pubkey) -> T {
        let account = self.svm.get_account(address).unwrap_or_else(|| panic!("{address} does not exist"));
        assert_eq!(account.owner, meridian::ID, "{address} is not owned by the program");
        T::decode(&account.data).unwrap()
    }

    pub fn exchange(&self, address: &Pubkey) -> Exchange {
        self.decode(address)
    }

    pub fn margin(&self, address: &Pubkey) -> MarginAccount {
        self.decode(address)
    }

    pub fn exists(&self, address: &Pubkey) -> bool {
        self.svm.get_account(address).is_some_and(|a| a.lamports > 0)
    }

    pub fn lamports(&self, address: &Pubkey) -> u64 {
        self.svm.get_balance(address).unwrap_or(0)
    }

    // ------------------------------------------------------------------------------------ tokens

    /// A mint with `decimals`, mint authority = the harness payer.
    pub fn create_mint(&mut self, decimals: u8, token_program: Pubkey) -> Pubkey {
        let mint = Keypair::new();
        let rent = self.svm.minimum_balance_for_rent_exemption(token::MINT_LEN);
        let ixs = token::create_mint(
            &self.payer.pubkey(),
            &mint.pubkey(),
            &self.payer.pubkey(),
            decimals,
            &token_program,
            rent,
        );
        self.ok(&ixs, &[&mint]);
        mint.pubkey()
    }

    /// A Token-2022 mint with the extensions set up by `init_extensions` (run between allocation and
    /// InitializeMint2, as Token-2022 requires).
    pub fn create_mint_2022_with(
        &mut self,
        decimals: u8,
        extensions: &[spl_token_2022::extension::ExtensionType],
        init_extensions: impl FnOnce(&Pubkey) -> Vec<Instruction>,
    ) -> Pubkey {
        let mint = Keypair::new();
        let space = spl_token_2022::extension::ExtensionType::try_calculate_account_len::<spl_token_2022::state::Mint>(
            extensions,
        )
        .unwrap();
        let rent = self.svm.minimum_balance_for_rent_exemption(space);
        let mut ixs = vec![system_instruction::create_account(
            &self.payer.pubkey(),
            &mint.pubkey(),
            rent,
            space as u64,
            &TOKEN_2022_PROGRAM_ID,
        )];
        ixs.extend(init_extensions(&mint.pubkey()));
        ixs.push(
            spl_token_2022::instruction::initialize_mint2(
                &TOKEN_2022_PROGRAM_ID,
                &mint.pubkey(),
                &self.payer.pubkey(),
                None,
                decimals,
            )
            .unwrap(),
        );
        self.ok(&ixs, &[&mint]);
        mint.pubkey()
    }

    /// The associated token account of `owner` (created if missing).
    pub fn token_account(&mut self, mint: &Pubkey, owner: &Pubkey, token_program: &Pubkey) -> Pubkey {
        let ix = token::create_associated_token_account_idempotent(&self.payer.pubkey(), owner, mint, token_program);
        self.ok(&[ix], &[]);
        token::associated_token_address(owner, mint, token_program)
    }

    pub fn mint_to(&mut self, mint: &Pubkey, to: &Pubkey, token_program: &Pubkey, amount: u64) {
        let ix = token::mint_to(token_program, mint, to, &self.payer.pubkey(), amount);
        self.ok(&[ix], &[]);
    }

    pub fn token_balance(&self, account: &Pubkey) -> u64 {
        let data = self.svm.get_account(account).expect("token account exists").data;
        token::decode_token_account(&data).expect("is a token account").amount
    }

    // --------------------------------------------------------------------------------- exchange

    /// An exchange on a fresh mint with `decimals`, under `token_program` (SPL Token or Token-2022).
    pub fn setup_exchange(&mut self, decimals: u8, token_program: Pubkey, params: ExchangeParams) -> ExchangeFixture {
        let mint = self.create_mint(decimals, token_program);
        self.setup_exchange_on(mint, token_program, params)
    }

    pub fn setup_exchange_on(
        &mut self,
        mint: Pubkey,
        token_program: Pubkey,
        params: ExchangeParams,
    ) -> ExchangeFixture {
        self.setup_exchange_as(Keypair::new(), mint, token_program, params)
    }

    pub fn setup_exchange_as(
        &mut self,
        admin: Keypair,
        mint: Pubkey,
        token_program: Pubkey,
        params: ExchangeParams,
    ) -> ExchangeFixture {
        self.svm.airdrop(&admin.pubkey(), 10_000_000_000).unwrap();
        let ix = ix::initialize_exchange(&admin.pubkey(), &mint, &token_program, params);
        self.ok(&[ix], &[&admin]);
        let exchange = pda::exchange(&admin.pubkey(), params.index).0;
        let state = self.exchange(&exchange);
        ExchangeFixture { admin, exchange, collateral: CollateralAccounts::of(exchange, &state) }
    }

    /// A trader with lamports, a token account holding `tokens`, and margin account 0.
    pub fn trader(&mut self, fx: &ExchangeFixture, tokens: u64) -> Trader {
        self.trader_as(Keypair::new(), fx, tokens)
    }

    pub fn trader_as(&mut self, owner: Keypair, fx: &ExchangeFixture, tokens: u64) -> Trader {
        self.svm.airdrop(&owner.pubkey(), 10_000_000_000).unwrap();
        let c = fx.collateral;
        let token = self.token_account(&c.mint, &owner.pubkey(), &c.token_program);
        if tokens > 0 {
            self.mint_to(&c.mint, &token, &c.token_program, tokens);
        }
        let ix = ix::create_margin_account(&fx.exchange, &owner.pubkey(), &owner.pubkey(), 0);
        self.ok(&[ix], &[&owner]);
        let margin = pda::margin_account(&fx.exchange, &owner.pubkey(), 0).0;
        Trader { owner, token, margin }
    }

    /// Margin account number `sub_account` of `t`'s owner (created), sharing its wallet.
    pub fn sub_account(&mut self, fx: &ExchangeFixture, t: &Trader, sub_account: u16) -> Trader {
        let ix = ix::create_margin_account(&fx.exchange, &t.owner.pubkey(), &t.owner.pubkey(), sub_account);
        self.ok(&[ix], &[&t.owner]);
        let margin = pda::margin_account(&fx.exchange, &t.owner.pubkey(), sub_account).0;
        Trader { owner: t.owner.insecure_clone(), token: t.token, margin }
    }

    pub fn deposit(&mut self, fx: &ExchangeFixture, t: &Trader, amount: u64) -> TransactionMetadata {
        let ix = ix::deposit(&fx.collateral, &t.margin, &t.owner.pubkey(), &t.token, amount);
        self.ok(&[ix], &[&t.owner])
    }

    pub fn withdraw(&mut self, fx: &ExchangeFixture, t: &Trader, amount: u64) -> TransactionMetadata {
        let ix = ix::withdraw(&fx.collateral, &t.margin, &t.owner.pubkey(), &t.token, amount);
        self.ok(&[ix], &[&t.owner])
    }

    /// Every margin account of `exchange`, straight from the runtime's account store.
    pub fn margin_accounts(&self, exchange: &Pubkey) -> Vec<(Pubkey, MarginAccount)> {
        self.svm
            .get_program_accounts(&meridian::ID)
            .into_iter()
            .filter(|(_, a)| a.data.len() >= 8 && &a.data[..8] == MarginAccount::DISCRIMINATOR)
            .map(|(k, a)| (k, MarginAccount::decode(&a.data).unwrap()))
            .filter(|(_, m)| m.exchange == *exchange)
            .collect()
    }

    /// The exchange's markets, by index.
    pub fn markets_of(&self, exchange: &Pubkey) -> Vec<Market> {
        let n = self.exchange(exchange).num_markets;
        (0..n).map(|i| self.market(&pda::market(exchange, i).0)).collect()
    }

    /// Trading is zero-sum in every market (`market_balance`, once all its events are applied).
    pub fn assert_markets_balanced(&self, fx: &ExchangeFixture) {
        let accounts = self.margin_accounts(&fx.exchange);
        for (index, market) in self.markets_of(&fx.exchange).iter().enumerate() {
            // a closed market's queue account is gone (it was empty)
            let queue = self
                .svm
                .get_account(&market.event_queue)
                .map(|q| meridian_sdk::book::decode_events(&q.data).unwrap().0);
            if queue.is_some_and(|q| !q.is_empty()) {
                continue; // makers' sides still pending
            }
            if let Err(e) = market_balance(market, index as u16, &accounts) {
                panic!("{e}");
            }
        }
    }

    /// The conservation invariant: the vault's token balance equals what the program owes
    /// (`Totals::liabilities`: collateral + fees + insurance + PnL pools, the markets' unswept
    /// amounts included), and the collateral total equals the sum over the margin accounts.
    pub fn assert_conserved(&self, fx: &ExchangeFixture) {
        let exchange = self.exchange(&fx.exchange);
        let markets = self.markets_of(&fx.exchange);
        let totals = exchange.totals_with(&markets);
        let vault = self.token_balance(&fx.collateral.vault) as i128;
        let sum: i128 = self.margin_accounts(&fx.exchange).iter().map(|(_, m)| m.collateral as i128).sum();
        assert_eq!(sum, totals.collateral, "collateral total (exchange + markets' unswept) != sum of margin accounts");
        assert_eq!(vault, totals.liabilities(), "vault balance {vault} != {totals:?}");
        let pools: u64 = markets.iter().map(|m| m.pnl_pool).sum();
        assert_eq!(pools, exchange.pnl_pools, "the markets' PnL pools != the exchange's total");
    }
}

/// A BTC-PERP-like market on a 6-decimal collateral: 1 lot = 0.0001 BTC (8 decimals), 1 tick =
/// $0.10 per BTC, so one tick on one lot is 10 native units; $65,000 = 650,000 ticks. Fees 5 bp
/// taker, 1 bp maker rebate; 10% initial, 5% maintenance margin.
pub fn default_market_params() -> MarketParams {
    MarketParams {
        name: encode_name("BTC-PERP"),
        kind: meridian::MarketKind::Perpetual,
        base_decimals: 8,
        base_lot_size: 10_000,
        tick_size: 10,
        min_order_lots: 1,
        taker_fee_ppm: 500,
        maker_fee_ppm: -100,
        initial_margin_bps: 1_000,
        maintenance_margin_bps: 500,
        crank_reward: 100,
        initial_mark_price: 650_000,
        book_capacity: 64,
        event_queue_capacity: 128,
        expiry_ts: 0,
        strike: 0,
        price_band_bps: 0,
        settlement_window_secs: 0,
    }
}

#[derive(Clone, Copy, Debug)]
pub struct MarketFixture {
    pub index: u16,
    pub accounts: MarketAccounts,
}

impl Harness {
    /// Allocates the book and queue and creates the exchange's next market.
    pub fn setup_market(&mut self, fx: &ExchangeFixture, params: MarketParams) -> MarketFixture {
        self.setup_market_with_book_len(fx, params, meridian::book_account_len(params.book_capacity))
    }

    /// Like `setup_market`, with the book account sized for a program built with another tree
    /// (book-bench compares the two builds).
    pub fn setup_market_with_book_len(
        &mut self,
        fx: &ExchangeFixture,
        params: MarketParams,
        book_len: usize,
    ) -> MarketFixture {
        let (book, queue) = (Keypair::new(), Keypair::new());
        let index = self.exchange(&fx.exchange).num_markets;
        let mut ixs =
            ix::allocate_market_accounts(&self.payer.pubkey(), &book.pubkey(), &queue.pubkey(), &params, |len| {
                self.svm.minimum_balance_for_rent_exemption(len)
            });
        let payer = self.payer.pubkey();
        let rent = self.svm.minimum_balance_for_rent_exemption(book_len);
        ixs[0] = system_instruction::create_account(&payer, &book.pubkey(), rent, book_len as u64, &meridian::ID);
        ixs.push(ix::create_market(&fx.exchange, &fx.admin.pubkey(), index, params, &book.pubkey(), &queue.pubkey()));
        self.ok(&ixs, &[&fx.admin, &book, &queue]);
        let market = pda::market(&fx.exchange, index).0;
        MarketFixture { index, accounts: MarketAccounts::of(market, &self.market(&market)) }
    }

    /// `create_market` with `params` fails with `expected` and changes nothing.
    pub fn market_creation_fails(&mut self, fx: &ExchangeFixture, params: MarketParams, expected: Expected) {
        let (book, queue) = (Keypair::new(), Keypair::new());
        let index = self.exchange(&fx.exchange).num_markets;
        let mut ixs =
            ix::allocate_market_accounts(&self.payer.pubkey(), &book.pubkey(), &queue.pubkey(), &params, |len| {
                self.svm.minimum_balance_for_rent_exemption(len)
            });
        ixs.push(ix::create_market(&fx.exchange, &fx.admin.pubkey(), index, params, &book.pubkey(), &queue.pubkey()));
        self.fails(&ixs, &[&fx.admin, &book, &queue], expected, &[fx.exchange]);
    }

    pub fn market(&self, address: &Pubkey) -> Market {
        self.decode(address)
    }

    pub fn book(&self, m: &MarketFixture) -> BookView {
        BookView::decode(&self.svm.get_account(&m.accounts.book).unwrap().data).expect("book decodes")
    }

    /// The market's pending events (none once `close_market` closed its queue).
    pub fn events(&self, m: &MarketFixture) -> Vec<meridian_engine::events::Event> {
        let Some(queue) = self.svm.get_account(&m.accounts.event_queue).filter(|a| a.owner == meridian::ID) else {
            return vec![];
        };
        meridian_sdk::book::decode_events(&queue.data).unwrap().0
    }

    /// The place_order instruction for a trader, with the health markets its account needs.
    pub fn place_ix(&self, m: &MarketFixture, t: &Trader, args: PlaceOrderArgs) -> Instruction {
        let account = self.margin(&t.margin);
        let health = ix::health_markets(&m.accounts.exchange, &account, Some(m.index));
        ix::place_order(&m.accounts, &t.margin, &t.owner.pubkey(), args, &health)
    }

    pub fn try_place(
        &mut self,
        m: &MarketFixture,
        t: &Trader,
        args: PlaceOrderArgs,
    ) -> Result<(LastPlacement, TransactionMetadata), Failure> {
        let ix = self.place_ix(m, t, args);
        let meta = self.send(&[ix], &[&t.owner])?;
        Ok((self.margin(&t.margin).last_placement, meta))
    }

    pub fn place(&mut self, m: &MarketFixture, t: &Trader, args: PlaceOrderArgs) -> LastPlacement {
        match self.try_place(m, t, args) {
            Ok((r, _)) => r,
            Err(f) => panic!("place_order failed: {:?}\n{}", f.err, f.logs.join("\n")),
        }
    }

    /// Runs the crank until the queue is empty; rewards go to `reward_account`. Returns the events
    /// applied.
    pub fn crank(&mut self, m: &MarketFixture, reward_account: &Pubkey) -> usize {
        let mut total = 0;
        loop {
            let events = self.events(m);
            if events.is_empty() {
                return total;
            }
            let mut makers: Vec<Pubkey> = events.iter().map(|e| Pubkey::new_from_array(e.maker)).collect();
            makers.sort();
            makers.dedup();
            let ix = ix::consume_events(&m.accounts, reward_account, events.len() as u16, &makers);
            let (meta, records) = self.ok_recorded(&[ix], &[]);
            total += check_crank_record(&m.accounts.market, &events, &meta, &records).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    /// Sends like [`Harness::ok`] and decodes the `EventsApplied` records of its inner
    /// instructions, as an RPC reader would (`meridian_sdk::history`).
    pub fn ok_recorded(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> (TransactionMetadata, Vec<EventsApplied>) {
        let meta = self.ok(ixs, signers);
        let records = records_of(ixs, &self.payer.pubkey(), &meta);
        (meta, records)
    }
}

/// The `EventsApplied` records in the inner instructions of the transaction `ixs` (paid by
/// `payer`) made, decoded as an RPC reader would (`meridian_sdk::history`).
pub fn records_of(ixs: &[Instruction], payer: &Pubkey, meta: &TransactionMetadata) -> Vec<EventsApplied> {
    let keys = solana_sdk::message::Message::new(ixs, Some(payer)).account_keys;
    let inner =
        meta.inner_instructions.iter().flatten().map(|i| {
            (i.instruction.program_id_index, i.instruction.accounts.as_slice(), i.instruction.data.as_slice())
        });
    meridian_sdk::history::records_in(&keys, inner)
}

/// A `consume_events` of `market` published exactly what it applied: one record, the market's,
/// with the first `applied` (its return value) of `queued` in queue order. Returns `applied`.
pub fn check_crank_record(
    market: &Pubkey,
    queued: &[meridian_engine::events::Event],
    meta: &TransactionMetadata,
    records: &[EventsApplied],
) -> Result<usize, String> {
    let applied = u16::from_le_bytes([meta.return_data.data[0], meta.return_data.data[1]]) as usize;
    let published: Vec<u64> = records.iter().flat_map(|r| r.events.iter().map(event_seq_num)).collect();
    let expected: Vec<u64> = queued.iter().take(applied).map(|e| e.seq_num).collect();
    match records {
        [r] if r.market == *market && published == expected => Ok(applied),
        _ => Err(format!(
            "consume_events applied {expected:?} but published {published:?} in {} record(s)",
            records.len()
        )),
    }
}

pub struct ExchangeFixture {
    pub admin: Keypair,
    pub exchange: Pubkey,
    pub collateral: CollateralAccounts,
}

pub struct Trader {
    pub owner: Keypair,
    pub token: Pubkey,
    pub margin: Pubkey,
}

impl Trader {
    /// A copy, so a test can hold a trader while handing the harness `&mut`.
    pub fn clone_ref(&self) -> Trader {
        Trader { owner: self.owner.insecure_clone(), token: self.token, margin: self.margin }
    }
}

/// A keypair that is the same in every run, so PDA bump searches (and compute units) reproduce.
pub fn fixed_keypair(seed: u8) -> Keypair {
    Keypair::new_from_array([seed; 32])
}

pub const SPL_TOKEN: Pubkey = TOKEN_PROGRAM_ID;
pub const TOKEN_2022: Pubkey = TOKEN_2022_PROGRAM_ID;

/// Zero-sum base and quote in a market whose events are all applied (funding owed, socialized loss
/// and rounding included; quote balances sum to the PnL pool; a settled market's positions counted
/// at their payoff), open interest = long lots (and a settled market's short interest = its short
/// lots), no rebate owed. Shared by the tests' assertion and the fuzzer's check.
pub fn market_balance(market: &Market, index: u16, accounts: &[(Pubkey, MarginAccount)]) -> Result<(), String> {
    let scale = meridian_engine::funding::FUNDING_SCALE;
    let (mut base, mut quote, mut longs, mut shorts) =
        (0i128, market.funding_rounding as i128 - market.pnl_pool as i128 * scale, 0u128, 0u128);
    // a settled market: each position settled so far moved its base into its quote balance at the
    // payoff, so base no longer sums to zero but base x payoff + quote still sums to the pool
    let settled_value = if market.is_settled() {
        market.settled_lot_value().map_err(|e| format!("market {index}: {e:?}"))?
    } else {
        0
    };
    for (_, a) in accounts {
        for p in a.positions_in_use().filter(|p| p.market_index == index) {
            base += p.base_lots as i128;
            quote += p.base_lots as i128 * settled_value as i128 * scale;
            quote += p.quote_balance as i128 * scale
                - p.base_lots as i128 * (market.funding_index() - p.funding_index())
                - p.base_lots.unsigned_abs() as i128 * (market.loss_index as i128 - p.loss_index as i128);
            longs += p.base_lots.max(0) as u128;
            shorts += p.base_lots.min(0).unsigned_abs() as u128;
        }
    }
    let base = if market.is_settled() { 0 } else { base };
    if (base, quote) != (0, 0) {
        return Err(format!(
            "market {index}: base {base} does not sum to zero, or quote x 10^9 to the PnL pool ({quote} off)"
        ));
    }
    if market.open_interest as u128 != longs {
        return Err(format!("market {index}: open interest {} != long lots {longs}", market.open_interest));
    }
    if market.is_settled() && market.short_interest as u128 != shorts {
        return Err(format!("market {index}: short interest {} != short lots {shorts}", market.short_interest));
    }
    if market.pending_rebates != 0 {
        return Err(format!("market {index}: {} of rebates owed with no event left", market.pending_rebates));
    }
    Ok(())
}
