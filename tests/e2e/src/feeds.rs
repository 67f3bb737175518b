//! Simulated oracle feeds on a local validator: Pyth `PriceUpdateV2` and Switchboard pull feed
//! accounts in their real formats (`meridian-oracle-sim`), owned by the real program ids (the
//! oracle writer is deployed there), updated by writing only the bytes that change.

use anyhow::Result;
use meridian_oracle_sim::{self as sim, writer, PythPrice, SwitchboardPrice};
use meridian_sdk::{
    client::Client,
    oracle::{ClusterClock, OracleSourceParams},
    OracleSourceKind,
};
use solana_sdk::{instruction::Instruction, message::Message, pubkey::Pubkey, signature::Keypair, signer::Signer};

pub enum FeedKind {
    Pyth { feed_id: [u8; 32] },
    Switchboard,
}

pub struct SimFeed {
    pub kind: FeedKind,
    pub account: Keypair,
    pub program: Pubkey,
    /// What the account holds now (diff base for the next write).
    pub data: Vec<u8>,
}

pub struct SimulatedFeeds {
    pub feeds: Vec<SimFeed>,
}

/// A 1232-byte packet minus signatures: how much write data one transaction carries.
const PACKET: usize = 1232;

impl SimulatedFeeds {
    /// Creates `pyth.len()` Pyth feeds (with these feed ids) and `switchboard` Switchboard feeds,
    /// zero-filled; `publish` gives them prices.
    pub async fn create(client: &Client, payer: &Keypair, pyth: &[[u8; 32]], switchboard: usize) -> Result<Self> {
        let mut feeds = Vec::new();
        for id in pyth {
            feeds.push((FeedKind::Pyth { feed_id: *id }, sim::PYTH_RECEIVER_ID, sim::PYTH_ACCOUNT_LEN));
        }
        for _ in 0..switchboard {
            feeds.push((FeedKind::Switchboard, sim::switchboard_program_id(), sim::SWITCHBOARD_ACCOUNT_LEN));
        }
        let mut out = Vec::new();
        for (kind, program, len) in feeds {
            let account = Keypair::new();
            let rent = client.rpc().get_minimum_balance_for_rent_exemption(len).await?;
            let create = anchor_lang::solana_program::system_instruction::create_account(
                &payer.pubkey(),
                &account.pubkey(),
                rent,
                len as u64,
                &program,
            );
            client.send(&[create], payer, &[&account]).await?;
            out.push(SimFeed { kind, account, program, data: vec![0; len] });
        }
        Ok(SimulatedFeeds { feeds: out })
    }

    /// The `create_oracle` sources for these feeds, in order.
    pub fn source_params(&self) -> Vec<OracleSourceParams> {
        self.feeds
            .iter()
            .map(|f| match f.kind {
                FeedKind::Pyth { feed_id } => OracleSourceParams { kind: OracleSourceKind::Pyth, id: feed_id },
                FeedKind::Switchboard => {
                    OracleSourceParams { kind: OracleSourceKind::Switchboard, id: f.account.pubkey().to_bytes() }
                }
            })
            .collect()
    }

    /// Publishes `prices[i]` (dollars; confidence 0.05%) on feed i at the cluster's current slot and
    /// time. Returns that clock.
    pub async fn publish(&mut self, client: &Client, payer: &Keypair, prices: &[f64]) -> Result<ClusterClock> {
        let clock = client.clock().await?;
        for (f, &dollars) in self.feeds.iter_mut().zip(prices) {
            let data = match f.kind {
                FeedKind::Pyth { feed_id } => {
                    let price = (dollars * 1e8).round() as i64;
                    sim::pyth_account_data(&PythPrice {
                        feed_id,
                        price,
                        conf: (price / 2_000) as u64,
                        exponent: -8,
                        publish_time: clock.unix_timestamp,
                        posted_slot: clock.slot,
                        partial_signatures: None,
                    })
                }
                FeedKind::Switchboard => {
                    let value = (dollars * 1e6).round() as i128 * 1_000_000_000_000;
                    sim::switchboard_account_data(&SwitchboardPrice {
                        value,
                        std_dev: value / 2_000,
                        slot: clock.slot,
                        timestamp: clock.unix_timestamp,
                        num_samples: 3,
                    })
                }
            };
            let writes: Vec<Instruction> = writer::diff_writes(&f.data, &data)
                .into_iter()
                .map(|(at, bytes)| writer::write_ix(&f.program, &f.account.pubkey(), at, &bytes))
                .collect();
            // as many writes per transaction as fit a packet
            let mut batch: Vec<Instruction> = Vec::new();
            for ix in writes {
                let mut next = batch.clone();
                next.push(ix.clone());
                let size = Message::new(&next, Some(&payer.pubkey())).serialize().len() + 1 + 2 * 64;
                if size > PACKET && !batch.is_empty() {
                    client.send(&batch, payer, &[&f.account]).await?;
                    batch = vec![ix];
                } else {
                    batch = next;
                }
            }
            if !batch.is_empty() {
                client.send(&batch, payer, &[&f.account]).await?;
            }
            f.data = data;
        }
        Ok(clock)
    }
}
