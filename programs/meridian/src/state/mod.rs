pub mod exchange;
pub mod margin_account;
pub mod market;
pub mod oracle;
pub mod records;

pub use exchange::*;
pub use margin_account::*;
pub use market::*;
pub use oracle::*;
pub use records::*;
