pub mod account;
pub mod exchange;
pub mod market;
pub mod order;
pub mod risk;
