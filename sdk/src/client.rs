//! The client: builds, signs, sends and confirms; fetches and lists accounts.
use crate::accounts::{decode, offsets, Memcmp};
use crate::claims::{preview, Preview};
use crate::rewards::{summary_line, RewardLine};
use crate::tokens::{decode_token_account, TokenBalance};
use crate::transport::{Transport, TxOutcome};
use crate::SdkError;
use anchor_lang::{AccountDeserialize, Discriminator};
use careledger::errors::CareledgerError;
use careledger::logic::consent::{
    decide_access, grant_standing, AccessQuery, GrantStanding, Refusal,
};
use careledger::state::*;
use solana_instruction::Instruction;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

/// A signer a `Send` future may hold: every keypair, and any wallet adapter that is thread-safe.
pub type DynSigner<'a> = dyn Signer + Send + Sync + 'a;
use solana_transaction::Transaction;

/// Generic over the transport (RPC or embedded) and the fee payer's signer (a keypair file
/// today, a hardware wallet tomorrow).
///
/// `Client` is `Send + Sync` and every future it returns is `Send` (the transport's are, and
/// signers are `Send + Sync`), so one client can serve a multithreaded async server: share it
/// in an `Arc`, await it in a handler, or `tokio::spawn` a call.
///
/// ```no_run
/// use careledger_sdk::rpc::RpcTransport;
/// use careledger_sdk::{action, ix, pda, AccessLogArgs, Client, CommitmentConfig, Keypair, Pubkey, Purpose, Signer};
/// use std::sync::Arc;
///
/// # async fn backend(clinic: Keypair, patient: Pubkey) -> Result<(), careledger_sdk::SdkError> {
/// let rpc = RpcTransport::new("http://127.0.0.1:8899", CommitmentConfig::confirmed());
/// let client = Arc::new(Client::new(rpc, clinic.insecure_clone()));
/// let grant = pda::grant(&patient, &clinic.pubkey(), Purpose::Treatment).0;
/// let record = pda::record(&patient, 0).0;
/// // the very decision the program runs, on fresh account state
/// let decision = client.check_access(&grant, &record, action::READ, Purpose::Treatment).await?;
/// let log = ix::AccessLog {
///     grantee: clinic.pubkey(),
///     patient_wallet: patient,
///     grant,
///     record,
///     args: AccessLogArgs { action: action::READ, purpose: Purpose::Treatment, strict: false },
/// }
/// .instruction();
/// let c = client.clone();
/// let outcome = tokio::spawn(async move { c.send(&[log], &[]).await }).await.unwrap()?;
/// for event in &outcome.events {
///     println!("{}", event.summary());
/// }
/// # let _ = decision;
/// # Ok(())
/// # }
/// ```
/// A grant as a listing shows it: where it stands now, by the program's rule.
#[derive(Clone, Debug, PartialEq)]
pub struct ListedGrant {
    pub address: Pubkey,
    pub grant: ConsentGrant,
    pub standing: GrantStanding,
}

pub struct Client<T: Transport, S: Signer + Send + Sync> {
    transport: T,
    payer: S,
}

impl<T: Transport, S: Signer + Send + Sync> Client<T, S> {
    pub fn new(transport: T, payer: S) -> Self {
        Client { transport, payer }
    }

    pub fn transport(&self) -> &T {
        &self.transport
    }

    pub fn payer(&self) -> Pubkey {
        self.payer.pubkey()
    }

    /// Signs with the payer and `signers`, sends, confirms. Re-signs once with a fresh blockhash
    /// if an identical transaction was already sent under the current one.
    pub async fn send(
        &self,
        instructions: &[Instruction],
        signers: &[&DynSigner<'_>],
    ) -> Result<TxOutcome, SdkError> {
        let mut all: Vec<&DynSigner<'_>> = vec![&self.payer];
        all.extend(signers.iter().filter(|s| s.pubkey() != self.payer.pubkey()));
        for _ in 0..2 {
            let blockhash = self.transport.latest_blockhash().await?;
            let tx = Transaction::new_signed_with_payer(
                instructions,
                Some(&self.payer.pubkey()),
                &all,
                blockhash,
            );
            match self.transport.send(tx).await {
                Err(SdkError::DuplicateTransaction) => continue,
                other => return other,
            }
        }
        Err(SdkError::DuplicateTransaction)
    }

    /// Sends `instructions` in as few transactions as fit (`batch::pack`), in order, each
    /// signed by the payer and those of `signers` it needs. Stops at the first failure.
    pub async fn send_batched(
        &self,
        instructions: Vec<Instruction>,
        signers: &[&DynSigner<'_>],
    ) -> Result<Vec<TxOutcome>, SdkError> {
        let mut outcomes = Vec::new();
        for chunk in crate::batch::pack(&self.payer.pubkey(), instructions) {
            let needed = crate::batch::required_signers(&chunk);
            let chunk_signers: Vec<&DynSigner<'_>> = signers
                .iter()
                .copied()
                .filter(|s| needed.contains(&s.pubkey()))
                .collect();
            outcomes.push(self.send(&chunk, &chunk_signers).await?);
        }
        Ok(outcomes)
    }

    pub async fn fetch<A: AccountDeserialize + Discriminator>(
        &self,
        address: &Pubkey,
    ) -> Result<A, SdkError> {
        let account = self
            .transport
            .account(address)
            .await?
            .ok_or(SdkError::AccountNotFound(*address))?;
        decode(address, &account.owner, &account.data)
    }

    /// A policy's keys (address, insurer, member, mint, vault), read from the chain, for the
    /// claim builders.
    pub async fn policy_keys(&self, policy: &Pubkey) -> Result<crate::ix::PolicyKeys, SdkError> {
        let state: Policy = self.fetch(policy).await?;
        Ok(crate::ix::PolicyKeys::of(*policy, &state))
    }

    /// How `provider` shows its care relationship with `member` for `record`: it authored the
    /// record, else its treatment grant, else its operations grant (the program checks it).
    pub async fn care_basis(
        &self,
        provider: &Pubkey,
        member: &Pubkey,
        record: &Pubkey,
    ) -> Result<crate::ix::CareBasis, SdkError> {
        let anchor: RecordAnchor = self.fetch(record).await?;
        if anchor.author == *provider {
            return Ok(crate::ix::CareBasis::AuthoredRecord);
        }
        let treatment = crate::pda::grant(member, provider, Purpose::Treatment).0;
        if self.transport.account(&treatment).await?.is_some() {
            return Ok(crate::ix::CareBasis::Grant(Purpose::Treatment));
        }
        Ok(crate::ix::CareBasis::Grant(Purpose::Operations))
    }

    /// Like `fetch`, but `None` when no careledger account lives at the address.
    pub async fn fetch_optional<A: AccountDeserialize + Discriminator>(
        &self,
        address: &Pubkey,
    ) -> Result<Option<A>, SdkError> {
        match self.transport.account(address).await? {
            // as the program sees it: lamports alone (anyone can send them) are no account
            Some(account) if account.owner == careledger::ID && !account.data.is_empty() => {
                decode(address, &account.owner, &account.data).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// The serial `clinician`'s next break-glass grant for the patient gets (1 for the first).
    pub async fn next_emergency_serial(
        &self,
        patient_wallet: &Pubkey,
        clinician: &Pubkey,
    ) -> Result<u32, SdkError> {
        let marker = crate::pda::emergency_marker(patient_wallet, clinician).0;
        let marker: Option<EmergencyMarker> = self.fetch_optional(&marker).await?;
        Ok(marker.map_or(1, |m| m.opened.saturating_add(1)))
    }

    /// Whether one of careledger's accounts lives at `address` (not just lamports sent there).
    pub async fn holds_account(&self, address: &Pubkey) -> Result<bool, SdkError> {
        Ok(self
            .transport
            .account(address)
            .await?
            .is_some_and(|a| a.owner == careledger::ID && !a.data.is_empty()))
    }

    async fn list<A: AccountDeserialize + Discriminator>(
        &self,
        mut filters: Vec<Memcmp>,
    ) -> Result<Vec<(Pubkey, A)>, SdkError> {
        filters.insert(0, Memcmp::discriminator::<A>());
        let mut out = Vec::new();
        for (address, account) in self.transport.program_accounts(&filters).await? {
            out.push((address, decode(&address, &account.owner, &account.data)?));
        }
        out.sort_by_key(|(address, _)| *address);
        Ok(out)
    }

    /// The shipments of `batch` to `receiver_wallet`, received or not.
    pub async fn shipments_to(
        &self,
        receiver_wallet: &Pubkey,
        batch: &Pubkey,
    ) -> Result<Vec<(Pubkey, careledger::state::Shipment)>, SdkError> {
        self.list(vec![
            Memcmp::key_at(offsets::SHIPMENT_RECEIVER, receiver_wallet),
            Memcmp::key_at(offsets::SHIPMENT_BATCH, batch),
        ])
        .await
    }

    /// A shipment of `batch` that `holder` received: what `pack_decommission` and
    /// `shipment_send` take as custody (`None`: it never received one).
    pub async fn custody_of(
        &self,
        batch: &Pubkey,
        holder: &Pubkey,
    ) -> Result<Option<Pubkey>, SdkError> {
        Ok(self
            .shipments_to(holder, batch)
            .await?
            .into_iter()
            .find(|(_, s)| s.received_at != 0)
            .map(|(address, _)| address))
    }

    pub async fn grants_by_patient(
        &self,
        patient_wallet: &Pubkey,
    ) -> Result<Vec<(Pubkey, ConsentGrant)>, SdkError> {
        self.list(vec![Memcmp::key_at(offsets::GRANT_PATIENT, patient_wallet)])
            .await
    }

    /// The grant a new grant at `address` would replace, as the program decides it: `None`
    /// where no grant stands, the spent grant (revoked, void after a revoke-all, or expired)
    /// it replaces, or, for a grant that is still live (or not yet valid), the program's own
    /// refusal (`GrantAlreadyExists`) before anything is signed. Pass the result to
    /// [`crate::ix::previous_payer`] and the builder's `renewing`.
    pub async fn grant_to_replace(
        &self,
        address: &Pubkey,
    ) -> Result<Option<ConsentGrant>, SdkError> {
        let Some(first) = self.fetch_optional::<ConsentGrant>(address).await? else {
            return Ok(None);
        };
        let addresses = [*address, crate::pda::patient(&first.patient).0];
        let at = self.transport.accounts_at(&addresses).await?;
        let grant: ConsentGrant = crate::accounts::decode_nth(&at, &addresses, 0)?;
        let patient: careledger::state::Patient = crate::accounts::decode_nth(&at, &addresses, 1)?;
        if grant_standing(&grant, patient.consent_epoch, at.unix_timestamp).is_spent() {
            Ok(Some(grant))
        } else {
            Err(SdkError::rejected(CareledgerError::GrantAlreadyExists))
        }
    }

    /// The current version of `study`'s registered protocol, as a participant names it at
    /// enrolment (`ProtocolNotRegistered` when it has none).
    pub async fn current_protocol(
        &self,
        study: &Pubkey,
    ) -> Result<crate::ix::ProtocolRef, SdkError> {
        let Some(protocol) = self
            .fetch_optional::<Protocol>(&crate::pda::protocol(study).0)
            .await?
        else {
            return Err(SdkError::rejected(CareledgerError::ProtocolNotRegistered));
        };
        let version: ProtocolVersion = self
            .fetch(&crate::pda::protocol_version(study, protocol.version).0)
            .await?;
        Ok(crate::ix::ProtocolRef {
            version: protocol.version,
            document_sha256: version.document_sha256,
        })
    }

    /// The first material protocol version after the one `patient_wallet` consented to in
    /// `study`, when theirs is older than the newest material one: what reward claims, ending
    /// a participation and re-consent name (`None` while their consent is current for accrual).
    pub async fn next_material(
        &self,
        study: &Pubkey,
        patient_wallet: &Pubkey,
    ) -> Result<Option<u16>, SdkError> {
        let addresses = [
            crate::pda::protocol(study).0,
            crate::pda::participation(study, patient_wallet).0,
        ];
        let at = self.transport.accounts_at(&addresses).await?;
        let protocol: Protocol = crate::accounts::decode_nth(&at, &addresses, 0)?;
        let participation: careledger::state::Participation =
            crate::accounts::decode_nth(&at, &addresses, 1)?;
        let consented = participation.protocol_version;
        if consented >= protocol.material_version {
            return Ok(None);
        }
        // the versions after theirs, up to the newest material one (which qualifies)
        let versions = self
            .protocol_versions(study, consented + 1, protocol.material_version)
            .await?;
        Ok(crate::trials::first_material_after(&versions, consented).map(|v| v.version))
    }

    /// Versions `first..=last` of `study`'s protocol, oldest first (they never change once
    /// written, so reading them in batches of one `getMultipleAccounts` each is consistent).
    pub async fn protocol_versions(
        &self,
        study: &Pubkey,
        first: u16,
        last: u16,
    ) -> Result<Vec<ProtocolVersion>, SdkError> {
        let addresses: Vec<Pubkey> = (first..=last)
            .map(|v| crate::pda::protocol_version(study, v).0)
            .collect();
        let mut versions = Vec::with_capacity(addresses.len());
        for batch in addresses.chunks(crate::transport::MAX_SNAPSHOT_ADDRESSES) {
            let at = self.transport.accounts_at(batch).await?;
            for i in 0..batch.len() {
                versions.push(crate::accounts::decode_nth(&at, batch, i)?);
            }
        }
        Ok(versions)
    }

    /// `study`'s protocol, every version of it, and each participant's consent to a version.
    pub async fn trial_status(
        &self,
        study: &Pubkey,
    ) -> Result<crate::trials::TrialStatus, SdkError> {
        let protocol: Protocol = self.fetch(&crate::pda::protocol(study).0).await?;
        let versions = self.protocol_versions(study, 1, protocol.version).await?;
        let participations = self.participations_by_study(study).await?;
        Ok(crate::trials::TrialStatus::of(
            *study,
            protocol,
            versions,
            &participations,
        ))
    }

    /// Every grant of a patient with where it stands now, by the program's own rule
    /// (`logic::consent::grant_standing`: active, not yet valid, expired, revoked, or void by a
    /// revoke-all), against the patient's epoch and the ledger's clock read together.
    pub async fn grant_standings(
        &self,
        patient_wallet: &Pubkey,
    ) -> Result<Vec<ListedGrant>, SdkError> {
        let grants = self.grants_by_patient(patient_wallet).await?;
        let addresses = [crate::pda::patient(patient_wallet).0];
        let at = self.transport.accounts_at(&addresses).await?;
        let patient: careledger::state::Patient = crate::accounts::decode_nth(&at, &addresses, 0)?;
        Ok(grants
            .into_iter()
            .map(|(address, grant)| ListedGrant {
                standing: grant_standing(&grant, patient.consent_epoch, at.unix_timestamp),
                address,
                grant,
            })
            .collect())
    }

    pub async fn grants_by_grantee(
        &self,
        grantee_wallet: &Pubkey,
    ) -> Result<Vec<(Pubkey, ConsentGrant)>, SdkError> {
        self.list(vec![Memcmp::key_at(offsets::GRANT_GRANTEE, grantee_wallet)])
            .await
    }

    /// Every anchor of a patient, in index order.
    pub async fn records_by_patient(
        &self,
        patient_wallet: &Pubkey,
    ) -> Result<Vec<(Pubkey, RecordAnchor)>, SdkError> {
        let mut records: Vec<(Pubkey, RecordAnchor)> = self
            .list(vec![Memcmp::key_at(
                offsets::RECORD_PATIENT,
                patient_wallet,
            )])
            .await?;
        records.sort_by_key(|(_, r)| r.index);
        Ok(records)
    }

    /// Anchors written by a provider (or patient), any patient.
    pub async fn records_by_author(
        &self,
        author: &Pubkey,
    ) -> Result<Vec<(Pubkey, RecordAnchor)>, SdkError> {
        self.list(vec![Memcmp::key_at(offsets::RECORD_AUTHOR, author)])
            .await
    }

    pub async fn requests_by_patient(
        &self,
        patient_wallet: &Pubkey,
    ) -> Result<Vec<(Pubkey, AccessRequest)>, SdkError> {
        self.list(vec![Memcmp::key_at(
            offsets::REQUEST_PATIENT,
            patient_wallet,
        )])
        .await
    }

    pub async fn providers(&self) -> Result<Vec<(Pubkey, Provider)>, SdkError> {
        self.list(Vec::new()).await
    }

    /// Break-glass grants of a patient still awaiting review.
    pub async fn emergencies_pending_review(
        &self,
        patient_wallet: &Pubkey,
    ) -> Result<Vec<(Pubkey, ConsentGrant)>, SdkError> {
        let mut grants = self.grants_by_patient(patient_wallet).await?;
        grants.retain(|(_, g)| g.review == ReviewState::Pending);
        Ok(grants)
    }

    pub async fn policies_by_insurer(
        &self,
        insurer_wallet: &Pubkey,
    ) -> Result<Vec<(Pubkey, Policy)>, SdkError> {
        self.list(vec![Memcmp::key_at(
            offsets::POLICY_INSURER,
            insurer_wallet,
        )])
        .await
    }

    pub async fn policies_by_patient(
        &self,
        patient_wallet: &Pubkey,
    ) -> Result<Vec<(Pubkey, Policy)>, SdkError> {
        self.list(vec![Memcmp::key_at(
            offsets::POLICY_PATIENT,
            patient_wallet,
        )])
        .await
    }

    /// Claims of one policy, provider or patient, optionally in one state. A patient's claims are
    /// those of the policies they are the member of (claims do not repeat the patient).
    pub async fn claims(
        &self,
        of: ClaimsOf,
        state: Option<ClaimState>,
    ) -> Result<Vec<(Pubkey, Claim)>, SdkError> {
        let state_filter = state.map(|state| Memcmp {
            offset: offsets::CLAIM_STATE,
            bytes: vec![state as u8],
        });
        let by = |m: Memcmp| {
            let mut filters = vec![m];
            filters.extend(state_filter.clone());
            filters
        };
        match of {
            ClaimsOf::Policy(k) => {
                self.list(by(Memcmp::key_at(offsets::CLAIM_POLICY, &k)))
                    .await
            }
            ClaimsOf::Provider(k) => {
                self.list(by(Memcmp::key_at(offsets::CLAIM_PROVIDER, &k)))
                    .await
            }
            ClaimsOf::Patient(k) => {
                let mut out = Vec::new();
                for (policy, _) in self.policies_by_patient(&k).await? {
                    let filters = by(Memcmp::key_at(offsets::CLAIM_POLICY, &policy));
                    out.extend(self.list(filters).await?);
                }
                out.sort_by_key(|(address, _)| *address);
                Ok(out)
            }
        }
    }

    pub async fn studies_by_sponsor(
        &self,
        sponsor_wallet: &Pubkey,
    ) -> Result<Vec<(Pubkey, Study)>, SdkError> {
        self.list(vec![Memcmp::key_at(offsets::STUDY_SPONSOR, sponsor_wallet)])
            .await
    }

    pub async fn participations_by_patient(
        &self,
        patient_wallet: &Pubkey,
    ) -> Result<Vec<(Pubkey, Participation)>, SdkError> {
        self.list(vec![Memcmp::key_at(
            offsets::PARTICIPATION_PATIENT,
            patient_wallet,
        )])
        .await
    }

    pub async fn participations_by_study(
        &self,
        study: &Pubkey,
    ) -> Result<Vec<(Pubkey, Participation)>, SdkError> {
        self.list(vec![Memcmp::key_at(offsets::PARTICIPATION_STUDY, study)])
            .await
    }

    /// Every study a patient joined: received, collectable now, and still to come.
    pub async fn rewards_summary(
        &self,
        patient_wallet: &Pubkey,
    ) -> Result<Vec<RewardLine>, SdkError> {
        let patient: Patient = self.fetch(&crate::pda::patient(patient_wallet).0).await?;
        let config: Config = self.fetch(&crate::pda::config()).await?;
        let now = self.transport.unix_timestamp().await?;
        let mut lines = Vec::new();
        for (address, p) in self.participations_by_patient(patient_wallet).await? {
            let study: Study = self.fetch(&p.study).await?;
            let grant: Option<ConsentGrant> = self.fetch_optional(&p.grant).await?;
            lines.push(summary_line(
                address,
                &p,
                &study,
                grant.as_ref(),
                &patient,
                config.paused,
                now,
            ));
        }
        Ok(lines)
    }

    /// A patient's audit trail as a FHIR R4 Bundle: their grants and claims as they stand now,
    /// plus the audit events the caller collected (from `TxOutcome::events`, or a history of
    /// transactions decoded with `events::decode_inner_instructions`).
    pub async fn audit_bundle(
        &self,
        patient_wallet: &Pubkey,
        events: &[crate::events::CareledgerEvent],
    ) -> Result<serde_json::Value, SdkError> {
        let patient: Patient = self.fetch(&crate::pda::patient(patient_wallet).0).await?;
        let grants = self.grants_by_patient(patient_wallet).await?;
        let mut claims = Vec::new();
        for (address, claim) in self
            .claims(ClaimsOf::Patient(*patient_wallet), None)
            .await?
        {
            let policy: Policy = self.fetch(&claim.policy).await?;
            let mint = self
                .transport
                .account(&policy.mint)
                .await?
                .ok_or(SdkError::AccountNotFound(policy.mint))?;
            let decimals = crate::tokens::decode_mint_decimals(&policy.mint, &mint.data)?;
            claims.push((address, claim, policy, decimals));
        }
        let input = crate::audit::AuditInput {
            grants: &grants,
            patient_epoch: patient.consent_epoch,
            events,
            claims: &claims,
            now: self.transport.unix_timestamp().await?,
        };
        Ok(crate::audit::fhir_bundle(&input))
    }

    /// A token account's mint, owner and balance.
    pub async fn token_balance(&self, account: &Pubkey) -> Result<TokenBalance, SdkError> {
        let acc = self
            .transport
            .account(account)
            .await?
            .ok_or(SdkError::AccountNotFound(*account))?;
        decode_token_account(account, &acc.data)
    }

    /// What `claim_submit` would do now with this claim by `provider`: refused (and why),
    /// sent to review, or decided, and then paid now or owed. The same pure functions as the
    /// program, on fresh account state.
    pub async fn preview_claim(
        &self,
        provider: &Pubkey,
        keys: &crate::ix::PolicyKeys,
        record: &Pubkey,
        rule_key: &[u8; 32],
        care: crate::ix::CareBasis,
        args: &careledger::instructions::ClaimSubmitArgs,
    ) -> Result<Preview, SdkError> {
        use crate::pda;
        let config: Config = self.fetch(&pda::config()).await?;
        let policy: Policy = self.fetch(&keys.policy).await?;
        let rule: CoverageRule = self.fetch(&pda::rule(&keys.policy, rule_key).0).await?;
        let record: RecordAnchor = self.fetch(record).await?;
        let provider_account: Provider = self.fetch(&pda::provider(provider).0).await?;
        let patient: Patient = self.fetch(&pda::patient(&policy.patient).0).await?;
        // the same care account the instruction builder passes
        let care_purpose = match care {
            crate::ix::CareBasis::AuthoredRecord => Purpose::Treatment,
            crate::ix::CareBasis::Grant(purpose) => purpose,
        };
        let care_grant: Option<ConsentGrant> = self
            .fetch_optional(&pda::grant(&policy.patient, provider, care_purpose).0)
            .await?;
        let payment = pda::grant(&policy.patient, &policy.insurer, Purpose::Payment).0;
        let payment_grant: Option<ConsentGrant> = self.fetch_optional(&payment).await?;
        let membership = pda::network_membership(&policy.insurer, provider).0;
        let in_network = self.holds_account(&membership).await?;
        let claim = pda::claim(&keys.policy, provider, rule_key, args.service_date).0;
        let claim_exists = self.holds_account(&claim).await?;
        if record.patient != policy.patient && !config.paused {
            return Ok(Preview::Refused(CareledgerError::RecordPatientMismatch));
        }
        let vault = self.token_balance(&policy.vault).await?;
        let vault = (!vault.frozen).then_some(vault.amount);
        let submission = careledger::logic::claims::Submission {
            service: args.service(),
            policy: &policy,
            rule: &rule,
            record: &record,
            provider_wallet: *provider,
            provider: &provider_account,
            patient_epoch: patient.consent_epoch,
            patient_guardian: patient.guardian,
            care_grant: care_grant.as_ref(),
            payment_grant: payment_grant.as_ref(),
            in_network,
            now: self.transport.unix_timestamp().await?,
        };
        Ok(preview(&submission, config.paused, claim_exists, vault))
    }

    /// Simulates the program's consent decision locally, from fresh account state, with the
    /// same function the program runs. `Ok(Err(refusal))` is a refusal (recorded as such by
    /// `access_log`); `Err(SdkError::Program)` what `access_log` rejects outright (an action
    /// that is not exactly read or write, the program paused); other `Err`s are fetch failures.
    pub async fn check_access(
        &self,
        grant: &Pubkey,
        record: &Pubkey,
        action: u8,
        purpose: Purpose,
    ) -> Result<Result<(), Refusal>, SdkError> {
        // the grant names its grantee and patient; then everything the decision reads comes
        // from one snapshot (one slot), so no account is from before a change and another after
        let first: ConsentGrant = self.fetch(grant).await?;
        let addresses = [
            crate::pda::config(),
            *grant,
            *record,
            crate::pda::provider(&first.grantee).0,
            crate::pda::patient(&first.patient).0,
        ];
        let at = self.transport.accounts_at(&addresses).await?;
        let config: Config = crate::accounts::decode_nth(&at, &addresses, 0)?;
        // in the program's order: the paused config is an account constraint, checked first
        if config.paused {
            return Err(SdkError::rejected(CareledgerError::Paused));
        }
        if action != careledger::logic::consent::action::READ
            && action != careledger::logic::consent::action::WRITE
        {
            return Err(SdkError::rejected(CareledgerError::InvalidAccessAction));
        }
        let grant: ConsentGrant = crate::accounts::decode_nth(&at, &addresses, 1)?;
        let record: RecordAnchor = crate::accounts::decode_nth(&at, &addresses, 2)?;
        let provider: Provider = crate::accounts::decode_nth(&at, &addresses, 3)?;
        let patient: Patient = crate::accounts::decode_nth(&at, &addresses, 4)?;
        if record.patient != grant.patient {
            return Err(SdkError::InvalidInput(
                "record and grant belong to different patients".into(),
            ));
        }
        let query = AccessQuery {
            action,
            purpose,
            record_class: record.class,
            record_index: record.index,
            now: at.unix_timestamp,
            patient_epoch: patient.consent_epoch,
        };
        Ok(decide_access(&grant, &provider, &query))
    }
}

/// Whose claims to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimsOf {
    Policy(Pubkey),
    /// A provider's wallet.
    Provider(Pubkey),
    /// A patient's wallet.
    Patient(Pubkey),
}

/// Compile-time proof that every `Client` future is `Send` for any transport: each call below
/// goes through `tokio::spawn`, which accepts only `Send + 'static` futures.
#[cfg(test)]
mod send_tests {
    use super::*;
    use solana_keypair::Keypair;
    use std::sync::Arc;

    #[allow(dead_code)]
    fn every_call_is_spawnable<T: Transport + 'static>(client: Arc<Client<T, Keypair>>) {
        let c = client.clone();
        tokio::spawn(async move {
            let signer = Keypair::new();
            c.send(&[], &[&signer]).await
        });
        let c = client.clone();
        tokio::spawn(async move { c.send_batched(Vec::new(), &[]).await });
        let c = client.clone();
        tokio::spawn(async move { c.fetch::<Patient>(&Pubkey::new_unique()).await });
        let c = client.clone();
        tokio::spawn(async move { c.grants_by_patient(&Pubkey::new_unique()).await });
        let c = client.clone();
        tokio::spawn(async move { c.audit_bundle(&Pubkey::new_unique(), &[]).await });
        let c = client.clone();
        tokio::spawn(async move { c.rewards_summary(&Pubkey::new_unique()).await });
        let c = client.clone();
        tokio::spawn(async move { c.fetch_optional::<Patient>(&Pubkey::new_unique()).await });
        let c = client.clone();
        tokio::spawn(async move {
            c.next_emergency_serial(&Pubkey::new_unique(), &Pubkey::new_unique())
                .await
        });
        let c = client.clone();
        tokio::spawn(async move { c.holds_account(&Pubkey::new_unique()).await });
        let c = client.clone();
        tokio::spawn(async move { c.grants_by_grantee(&Pubkey::new_unique()).await });
        let c = client.clone();
        tokio::spawn(async move { c.records_by_patient(&Pubkey::new_unique()).await });
        let c = client.clone();
        tokio::spawn(async move { c.providers().await });
        let c = client.clone();
        tokio::spawn(async move { c.token_balance(&Pubkey::new_unique()).await });
        let c = client.clone();
        tokio::spawn(async move {
            c.claims(ClaimsOf::Patient(Pubkey::new_unique()), None)
                .await
        });
        let c = client.clone();
        tokio::spawn(async move {
            let keys = crate::ix::PolicyKeys::new(
                &Pubkey::new_unique(),
                1,
                &Pubkey::new_unique(),
                &Pubkey::new_unique(),
            );
            let args = careledger::instructions::ClaimSubmitArgs {
                units: 1,
                billed: 1,
                service_date: 0,
                document_commitment: [0; 32],
                expected_terms: RuleTerms {
                    allowed_per_unit: 1,
                    copay: 0,
                    coinsurance_bps: 0,
                    max_units_per_claim: 1,
                    max_claims_per_period: 1,
                    prior_auth_required: false,
                },
            };
            let care = crate::ix::CareBasis::AuthoredRecord;
            c.preview_claim(
                &Pubkey::new_unique(),
                &keys,
                &Pubkey::new_unique(),
                &[0; 32],
                care,
                &args,
            )
            .await
        });
        let c = client.clone();
        tokio::spawn(async move {
            c.check_access(
                &Pubkey::new_unique(),
                &Pubkey::new_unique(),
                crate::action::READ,
                Purpose::Treatment,
            )
            .await
        });
        tokio::spawn(async move {
            let signer = Keypair::new();
            let args = careledger::instructions::ConfigInitArgs {
                admin: signer.pubkey(),
                credential_authority: signer.pubkey(),
                max_break_glass_secs: 3600,
            };
            crate::setup::init_config(&client, &signer, args).await
        });
    }

    /// At run time: a call spawned on a multithreaded runtime reaches a closed port and comes
    /// back as the RPC client's own error, not a string.
    #[cfg(feature = "rpc")]
    #[test]
    fn a_spawned_call_returns_the_typed_rpc_error() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let transport = crate::rpc::RpcTransport::new(
                "http://127.0.0.1:1",
                solana_commitment_config::CommitmentConfig::confirmed(),
            );
            let client = Arc::new(Client::new(transport, Keypair::new()));
            let c = client.clone();
            let outcome = tokio::spawn(async move { c.send(&[], &[]).await })
                .await
                .unwrap();
            match outcome {
                Err(SdkError::Rpc(e)) => {
                    use solana_rpc_client_api::client_error::ErrorKind;
                    assert!(
                        matches!(e.kind(), ErrorKind::Reqwest(_) | ErrorKind::Io(_)),
                        "a refused connection, as the RPC client reports it: {:?}",
                        e.kind()
                    );
                }
                other => panic!("expected SdkError::Rpc, got {other:?}"),
            }
        });
    }
}
