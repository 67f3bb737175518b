// A Meridian client in TypeScript, driven only by the committed IDL (../../idl/meridian.json):
// Anchor's `Program` builds every instruction and decodes every account and event by name.
//
// As the trader in MERIDIAN_KEYPAIR, on MERIDIAN_EXCHANGE / MERIDIAN_MARKET:
//   1. creates its margin account (sub-account MERIDIAN_SUB_ACCOUNT, default 0) unless it exists,
//   2. deposits MERIDIAN_DEPOSIT native units of the exchange's collateral from its associated
//      token account (or MERIDIAN_TOKEN_ACCOUNT),
//   3. rests a post-only bid 1% under the mark and cancels it,
//   4. buys MERIDIAN_SIZE lots immediate-or-cancel, limit 1% over the mark (it fills against the
//      resting asks of MERIDIAN_MAKERS: comma-separated margin accounts),
//   5. sends `consume_events` itself (anyone may), which applies the makers' side of the fills and
//      publishes them as an `EventsApplied` event (a self-CPI: an inner instruction, not a log),
//   6. decodes that event from the transaction,
//   7. withdraws a tenth of the deposit (with a position open the program checks the account's
//      health and records the reading),
//   8. reads its position and health history by field name and prints one JSON line.
// Any failure: the error on stderr, exit code 1.
//
// Run: npm ci && MERIDIAN_URL=... MERIDIAN_KEYPAIR=... ... npx tsx example.ts
import anchor, { type Idl } from "@coral-xyz/anchor";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import { Connection, Keypair, PublicKey, SendTransactionError, type AccountMeta } from "@solana/web3.js";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";

// @coral-xyz/anchor is a CommonJS package: from an ES module its exports come as the default import
const { AnchorProvider, BN, Program, Wallet, utils } = anchor;
type BN = InstanceType<typeof BN>;

function env(name: string, fallback?: string): string {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === "") throw new Error(`set ${name}`);
  return value;
}

// Anchor's event-CPI convention (anchor_lang::event::EVENT_IX_TAG_LE): the first 8 bytes of the
// instruction by which a program publishes an event, followed by the event's discriminator and
// its Borsh encoding. The instruction's first account is the program's event authority PDA.
const EVENT_IX_TAG = Buffer.from([0xe4, 0x45, 0xa5, 0x2e, 0x51, 0xcb, 0x9a, 0x1d]);

// A JSON-safe copy of decoded data: integers (BN) as decimal strings, keys as base58, enum
// variants ({ bid: {} }) as their name.
function plain(value: unknown): unknown {
  if (BN.isBN(value)) return (value as BN).toString();
  if (value instanceof PublicKey) return value.toBase58();
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as object);
    if (entries.length === 1 && isEmptyObject(entries[0][1])) return entries[0][0];
    return Object.fromEntries(entries.map(([k, v]) => [k, plain(v)]));
  }
  return value;
}
function isEmptyObject(v: unknown): boolean {
  return v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0;
}

async function main(): Promise<Record<string, unknown>> {
  const connection = new Connection(env("MERIDIAN_URL", "http://127.0.0.1:8899"), "confirmed");
  const keypairPath = env("MERIDIAN_KEYPAIR", `${homedir()}/.config/solana/id.json`);
  const trader = Keypair.fromSecretKey(Uint8Array.from(JSON.parse(readFileSync(keypairPath, "utf8"))));
  const provider = new AnchorProvider(connection, new Wallet(trader), { commitment: "confirmed" });
  const idlPath = process.env.MERIDIAN_IDL ?? new URL("../../idl/meridian.json", import.meta.url);
  const idl = JSON.parse(readFileSync(idlPath, "utf8")) as Idl;
  const program = new Program(idl, provider);
  // the IDL is read at run time, so TypeScript does not know its account types: decoded accounts
  // are `any` here, their fields the IDL's names camelCased by Anchor (market_index: marketIndex)
  const accounts = program.account as unknown as Record<string, { fetch(address: PublicKey): Promise<any> }>;
  const programId = program.programId;
  // the IDL's own numbers, by name
  const constant = (name: string): number => {
    const c = idl.constants?.find((c) => c.name === name);
    if (!c) throw new Error(`the IDL has no constant ${name}`);
    return Number(c.value);
  };

  const exchangeAddress = new PublicKey(env("MERIDIAN_EXCHANGE"));
  const marketAddress = new PublicKey(env("MERIDIAN_MARKET"));
  const makers = env("MERIDIAN_MAKERS")
    .split(",")
    .map((k) => new PublicKey(k.trim()));
  const depositAmount = new BN(env("MERIDIAN_DEPOSIT"));
  const size = new BN(env("MERIDIAN_SIZE"));
  const subAccount = Number(env("MERIDIAN_SUB_ACCOUNT", "0"));

  const exchange = await accounts.exchange.fetch(exchangeAddress);
  const market = await accounts.market.fetch(marketAddress);
  const tokenProgram: PublicKey = exchange.collateralTokenProgram;
  const ownerToken = process.env.MERIDIAN_TOKEN_ACCOUNT
    ? new PublicKey(process.env.MERIDIAN_TOKEN_ACCOUNT)
    : getAssociatedTokenAddressSync(exchange.collateralMint, trader.publicKey, false, tokenProgram);

  // 1. the margin account: PDA ["margin", exchange, owner, sub_account (u16 le)]
  const subAccountLe = Buffer.alloc(2);
  subAccountLe.writeUInt16LE(subAccount);
  const [marginAccount] = PublicKey.findProgramAddressSync(
    [Buffer.from("margin"), exchangeAddress.toBuffer(), trader.publicKey.toBuffer(), subAccountLe],
    programId,
  );
  if ((await connection.getAccountInfo(marginAccount)) === null) {
    await program.methods
      .createMarginAccount(subAccount)
      .accountsStrict({
        exchange: exchangeAddress,
        marginAccount,
        owner: trader.publicKey,
        payer: trader.publicKey,
        systemProgram: PublicKey.default,
      })
      .rpc();
  }

  // 2. deposit
  await program.methods
    .deposit(depositAmount)
    .accountsStrict({
      exchange: exchangeAddress,
      marginAccount,
      owner: trader.publicKey,
      ownerToken,
      vault: exchange.vault,
      collateralMint: exchange.collateralMint,
      tokenProgram,
    })
    .rpc();
  let account = await accounts.marginAccount.fetch(marginAccount);
  const collateral: BN = account.collateral;

  // the margin checks of place_order and withdraw take the markets of the account's positions as
  // remaining accounts, in position-slot order (place_order: all but its own market):
  // PDA ["market", exchange, index (u16 le)]
  const positionMarkets = (account: any, skip?: number): AccountMeta[] =>
    account.positions
      .filter((p: any) => p.inUse === 1 && p.marketIndex !== skip)
      .map((p: any) => {
        const index = Buffer.alloc(2);
        index.writeUInt16LE(p.marketIndex);
        const [pubkey] = PublicKey.findProgramAddressSync(
          [Buffer.from("market"), exchangeAddress.toBuffer(), index],
          programId,
        );
        return { pubkey, isSigner: false, isWritable: false };
      });
  const placeAccounts = {
    exchange: exchangeAddress,
    market: marketAddress,
    book: market.book,
    eventQueue: market.eventQueue,
    marginAccount,
    owner: trader.publicKey,
  };
  const mark: BN = market.markPrice;
  const onePercent = BN.max(mark.divn(100), new BN(1));
  // arguments are the IDL's enums, variants camelCased: { bid: {} }, { postOnly: {} }
  const order = (side: object, price: BN, lots: BN, kind: object, clientOrderId: number) => ({
    side,
    price,
    size: lots,
    orderKind: kind,
    selfTrade: { cancelMaker: {} },
    reduceOnly: false,
    clientOrderId: new BN(clientOrderId),
    expiryTs: new BN(0),
    matchLimit: 0,
  });

  // 3. a resting bid, found in the account's open orders by its id, then cancelled
  const bidPrice = mark.sub(onePercent);
  await program.methods
    .placeOrder(order({ bid: {} }, bidPrice, size, { postOnly: {} }, 1))
    .accountsStrict(placeAccounts)
    .remainingAccounts(positionMarkets(account, market.index))
    .rpc();
  account = await accounts.marginAccount.fetch(marginAccount);
  const restingSeq: BN = account.lastPlacement.orderSeq;
  const resting = account.openOrders.find((o: any) => o.inUse === 1 && o.seq.eq(restingSeq));
  // stored codes are plain numbers, named by the IDL's constants
  const restsAsBid = resting && resting.side === constant("SIDE_BID") && resting.price.eq(bidPrice);
  if (!restsAsBid || !account.lastPlacement.postedLots.eq(size)) {
    throw new Error(`the bid is not resting: ${JSON.stringify(plain(account.lastPlacement))}`);
  }
  await program.methods
    .cancelOrder(restingSeq)
    .accountsStrict({ market: marketAddress, book: market.book, marginAccount, owner: trader.publicKey })
    .rpc();
  account = await accounts.marginAccount.fetch(marginAccount);
  if (account.openOrders.some((o: any) => o.inUse === 1 && o.seq.eq(restingSeq))) {
    throw new Error(`order ${restingSeq} still open after cancel_order`);
  }

  // 4. a buy that crosses the makers' asks
  await program.methods
    .placeOrder(
      order({ bid: {} }, mark.add(onePercent), size, { immediateOrCancel: {} }, 2),
    )
    .accountsStrict(placeAccounts)
    .remainingAccounts(positionMarkets(account, market.index))
    .rpc();
  const taken = (await accounts.marginAccount.fetch(marginAccount)).lastPlacement;

  // 5. consume_events: the makers' accounts writable, after the named accounts
  const [eventAuthority] = PublicKey.findProgramAddressSync([Buffer.from("__event_authority")], programId);
  const makerMetas: AccountMeta[] = makers.map((pubkey) => ({ pubkey, isSigner: false, isWritable: true }));
  const signature = await program.methods
    .consumeEvents(16)
    .accountsStrict({
      exchange: exchangeAddress,
      market: marketAddress,
      eventQueue: market.eventQueue,
      rewardAccount: marginAccount,
      eventAuthority,
      program: programId,
    })
    .remainingAccounts(makerMetas)
    .rpc();

  // 6. the event, from the transaction's inner instructions
  // (a node stores a transaction's status a moment after confirming it: retry for a while)
  let tx = null;
  for (let attempt = 0; !tx?.meta && attempt < 240; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 500));
    tx = await connection.getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 });
  }
  if (!tx?.meta) throw new Error(`transaction ${signature} not found`);
  const keys = tx.transaction.message.getAccountKeys({ accountKeysFromLookups: tx.meta.loadedAddresses });
  const events = (tx.meta.innerInstructions ?? [])
    .flatMap((set) => set.instructions)
    .filter((ix) => keys.get(ix.programIdIndex)?.equals(programId) && keys.get(ix.accounts[0])?.equals(eventAuthority))
    .map((ix) => Buffer.from(utils.bytes.bs58.decode(ix.data)))
    .filter((data) => data.subarray(0, 8).equals(EVENT_IX_TAG))
    .map((data) => program.coder.events.decode(data.subarray(8).toString("base64")))
    .filter((e) => e !== null && e.name === "eventsApplied"); // the IDL's EventsApplied, camelCased
  if (events.length !== 1) {
    const inner = (tx.meta.innerInstructions ?? []).flatMap((set) => set.instructions);
    throw new Error(
      `expected one EventsApplied in ${signature}, found ${events.length}; the buy filled ` +
        `${taken.filledLots} lots; inner instructions: ` +
        JSON.stringify(inner.map((ix) => [keys.get(ix.programIdIndex)?.toBase58(), ix.accounts.map((a) => keys.get(a)?.toBase58()), ix.data.slice(0, 16)])) +
        `\nlogs:\n${(tx.meta.logMessages ?? []).join("\n")}`,
    );
  }
  const applied = events[0]!.data as any;
  // AppliedEvent is an enum Fill(FillRecord) | Out(OutRecord): { fill: { 0: record } }
  const fills = applied.events.filter((e: any) => e.fill).map((e: any) => e.fill[0]);
  const mine = fills.filter((f: any) => f.taker.equals(marginAccount));
  if (mine.length === 0) throw new Error(`no fill of ours in ${JSON.stringify(plain(applied))}`);

  // 7. a withdrawal: with a position open, the program checks the account's health and records
  // the reading in its health history
  const withdrawAmount = depositAmount.divn(10);
  account = await accounts.marginAccount.fetch(marginAccount);
  await program.methods
    .withdraw(withdrawAmount)
    .accountsStrict({
      exchange: exchangeAddress,
      marginAccount,
      owner: trader.publicKey,
      recipient: ownerToken,
      vault: exchange.vault,
      collateralMint: exchange.collateralMint,
      tokenProgram,
    })
    .remainingAccounts(positionMarkets(account))
    .rpc();

  // the position in this market and the health history, by field name
  account = await accounts.marginAccount.fetch(marginAccount);
  const position = account.positions.find((p: any) => p.inUse === 1 && p.marketIndex === market.index);
  if (!position) throw new Error(`no position in market ${market.index}`);
  const health = account.healthHistory.filter((h: any) => !h.slot.isZero());

  return {
    margin_account: marginAccount.toBase58(),
    collateral_after_deposit: collateral.toString(),
    cancelled_order_seq: restingSeq.toString(),
    taker: plain({
      orderSeq: taken.orderSeq,
      filledLots: taken.filledLots,
      filledQuote: taken.filledQuote,
      takerFee: taken.takerFee,
    }),
    consume_signature: signature,
    events_market: applied.market.toBase58(),
    events: applied.events.length,
    fill: plain(mine[0]),
    withdrawn: withdrawAmount.toString(),
    collateral: account.collateral.toString(),
    position_base_lots: position.baseLots.toString(),
    position: plain(position),
    health_windows: account.healthHistoryNext.toString(),
    health_history: plain(health),
  };
}

try {
  console.log(JSON.stringify(await main()));
  process.exit(0);
} catch (e) {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  if (e instanceof SendTransactionError) console.error((e.logs ?? []).join("\n"));
  process.exit(1);
}
