//! End to end on a real local validator (agave's in-process test validator): the program deployed
//! from target/deploy/meridian.so, the real `meridian` CLI and `meridian-keeper` binaries, the SDK's
//! RPC client. One test binary (each binary links the validator); a module per area. Most tests
//! start from `meridian_e2e::E2e::start` (validator, admin, bootstrapped exchange, CLI).
mod clients_and_keepers;
mod liquidation;
mod oracle;
mod trading;
