pub mod close_margin_account;
pub mod create_margin_account;
pub mod deposit;
pub mod initialize_exchange;
pub mod math_probe;
pub mod set_paused;
pub mod withdraw;

pub use close_margin_account::*;
pub use create_margin_account::*;
pub use deposit::*;
pub use initialize_exchange::*;
pub use math_probe::*;
pub use set_paused::*;
pub use withdraw::*;
