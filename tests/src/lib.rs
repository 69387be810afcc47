//! Shared harness for the scenarios and the demo: a cluster with a deployed, configured
//! careledger, funded actors, and helpers that go through the SDK only.
//!
//! The cluster is the embedded runtime, unless `CARELEDGER_RPC_URL` is set: then the same
//! scenarios run against that cluster over JSON-RPC (`careledger localnet`, or the
//! solana-test-validator `anchor test` starts with the SBF build deployed), signed by the deployer
//! keypair (`ANCHOR_WALLET`, else the Solana CLI default), which must be the program's upgrade
//! authority. A scenario that moves the clock, pauses the config or hands it to another admin
//! would change every scenario running beside it on a shared cluster: on a careledger localnet
//! it gets a localnet of its own ([`skip_unless_own_cluster`]), started in this process and
//! reached over JSON-RPC like the shared one, whose clock it moves with `surfnet_timeTravel`; on
//! any other cluster it skips itself, saying why. Scenarios that need the embedded bank's
//! internals (placing arbitrary accounts, a config-less program) skip themselves on any cluster.
use careledger_sdk::embedded::EmbeddedTransport;
use careledger_sdk::rpc::RpcTransport;
use careledger_sdk::{action, CareledgerError, Config, Transport};
use careledger_sdk::{ix, pda, tokens, Client, SdkError, TxOutcome};
use careledger_sdk::{
    BreakGlassOpenArgs, ConfigInitArgs, GrantCreateArgs, ProviderRegisterArgs, ProviderVerifyArgs,
    Purpose, RecordAnchorArgs, NO_RECORD_SCOPE,
};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

pub use careledger_sdk;

pub mod fuzz;
pub mod invariants;
pub mod supply;

pub const DAY: i64 = 24 * 60 * 60;
pub const BREAK_GLASS_CAP_SECS: u32 = 4 * 60 * 60;

/// Runs a binary's async `main` as the CLI does: `RUST_LOG=error` unless set, the embedded
/// runtime's scratch files in a directory of the process's own (removed at the end, so TMPDIR
/// is left as it was found), a multi-threaded runtime shut down before that directory goes.
pub fn run_main<F: std::future::Future>(main: impl FnOnce() -> F) -> F::Output {
    if std::env::var_os("RUST_LOG").is_none() {
        std::env::set_var("RUST_LOG", "error");
    }
    let scratch = careledger_sdk::embedded::ScratchDir::enter();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime");
    let out = runtime.block_on(main());
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    drop(scratch);
    out
}

/// The environment variable that points the scenarios at a real cluster.
pub const RPC_URL_VAR: &str = "CARELEDGER_RPC_URL";

/// True (and says so) when the scenarios run against a real cluster, where `reason` makes the
/// calling scenario impossible: it should return at once.
pub fn skip_on_cluster(reason: &str) -> bool {
    let on_cluster = std::env::var_os(RPC_URL_VAR).is_some();
    if on_cluster {
        eprintln!("skipped on a real cluster: this scenario {reason}");
    }
    on_cluster
}

thread_local! {
    /// Set by [`skip_unless_own_cluster`]: this thread's scenario builds its `Env` on a
    /// localnet of its own. A `#[tokio::test]` runs on its own thread, start to end.
    static OWN_CLUSTER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// For a scenario that moves the clock, pauses the config or hands it to another admin (said
/// by `reason`); call it before the scenario builds its scene. On the embedded runtime every
/// scenario has a bank of its own already: false. Against a careledger localnet: false, and
/// the `Env`s this thread builds from now on run on a localnet of their own, started in this
/// process and reached over JSON-RPC. Against any other cluster: true (and says why), and the
/// scenario should return at once.
pub async fn skip_unless_own_cluster(reason: &str) -> bool {
    let Ok(url) = std::env::var(RPC_URL_VAR) else {
        return false;
    };
    if is_careledger_localnet(&url).await {
        OWN_CLUSTER.with(|own| own.set(true));
        false
    } else {
        eprintln!("skipped on a real cluster: this scenario {reason}");
        true
    }
}

/// For a scene that moves the clock when it can (the claims fixture starts the care 10 days
/// before the record): on a careledger localnet, this thread's `Env`s get a localnet of their
/// own; on any other cluster nothing changes and the scene leaves the clock alone.
pub async fn prefer_own_cluster() {
    if let Ok(url) = std::env::var(RPC_URL_VAR) {
        if is_careledger_localnet(&url).await {
            OWN_CLUSTER.with(|own| own.set(true));
        }
    }
}

/// Whether `url` serves a careledger localnet (its `getVersion` names it), asked once.
pub async fn is_careledger_localnet(url: &str) -> bool {
    static ANSWER: tokio::sync::OnceCell<bool> = tokio::sync::OnceCell::const_new();
    *ANSWER
        .get_or_init(|| async {
            let client = solana_rpc_client::nonblocking::rpc_client::RpcClient::new(url.into());
            let version: Result<serde_json::Value, _> = client
                .send(
                    solana_rpc_client_api::request::RpcRequest::GetVersion,
                    serde_json::Value::Null,
                )
                .await;
            version.is_ok_and(|v| v.get("careledger-localnet").is_some())
        })
        .await
}

/// The keypair the scenarios sign with on a cluster: `ANCHOR_WALLET`, else the Solana CLI's.
fn deployer() -> Keypair {
    let path = std::env::var("ANCHOR_WALLET").unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_default();
        format!("{home}/.config/solana/id.json")
    });
    solana_keypair::read_keypair_file(&path)
        .unwrap_or_else(|e| panic!("deployer keypair {path}: {e}"))
}

/// Where the scenarios run: one interface over both transports.
pub use careledger_sdk::any_transport::AnyTransport as Cluster;

/// The embedded transport of a scenario that needs it (guard with `skip_on_cluster`).
pub trait EmbeddedOnly {
    fn embedded(&self) -> &EmbeddedTransport;
}

impl EmbeddedOnly for Cluster {
    fn embedded(&self) -> &EmbeddedTransport {
        self.as_embedded()
            .expect("needs the embedded runtime: guard with skip_on_cluster")
    }
}

pub struct Env {
    pub client: Client<Cluster, Keypair>,
    pub upgrade_authority: Keypair,
    pub admin: Keypair,
    pub credential_authority: Keypair,
    /// Check the ledger invariants around every `send` (embedded runtime only; on by default).
    invariant_checks: std::sync::atomic::AtomicBool,
    /// The scenario's own localnet (see [`skip_unless_own_cluster`]), stopped with the `Env`.
    localnet: Option<careledger_localnet::Localnet>,
}

impl Env {
    /// A fresh bank with careledger deployed and its config created by the upgrade authority;
    /// or, with `CARELEDGER_RPC_URL` set, that cluster with its config (created if missing).
    pub async fn new() -> Env {
        if let Ok(url) = std::env::var(RPC_URL_VAR) {
            if OWN_CLUSTER.with(|own| own.get()) {
                return Env::on_own_localnet().await;
            }
            return Env::on_cluster(url, deployer()).await;
        }
        let env = Env::bare().await;
        let args = ConfigInitArgs {
            admin: env.admin.pubkey(),
            credential_authority: env.credential_authority.pubkey(),
            max_break_glass_secs: BREAK_GLASS_CAP_SECS,
        };
        careledger_sdk::setup::init_config(&env.client, &env.upgrade_authority, args)
            .await
            .expect("config init");
        env
    }

    /// A real cluster: the deployer keypair is the upgrade authority, the admin and the
    /// credential authority, so that every scenario can verify providers.
    async fn on_cluster(url: String, deployer: Keypair) -> Env {
        let transport = RpcTransport::new(url, Default::default());
        let env = Env {
            client: Client::new(Cluster::Rpc(transport), deployer.insecure_clone()),
            upgrade_authority: deployer.insecure_clone(),
            admin: deployer.insecure_clone(),
            credential_authority: deployer,
            invariant_checks: false.into(),
            localnet: None,
        };
        let args = ConfigInitArgs {
            admin: env.admin.pubkey(),
            credential_authority: env.credential_authority.pubkey(),
            max_break_glass_secs: BREAK_GLASS_CAP_SECS,
        };
        // scenarios start side by side: one of them creates the config, the others find it
        let created =
            careledger_sdk::setup::init_config(&env.client, &env.upgrade_authority, args.clone())
                .await;
        if let Err(e) = created {
            assert_eq!(
                e.program_error(),
                Some(CareledgerError::ConfigAlreadyInitialized),
                "config init: {e}"
            );
            careledger_sdk::setup::init_config(&env.client, &env.upgrade_authority, args)
                .await
                .expect("config init");
        }
        let config: Config = env.client.fetch(&pda::config()).await.expect("config");
        assert!(
            config.credential_authority == env.credential_authority.pubkey()
                && config.max_break_glass_secs == BREAK_GLASS_CAP_SECS
                && !config.paused,
            "the cluster's config was made by another run: restart the validator with --reset"
        );
        env
    }

    /// A localnet of this scenario's own, on ports it picks, with a new upgrade authority:
    /// the same JSON-RPC path as the shared cluster, with a clock and a config nobody else uses.
    pub async fn on_own_localnet() -> Env {
        let (localnet, deployer) = Env::start_own_localnet().await;
        let mut env = Env::on_cluster(localnet.rpc_url(), deployer).await;
        env.localnet = Some(localnet);
        env
    }

    /// A localnet of the scenario's own and its upgrade authority, funded.
    async fn start_own_localnet() -> (careledger_localnet::Localnet, Keypair) {
        let deployer = Keypair::new();
        // the clock moves only when the scenario moves it, as the embedded bank's does: a step
        // set to the second before an expiry is not overtaken by the host's clock
        let localnet = careledger_localnet::Localnet::start(careledger_localnet::Config {
            rpc_port: 0,
            pubsub_port: Some(0),
            frozen_time: true,
            ..careledger_localnet::Config::new(deployer.pubkey())
        })
        .expect("a localnet of the scenario's own");
        let transport = RpcTransport::new(localnet.rpc_url(), Default::default());
        transport
            .airdrop(&deployer.pubkey(), 1_000_000_000_000)
            .await
            .expect("fund the deployer");
        (localnet, deployer)
    }

    /// A fresh bank with careledger deployed but no config yet; over JSON-RPC a localnet of
    /// the scenario's own (guard it with [`skip_unless_own_cluster`]).
    pub async fn bare() -> Env {
        if std::env::var_os(RPC_URL_VAR).is_some() {
            assert!(
                OWN_CLUSTER.with(|own| own.get()),
                "a program with no config needs a cluster of the scenario's own: guard it with skip_unless_own_cluster"
            );
            let (localnet, deployer) = Env::start_own_localnet().await;
            let transport = RpcTransport::new(localnet.rpc_url(), Default::default());
            let env = Env {
                client: Client::new(Cluster::Rpc(transport), deployer.insecure_clone()),
                upgrade_authority: deployer,
                admin: Keypair::new(),
                credential_authority: Keypair::new(),
                invariant_checks: false.into(),
                localnet: Some(localnet),
            };
            for k in [&env.admin, &env.credential_authority] {
                env.fund(&k.pubkey()).await;
            }
            return env;
        }
        let upgrade_authority = Keypair::new();
        let transport = EmbeddedTransport::start(&upgrade_authority.pubkey()).await;
        let payer = Keypair::new();
        transport
            .fund(&payer.pubkey(), 100_000_000_000)
            .await
            .expect("fund payer");
        let env = Env {
            client: Client::new(Cluster::Embedded(Box::new(transport)), payer),
            upgrade_authority,
            admin: Keypair::new(),
            credential_authority: Keypair::new(),
            invariant_checks: true.into(),
            localnet: None,
        };
        for k in [
            &env.upgrade_authority,
            &env.admin,
            &env.credential_authority,
        ] {
            env.fund(&k.pubkey()).await;
        }
        env
    }

    pub async fn fund(&self, who: &Pubkey) {
        // An airdrop on a validator is capped; 2 SOL pays for many accounts' rent.
        self.client
            .transport()
            .fund(who, 2_000_000_000)
            .await
            .expect("fund");
    }

    /// A new funded keypair.
    pub async fn actor(&self) -> Keypair {
        let k = Keypair::new();
        self.fund(&k.pubkey()).await;
        k
    }

    pub async fn now(&self) -> i64 {
        self.client
            .transport()
            .unix_timestamp()
            .await
            .expect("clock")
    }

    pub async fn send(
        &self,
        instruction: solana_instruction::Instruction,
        signers: &[&Keypair],
    ) -> Result<TxOutcome, SdkError> {
        self.send_all(&[instruction], signers).await
    }

    /// Sends one transaction; on the embedded runtime, checks every ledger invariant against
    /// the ledger before and after it (a failed transaction must change nothing) and panics
    /// with the violations.
    pub async fn send_all(
        &self,
        instructions: &[solana_instruction::Instruction],
        signers: &[&Keypair],
    ) -> Result<TxOutcome, SdkError> {
        let dyn_signers: Vec<&careledger_sdk::DynSigner> = signers
            .iter()
            .map(|k| *k as &careledger_sdk::DynSigner)
            .collect();
        if !self.checks_invariants() {
            let result = self.client.send(instructions, &dyn_signers).await;
            if result.is_ok() && self.is_shared_cluster() {
                assert!(
                    !instructions.iter().any(changes_shared_settings),
                    "this scenario changed the config every scenario on this cluster shares: \
                     guard it with skip_unless_own_cluster"
                );
            }
            return result;
        }
        let (before, now) = (self.ledger().await, self.now().await);
        let result = self.client.send(instructions, &dyn_signers).await;
        let after = self.ledger().await;
        let mut keys: Vec<Pubkey> = signers.iter().map(|k| k.pubkey()).collect();
        keys.push(self.client.payer());
        let facts = invariants::TxFacts {
            succeeded: result.is_ok(),
            signers: &keys,
            now,
            only_careledger: instructions
                .iter()
                .all(|i| i.program_id == careledger_sdk::program::ID),
        };
        let violations = invariants::check(&before, &after, &facts);
        assert!(
            violations.is_empty(),
            "invariants broken by {result:?}:\n{}",
            violations.join("\n")
        );
        result
    }

    /// A cluster other scenarios use at the same time (not the embedded bank, nor a localnet
    /// of this scenario's own).
    fn is_shared_cluster(&self) -> bool {
        self.client.transport().as_embedded().is_none() && self.localnet.is_none()
    }

    /// Whether this scenario may move the clock: its own embedded bank or its own localnet.
    pub fn moves_clock(&self) -> bool {
        !self.is_shared_cluster()
    }

    fn checks_invariants(&self) -> bool {
        self.invariant_checks
            .load(std::sync::atomic::Ordering::Relaxed)
            && self.client.transport().as_embedded().is_some()
    }

    /// Turns the invariant checks around `send` on or off (the benchmark turns them off).
    pub fn set_invariant_checks(&self, on: bool) {
        self.invariant_checks
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Every account the embedded runtime knows of, decoded for the invariant checks.
    pub async fn ledger(&self) -> invariants::Ledger {
        let known = self.client.transport().embedded().known_addresses().await;
        self.ledger_of(&known).await
    }

    /// The given accounts (those that exist), decoded for the invariant checks.
    pub async fn ledger_of(&self, addresses: &[Pubkey]) -> invariants::Ledger {
        let mut ledger = invariants::Ledger::default();
        for address in addresses {
            if let Some(account) = self
                .client
                .transport()
                .account(address)
                .await
                .expect("account")
            {
                ledger.insert(*address, &account);
            }
        }
        ledger
    }

    /// A new SPL mint with a fresh authority, returned with that authority.
    pub async fn mint(&self, decimals: u8) -> (Pubkey, Keypair) {
        let (mint, authority) = (Keypair::new(), self.actor().await);
        let ixs = tokens::create_mint(
            &authority.pubkey(),
            &mint.pubkey(),
            &authority.pubkey(),
            decimals,
        );
        self.send_all(&ixs, &[&authority, &mint])
            .await
            .expect("create mint");
        (mint.pubkey(), authority)
    }

    /// A new token account for `mint` owned by `owner`.
    pub async fn token_account(&self, mint: &Pubkey, owner: &Pubkey) -> Pubkey {
        let account = Keypair::new();
        let payer = self.actor().await;
        let ixs = tokens::create_token_account(&payer.pubkey(), &account.pubkey(), mint, owner);
        self.send_all(&ixs, &[&payer, &account])
            .await
            .expect("create token account");
        account.pubkey()
    }

    pub async fn mint_to(&self, mint: &Pubkey, authority: &Keypair, to: &Pubkey, amount: u64) {
        self.send(
            tokens::mint_to(mint, to, &authority.pubkey(), amount),
            &[authority],
        )
        .await
        .expect("mint to");
    }

    pub async fn balance(&self, token_account: &Pubkey) -> u64 {
        self.client
            .token_balance(token_account)
            .await
            .expect("token balance")
            .amount
    }

    pub async fn register_patient(&self) -> Keypair {
        let patient = self.actor().await;
        self.send(
            ix::PatientRegister {
                wallet: patient.pubkey(),
            }
            .instruction(),
            &[&patient],
        )
        .await
        .expect("patient register");
        patient
    }

    /// A provider registered and verified with `roles` for a year.
    pub async fn verified_provider(&self, roles: u8) -> Keypair {
        let provider = self.actor().await;
        let args = ProviderRegisterArgs {
            supply_roles: 0,
            roles,
            credential_ref: [0x11; 32],
        };
        self.send(
            ix::ProviderRegister {
                wallet: provider.pubkey(),
                args,
            }
            .instruction(),
            &[&provider],
        )
        .await
        .expect("provider register");
        self.verify(&provider.pubkey(), roles, self.now().await + 365 * DAY)
            .await
            .expect("provider verify");
        provider
    }

    pub async fn verify(
        &self,
        wallet: &Pubkey,
        roles: u8,
        expires_at: i64,
    ) -> Result<TxOutcome, SdkError> {
        let args = ProviderVerifyArgs {
            supply_roles: 0,
            roles,
            credential_expires_at: expires_at,
            credential_ref: [0; 32],
        };
        let instruction = ix::ProviderVerify {
            authority: self.credential_authority.pubkey(),
            provider_wallet: *wallet,
            args,
        }
        .instruction();
        self.send(instruction, &[&self.credential_authority]).await
    }

    /// Anchors a record as the patient and returns its address.
    pub async fn anchor_as_patient(&self, patient: &Keypair, class: u8, seed: u8) -> Pubkey {
        let wallet = patient.pubkey();
        let index = self.patient(&wallet).await.record_count;
        let args = RecordAnchorArgs {
            cid: sample_cid(seed),
            content_sha256: [seed.max(1); 32],
            class,
        };
        let instruction = ix::RecordAnchor {
            patient_wallet: wallet,
            index,
            author: ix::Author::Patient,
            args,
        }
        .instruction();
        self.send(instruction, &[patient]).await.expect("anchor");
        pda::record(&wallet, index).0
    }

    /// Grants `grantee` the classes for `purpose`, for `days`, signed by the patient.
    pub async fn grant(
        &self,
        patient: &Keypair,
        grantee: &Pubkey,
        purpose: Purpose,
        classes: u16,
        actions: u8,
        days: i64,
    ) -> Result<Pubkey, SdkError> {
        let args = GrantCreateArgs {
            purpose,
            classes,
            actions,
            record_scope: NO_RECORD_SCOPE,
            not_before: 0,
            expires_at: self.now().await + days * DAY,
        };
        let wallet = patient.pubkey();
        self.send(
            ix::GrantCreate {
                authority: wallet,
                patient_wallet: wallet,
                grantee_wallet: *grantee,
                args,
            }
            .instruction(),
            &[patient],
        )
        .await?;
        Ok(pda::grant(&wallet, grantee, purpose).0)
    }

    /// The two instructions of a grant made against its consent statement: `signer` (the
    /// patient or guardian) signs the statement for `args` in `form` (a v0 envelope uses an
    /// all-zero application domain), as a wallet would, and the Ed25519 check of it precedes
    /// `grant_create_signed`. Also returns the statement.
    pub async fn signed_grant(
        &self,
        signer: &Keypair,
        patient_wallet: &Pubkey,
        grantee: &Pubkey,
        args: GrantCreateArgs,
        form: careledger_sdk::statement::SignedForm,
    ) -> ([solana_instruction::Instruction; 2], Vec<u8>) {
        use careledger_sdk::statement::{self as st, SignedForm};
        let patient = self.patient(patient_wallet).await;
        let statement = st::for_grant(&patient, &signer.pubkey(), grantee, &args, self.now().await)
            .expect("statement");
        let signed_message = match form {
            SignedForm::Plain => statement.clone(),
            SignedForm::OffchainV0 => st::offchain_v0(&statement, &signer.pubkey(), &[0; 32]),
            SignedForm::OffchainLegacy => st::offchain_legacy(&statement),
            SignedForm::OffchainV1 => st::offchain_v1(&statement, &signer.pubkey()),
        };
        let signature = signer.sign_message(&signed_message);
        let ixs = ix::GrantCreateSigned {
            authority: signer.pubkey(),
            patient_wallet: *patient_wallet,
            grantee_wallet: *grantee,
            args,
            signed_message,
            signature: signature.into(),
        }
        .instructions();
        (ixs, statement)
    }

    pub async fn break_glass(
        &self,
        clinician: &Keypair,
        patient: &Pubkey,
        window_secs: u32,
    ) -> Result<Pubkey, SdkError> {
        let args = BreakGlassOpenArgs {
            classes: u16::MAX,
            actions: action::READ,
            window_secs,
            reason_code: 7,
        };
        let serial = self
            .client
            .next_emergency_serial(patient, &clinician.pubkey())
            .await?;
        self.send(
            ix::BreakGlassOpen {
                clinician: clinician.pubkey(),
                patient_wallet: *patient,
                serial,
                args,
            }
            .instruction(),
            &[clinician],
        )
        .await?;
        Ok(pda::emergency_grant(patient, &clinician.pubkey(), serial).0)
    }

    pub async fn patient(&self, wallet: &Pubkey) -> careledger_sdk::Patient {
        self.client
            .fetch(&pda::patient(wallet).0)
            .await
            .expect("patient")
    }

    /// The raw bytes and lamports of accounts, to prove a rejected call changed nothing.
    pub async fn snapshot(&self, addresses: &[Pubkey]) -> Vec<Option<(u64, Vec<u8>)>> {
        let mut out = Vec::new();
        for a in addresses {
            let account = self.client.transport().account(a).await.expect("account");
            out.push(account.map(|acc| (acc.lamports, acc.data)));
        }
        out
    }

    /// Sends, expects exactly the program error `expected`, and checks `watched` accounts are
    /// byte-identical afterwards.
    pub async fn expect_rejected(
        &self,
        instruction: solana_instruction::Instruction,
        signers: &[&Keypair],
        expected: CareledgerError,
        watched: &[Pubkey],
    ) {
        let err = self
            .expect_anchor_error(instruction, signers, u32::from(expected), watched)
            .await;
        assert_eq!(err.program_error(), Some(expected), "got {err}");
    }

    /// Sends, expects exactly custom error `code` (ours or an Anchor framework code), checks
    /// `watched` accounts are byte-identical afterwards, and returns the error.
    pub async fn expect_anchor_error(
        &self,
        instruction: solana_instruction::Instruction,
        signers: &[&Keypair],
        code: u32,
        watched: &[Pubkey],
    ) -> SdkError {
        let before = self.snapshot(watched).await;
        let err = self
            .send(instruction, signers)
            .await
            .expect_err("instruction should have been rejected");
        assert_eq!(err.custom_code(), Some(code), "got {err}");
        assert_eq!(
            before,
            self.snapshot(watched).await,
            "a rejected call changed state"
        );
        err
    }

    /// Places `account` at `address` as it is: in the embedded bank, or over JSON-RPC in a
    /// localnet of the scenario's own (`surfnet_setAccount`; guard the scenario with
    /// [`skip_unless_own_cluster`]). Attack tests use it for accounts no instruction would make.
    pub async fn set_account(&self, address: &Pubkey, account: solana_account::Account) {
        match self.client.transport() {
            Cluster::Embedded(t) => t.set_account(address, account).await,
            Cluster::Rpc(t) => {
                assert!(
                    !self.is_shared_cluster(),
                    "this scenario places accounts on a cluster other scenarios share: guard it \
                     with skip_unless_own_cluster"
                );
                let hex: String = account.data.iter().map(|b| format!("{b:02x}")).collect();
                let params = serde_json::json!([address.to_string(), {
                    "lamports": account.lamports,
                    "data": hex,
                    "owner": account.owner.to_string(),
                    "executable": account.executable,
                    "rentEpoch": account.rent_epoch,
                }]);
                let _: serde_json::Value = t
                    .client()
                    .send(
                        solana_rpc_client_api::request::RpcRequest::Custom {
                            method: "surfnet_setAccount",
                        },
                        params,
                    )
                    .await
                    .unwrap_or_else(|e| panic!("surfnet_setAccount {address}: {e}"));
            }
        }
    }

    /// Moves the clock to `unix_timestamp`: the embedded bank's, or over JSON-RPC a careledger
    /// localnet's (`surfnet_timeTravel`, forward only; guard the scenario with
    /// [`skip_unless_own_cluster`]).
    pub async fn set_clock(&self, unix_timestamp: i64) {
        match self.client.transport() {
            Cluster::Embedded(t) => t
                .set_unix_timestamp(unix_timestamp)
                .await
                .expect("set clock"),
            Cluster::Rpc(t) => {
                assert!(
                    !self.is_shared_cluster(),
                    "this scenario moves the clock of a cluster other scenarios share: guard it \
                     with skip_unless_own_cluster"
                );
                let params = serde_json::json!([{ "absoluteTimestamp": unix_timestamp * 1000 }]);
                let _: serde_json::Value = t
                    .client()
                    .send(
                        solana_rpc_client_api::request::RpcRequest::Custom {
                            method: "surfnet_timeTravel",
                        },
                        params,
                    )
                    .await
                    .unwrap_or_else(|e| panic!("surfnet_timeTravel to {unix_timestamp}: {e}"));
            }
        }
    }
}

/// Pausing, handing over or changing the config: what a scenario on a shared cluster must not
/// do to the others.
fn changes_shared_settings(instruction: &solana_instruction::Instruction) -> bool {
    use anchor_lang::Discriminator;
    use careledger::instruction as ix_data;
    instruction.program_id == careledger_sdk::program::ID
        && [
            ix_data::ConfigSetPaused::DISCRIMINATOR,
            ix_data::ConfigProposeAdmin::DISCRIMINATOR,
            ix_data::ConfigAcceptAdmin::DISCRIMINATOR,
            ix_data::ConfigUpdate::DISCRIMINATOR,
        ]
        .iter()
        .any(|d| instruction.data.starts_with(d))
}

/// The common starting point of consent scenarios: a registered patient with one lab-result
/// record, a verified clinician, and a 30-day read grant for treatment on lab results.
pub struct ConsentScene {
    pub env: Env,
    pub patient: Keypair,
    pub clinic: Keypair,
    pub record: Pubkey,
    pub grant: Pubkey,
}

impl ConsentScene {
    pub async fn new() -> ConsentScene {
        use careledger_sdk::classes::RecordClass;
        let env = Env::new().await;
        let patient = env.register_patient().await;
        let clinic = env.verified_provider(careledger_sdk::ROLE_CLINICIAN).await;
        let lab = RecordClass::LabResult;
        let record = env.anchor_as_patient(&patient, lab.id(), 1).await;
        let grant = env
            .grant(
                &patient,
                &clinic.pubkey(),
                Purpose::Treatment,
                lab.bit(),
                action::READ,
                30,
            )
            .await
            .expect("treatment grant");
        ConsentScene {
            env,
            patient,
            clinic,
            record,
            grant,
        }
    }
}

/// A distinct, valid CIDv1 (raw, sha2-256) per seed.
pub fn sample_cid(seed: u8) -> Vec<u8> {
    careledger_sdk::cid::raw_cid_v1(&[seed.max(1); 32])
}

/// Puts `to` in the one account slot of `ix` that holds `from`: attack tests swap an account by
/// its key, never by its position, so a changed account order cannot make them test another
/// slot. Panics unless exactly one slot holds `from`.
pub fn swap_account(ix: &mut solana_instruction::Instruction, from: &Pubkey, to: Pubkey) {
    let slots: Vec<usize> = (0..ix.accounts.len())
        .filter(|i| ix.accounts[*i].pubkey == *from)
        .collect();
    assert_eq!(
        slots.len(),
        1,
        "{from} is in slots {slots:?}, not in exactly one"
    );
    ix.accounts[slots[0]].pubkey = to;
}

/// Puts `to` in the signer slot of `ix` that holds `from` (the same key may also fill a slot
/// that does not sign, e.g. a rent destination). Panics unless exactly one signer slot holds it.
pub fn swap_signer(ix: &mut solana_instruction::Instruction, from: &Pubkey, to: Pubkey) {
    let slots: Vec<usize> = (0..ix.accounts.len())
        .filter(|i| ix.accounts[*i].pubkey == *from && ix.accounts[*i].is_signer)
        .collect();
    assert_eq!(
        slots.len(),
        1,
        "{from} signs in slots {slots:?}, not in exactly one"
    );
    ix.accounts[slots[0]].pubkey = to;
}

/// Turns the signer slot holding `key` into a read-only account that does not sign.
pub fn unsign(ix: &mut solana_instruction::Instruction, key: &Pubkey) {
    let slots: Vec<usize> = (0..ix.accounts.len())
        .filter(|i| ix.accounts[*i].pubkey == *key && ix.accounts[*i].is_signer)
        .collect();
    assert_eq!(
        slots.len(),
        1,
        "{key} signs in slots {slots:?}, not in exactly one"
    );
    let meta = &mut ix.accounts[slots[0]];
    meta.is_signer = false;
    meta.is_writable = false;
}

/// How a [`StudyScene`]'s study is set up.
#[derive(Clone, Copy, Debug)]
pub struct StudySetup {
    pub terms: careledger_sdk::RewardTerms,
    pub max_participants: u32,
    pub data_use_code: u32,
    /// Moved from the sponsor's tokens into the vault after creation (0: not funded).
    pub funding: u64,
}

/// A verified research sponsor with a study (study id 1, lab results, enrolment open from a
/// minute ago for 30 days) paying in a 0-decimal mint, the sponsor holding 1,000,000 tokens:
/// what every rewards suite starts from.
pub struct StudyScene {
    pub env: Env,
    pub sponsor: Keypair,
    pub keys: ix::StudyKeys,
    pub mint_authority: Keypair,
    pub sponsor_tokens: Pubkey,
    /// The registered protocol's current version, and its pre-specified outcome sets.
    pub protocol: ix::ProtocolRef,
    pub outcomes: TrialOutcomes,
}

/// The pre-specified outcome sets a scene's protocol commits to (the salts the sponsor keeps).
#[derive(Clone, Debug)]
pub struct TrialOutcomes {
    pub primary: careledger_sdk::trials::OutcomeSet,
    pub secondary: careledger_sdk::trials::OutcomeSet,
}

/// The document hash of the protocol every scene registers (version 1).
pub const PROTOCOL_V1_SHA256: [u8; 32] = [0x51; 32];

/// Registers `study`'s protocol as its sponsor: registry id NCT00000001, document
/// [`PROTOCOL_V1_SHA256`], one primary and two secondary outcomes, `planned` participants.
pub async fn register_protocol(
    env: &Env,
    sponsor: &Keypair,
    study: &Pubkey,
    planned: u32,
) -> (ix::ProtocolRef, TrialOutcomes) {
    use careledger_sdk::trials::{registry_id, OutcomeSet};
    let outcomes = TrialOutcomes {
        primary: OutcomeSet::with_salt([0x61; 32], &["change in HbA1c at 26 weeks"]),
        secondary: OutcomeSet::with_salt(
            [0x62; 32],
            &["body weight at 26 weeks", "hypoglycaemic events"],
        ),
    };
    let register = ix::ProtocolRegister {
        sponsor: sponsor.pubkey(),
        study: *study,
        args: careledger_sdk::ProtocolRegisterArgs {
            registry_id: registry_id("NCT00000001").expect("a registry id"),
            document_sha256: PROTOCOL_V1_SHA256,
            document_cid: vec![],
            primary_outcomes: outcomes.primary.commitment(),
            secondary_outcomes: outcomes.secondary.commitment(),
            planned_enrolment: planned,
        },
    };
    env.send(register.instruction(), &[sponsor])
        .await
        .expect("protocol register");
    let protocol = ix::ProtocolRef {
        version: 1,
        document_sha256: PROTOCOL_V1_SHA256,
    };
    (protocol, outcomes)
}

impl StudyScene {
    pub async fn new(setup: StudySetup) -> StudyScene {
        use careledger_sdk::classes::RecordClass;
        let env = Env::new().await;
        let sponsor = env.verified_provider(careledger_sdk::ROLE_RESEARCHER).await;
        let (mint, mint_authority) = env.mint(0).await;
        let sponsor_tokens = env.token_account(&mint, &sponsor.pubkey()).await;
        env.mint_to(&mint, &mint_authority, &sponsor_tokens, 1_000_000)
            .await;
        let keys = ix::StudyKeys::new(&sponsor.pubkey(), 1, &mint);
        let now = env.now().await;
        let args = careledger_sdk::StudyCreateArgs {
            study_id: 1,
            terms: setup.terms,
            classes: RecordClass::LabResult.bit(),
            data_use_code: setup.data_use_code,
            enrol_start: now - 60,
            enrol_end: now + 30 * DAY,
            max_participants: setup.max_participants,
        };
        env.send(ix::StudyCreate { keys, args }.instruction(), &[&sponsor])
            .await
            .expect("study create");
        if setup.funding > 0 {
            let fund = ix::StudyFund {
                funder: sponsor.pubkey(),
                keys,
                source: sponsor_tokens,
                amount: setup.funding,
            };
            env.send(fund.instruction(), &[&sponsor])
                .await
                .expect("study fund");
        }
        let (protocol, outcomes) =
            register_protocol(&env, &sponsor, &keys.study, setup.max_participants).await;
        StudyScene {
            env,
            sponsor,
            keys,
            mint_authority,
            sponsor_tokens,
            protocol,
            outcomes,
        }
    }

    /// `by` (the sponsor, or its site) invites `wallet`, the invitation valid for `days`.
    pub async fn invite(&self, by: &Keypair, wallet: &Pubkey, days: i64) -> Result<(), SdkError> {
        let invite = ix::InvitationCreate {
            inviter: by.pubkey(),
            keys: self.keys,
            patient_wallet: *wallet,
            expires_at: self.env.now().await + days * DAY,
        };
        self.env.send(invite.instruction(), &[by]).await.map(|_| ())
    }

    /// A registered patient, invited by the sponsor, who grants research access to lab results
    /// for `days` and enrols in the same transaction; and that transaction's outcome.
    pub async fn enrolled(&self, days: i64) -> (Keypair, TxOutcome) {
        use careledger_sdk::classes::RecordClass;
        let patient = self.env.register_patient().await;
        let wallet = patient.pubkey();
        self.invite(&self.sponsor, &wallet, 60)
            .await
            .expect("invite");
        let enrol = ix::StudyEnrollWithGrant {
            authority: wallet,
            patient_wallet: wallet,
            keys: self.keys,
            protocol: self.protocol,
            classes: RecordClass::LabResult.bit(),
            expires_at: self.env.now().await + days * DAY,
        };
        let out = self
            .env
            .send_all(&enrol.instructions(), &[&patient])
            .await
            .expect("enrol");
        (patient, out)
    }
}

/// How a [`ClaimsScene`] is set up. The two claims suites differ in ways their tests rely on,
/// so the differences are named here rather than hidden in two copies of the setup.
#[derive(Clone, Copy, Debug)]
pub struct ClaimsSetup {
    pub policy_id: u64,
    pub benefit_cap: u64,
    pub deductible: u64,
    pub network_only: bool,
    /// Coverage runs from 30 days ago to this many days ahead.
    pub coverage_days: i64,
    /// The one coverage rule, under `rule_key`.
    pub rule_key: [u8; 32],
    pub terms: careledger_sdk::RuleTerms,
    /// The classes of the member's payment grant to the insurer and treatment grant to the clinic.
    pub grant_classes: u16,
    /// The lab record is anchored before the grants (care begins after it), or after them and
    /// after this many days of care (`Some(days)`, embedded runtime only: the clock moves).
    pub care_days_before_record: Option<i64>,
}

/// A verified clinic and insurer, a member with a lab record, the member's payment grant to the
/// insurer and treatment grant to the clinic, and a policy (2-decimal mint) with one coverage
/// rule: what every claims suite starts from. Funding the vault is left to the suite (through
/// `policy_fund`, or straight into the vault).
pub struct ClaimsScene {
    pub env: Env,
    pub patient: Keypair,
    pub clinic: Keypair,
    pub insurer: Keypair,
    pub keys: ix::PolicyKeys,
    pub mint_authority: Keypair,
    pub record: Pubkey,
    pub rule: [u8; 32],
}

impl ClaimsScene {
    pub async fn new(setup: ClaimsSetup) -> ClaimsScene {
        use careledger_sdk::classes::RecordClass;
        let env = Env::new().await;
        let patient = env.register_patient().await;
        let clinic = env.verified_provider(careledger_sdk::ROLE_CLINICIAN).await;
        let insurer = env.verified_provider(careledger_sdk::ROLE_INSURER).await;
        let lab = RecordClass::LabResult.id();
        let mut record = None;
        if setup.care_days_before_record.is_none() {
            record = Some(env.anchor_as_patient(&patient, lab, 1).await);
        }
        for (grantee, purpose) in [
            (insurer.pubkey(), Purpose::Payment),
            (clinic.pubkey(), Purpose::Treatment),
        ] {
            env.grant(
                &patient,
                &grantee,
                purpose,
                setup.grant_classes,
                action::READ,
                30,
            )
            .await
            .expect("grant");
        }
        if let Some(days) = setup.care_days_before_record {
            if env.moves_clock() {
                env.set_clock(env.now().await + days * DAY).await;
            }
            record = Some(env.anchor_as_patient(&patient, lab, 1).await);
        }
        let record = record.expect("the lab record");
        let (mint, mint_authority) = env.mint(2).await;
        let keys =
            ix::PolicyKeys::new(&insurer.pubkey(), setup.policy_id, &patient.pubkey(), &mint);
        let now = env.now().await;
        let args = careledger_sdk::PolicyCreateArgs {
            policy_id: setup.policy_id,
            coverage_start: now - 30 * DAY,
            coverage_end: now + setup.coverage_days * DAY,
            benefit_cap: setup.benefit_cap,
            deductible: setup.deductible,
            network_only: setup.network_only,
        };
        let rule = ix::RuleAdd {
            keys,
            rule_key: setup.rule_key,
            terms: setup.terms,
        };
        env.send_all(
            &[
                ix::PolicyCreate { keys, args }.instruction(),
                rule.instruction(),
            ],
            &[&insurer],
        )
        .await
        .expect("policy and rule");
        ClaimsScene {
            env,
            patient,
            clinic,
            insurer,
            keys,
            mint_authority,
            record,
            rule: setup.rule_key,
        }
    }
}

/// A record gateway's view of an `Env`'s ledger: the gateway in the demo and the records
/// benchmark, and the Solana Actions, read the very bank the scenario writes.
pub struct EnvView(pub std::sync::Arc<Env>);

impl careledger_sdk::LedgerView for EnvView {
    async fn accounts_at(
        &self,
        addresses: &[Pubkey],
    ) -> Result<careledger_sdk::transport::AccountsAt, SdkError> {
        Transport::accounts_at(self.0.client.transport(), addresses).await
    }
    async fn transaction_events(
        &self,
        signature: &careledger_sdk::Signature,
    ) -> Result<Option<Vec<careledger_sdk::CareledgerEvent>>, SdkError> {
        Transport::transaction_events(self.0.client.transport(), signature).await
    }
    async fn latest_blockhash(&self) -> Result<solana_hash::Hash, SdkError> {
        Transport::latest_blockhash(self.0.client.transport()).await
    }
}

impl careledger_sdk::LedgerArchive for EnvView {
    async fn program_accounts(
        &self,
        filters: &[careledger_sdk::accounts::Memcmp],
    ) -> Result<Vec<(Pubkey, careledger_sdk::Account)>, SdkError> {
        careledger_sdk::LedgerArchive::program_accounts(self.0.client.transport(), filters).await
    }
    async fn history(
        &self,
        address: &Pubkey,
        limit: usize,
    ) -> Result<careledger_sdk::History, SdkError> {
        careledger_sdk::LedgerArchive::history(self.0.client.transport(), address, limit).await
    }
}
