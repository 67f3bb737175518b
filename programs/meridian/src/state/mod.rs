pub mod exchange;
pub mod margin_account;

pub use exchange::*;
pub use margin_account::*;
