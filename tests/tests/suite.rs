//! careledger's integration tests as one binary, OpenBook-style: each test binary links the whole
//! Agave runtime, so one binary with a module per suite (`cases/<suite>.rs`) builds and links it
//! once. Run one suite with `cargo test -p careledger-tests --test suite cases::claims`.
mod cases;
