pub mod account;
pub mod exchange;
pub mod insurance;
pub mod liquidate;
pub mod market;
pub mod oracle;
pub mod order;
pub mod risk;
