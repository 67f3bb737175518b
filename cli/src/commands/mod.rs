pub mod account;
pub mod exchange;
