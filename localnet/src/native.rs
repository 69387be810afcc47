//! careledger as a native builtin of LiteSVM, exactly as the embedded runtime registers it.
use solana_program_runtime::invoke_context::BuiltinFunctionWithContext;
use std::sync::Once;

/// `processor!` wraps the entry (the SDK's lifetime shim) in solana-program-test's builtin
/// adapter: it serialises the accounts as the SBF loader would and runs the program natively.
/// The type is spelled out: inferred inline, the closure's parameter type is "more general
/// than" the builtin type and does not compile.
pub fn careledger_builtin() -> BuiltinFunctionWithContext {
    let entry: Option<BuiltinFunctionWithContext> =
        solana_program_test::processor!(careledger_sdk::embedded::careledger_entry);
    entry.expect("processor! always gives Some")
}

/// A native program reaches other programs (CPIs), the sysvars and the logs through
/// solana-program-test's syscall stubs, which it installs process-wide the first time a
/// `ProgramTest` starts. Without them a CPI from careledger returns Ok and does nothing. One
/// bank is started and dropped, on a thread of its own so that this works inside or outside
/// an async runtime; its scratch files go under the process's TMPDIR (the CLI's
/// `ScratchDir`).
pub fn install_syscall_stubs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let started = std::thread::spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the syscall stubs' bank");
            runtime.block_on(async {
                drop(
                    solana_program_test::ProgramTest::default()
                        .start_with_context()
                        .await,
                );
            });
        });
        started
            .join()
            .expect("solana-program-test installs its syscall stubs");
    });
}
