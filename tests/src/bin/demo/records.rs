//! The demo's records step: a hospital's record gateway in this process, on loopback. The
//! patient encrypts a lab result and stores it there; the clinic it was granted to fetches it
//! against its on-chain read; after revocation the clinic is refused.
use careledger_cli::record_files::seal;
use careledger_records::client::GatewayClient;
use careledger_records::envelope::{DataKey, KeyAgreementSecret, RecordIdentity};
use careledger_records::protocol::ReleaseRequest;
use careledger_records::unixfs::Profile;
use careledger_sdk::{action, ix, pda, AccessLogArgs, Keypair, Pubkey};
use careledger_sdk::{Purpose, Signer};
use careledger_server::gateway::{store::Store, Gateway, Limits};
use careledger_tests::{Env, EnvView};
use std::sync::Arc;
use std::time::Duration;

type Error = Box<dyn std::error::Error + Send + Sync>;

pub struct RecordsDemo {
    dir: std::path::PathBuf,
    gateway: GatewayClient,
    clinic_key: KeyAgreementSecret,
    record: Pubkey,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RecordsDemo {
    fn drop(&mut self) {
        self.server.abort();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn publish(env: &Env, wallet: &Keypair, key: &KeyAgreementSecret) -> Result<(), Error> {
    let publish = ix::EncryptionKeySet {
        wallet: wallet.pubkey(),
        x25519: key.public(),
    };
    env.send(publish.instruction(), &[wallet]).await?;
    Ok(())
}

/// Starts the gateway, and has the patient put a lab result through it.
pub async fn start(
    env: &Arc<Env>,
    patient: &Keypair,
    clinic: &Keypair,
) -> Result<RecordsDemo, Error> {
    let dir = std::env::temp_dir().join(format!("careledger-demo-records-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let hospital = env.actor().await;
    let custody = KeyAgreementSecret::generate();
    publish(env, &hospital, &custody).await?;
    let clinic_key = KeyAgreementSecret::generate();
    publish(env, clinic, &clinic_key).await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let domain = listener.local_addr()?.to_string();
    let state = Arc::new(Gateway::new(
        EnvView(env.clone()),
        Store::open(&dir.join("store"))?,
        hospital.pubkey(),
        custody,
        Vec::new(),
        domain.clone(),
        Limits::default(),
    ));
    let app = careledger_server::Server::new()
        .gateway(state)
        .header_timeout(Duration::from_secs(30));
    let server = tokio::spawn(async move {
        let _ = app.serve(listener).await;
    });
    println!(
        "\n== the hospital's record gateway listens on http://{domain} (custodian {})",
        hospital.pubkey()
    );

    let client = GatewayClient::new(&format!("http://{domain}"))?;
    let info = client.info().await?;
    assert_eq!(
        info.custodian,
        hospital.pubkey(),
        "the gateway answers for the hospital"
    );
    let file = dir.join("lab-result.txt");
    std::fs::write(
        &file,
        b"HbA1c 5.4 % (reference 4.0-5.6), fasting glucose 92 mg/dL",
    )?;
    let wallet = patient.pubkey();
    let index = env.patient(&wallet).await.record_count;
    let class = careledger_sdk::classes::RecordClass::LabResult.id();
    let key = DataKey::generate();
    let ciphertext = dir.join("lab-result.enc");
    let identity = RecordIdentity::new(wallet, index, 1, class);
    let sealed = seal(&file, &identity, &key, Profile::UnixfsV1_2025, &ciphertext)?;
    let anchor = ix::RecordAnchor {
        patient_wallet: wallet,
        index,
        author: ix::Author::Patient,
        args: careledger_sdk::RecordAnchorArgs {
            cid: sealed.cid.clone(),
            content_sha256: sealed.sha256,
            class,
        },
    };
    crate::show(
        "patient encrypts a lab result (XChaCha20-Poly1305, a new key), anchors the ciphertext's CID and SHA-256",
        &env.send(anchor.instruction(), &[patient]).await?,
    );
    let record = pda::record(&wallet, index).0;
    client
        .upload(
            patient,
            &record,
            &ciphertext,
            sealed.bytes,
            &key,
            &info.x25519,
        )
        .await?;
    println!("   stored at the gateway with its data key wrapped (HPKE) to the hospital's key");
    Ok(RecordsDemo {
        dir,
        gateway: client,
        clinic_key,
        record,
        server,
    })
}

impl RecordsDemo {
    /// The clinic logs a read of the record on chain and asks the gateway against it.
    pub async fn fetch(
        &self,
        title: &str,
        env: &Env,
        patient: &Pubkey,
        clinic: &Keypair,
    ) -> Result<(), Error> {
        let grant = pda::grant(patient, &clinic.pubkey(), Purpose::Treatment).0;
        let read = ix::AccessLog {
            grantee: clinic.pubkey(),
            patient_wallet: *patient,
            grant,
            record: self.record,
            args: AccessLogArgs {
                action: action::READ,
                purpose: Purpose::Treatment,
                strict: false,
            },
        };
        let outcome = env.send(read.instruction(), &[clinic]).await?;
        crate::show(title, &outcome);
        let anchor = env.client.fetch(&self.record).await?;
        let request = ReleaseRequest {
            grantee: clinic.pubkey(),
            record: self.record,
            grant,
            transaction: outcome.signature,
        };
        let out = self.dir.join("fetched.txt");
        match self
            .gateway
            .release(clinic, &request, &self.clinic_key, &anchor, &out, true)
            .await
        {
            Ok(bytes) => println!(
                "   the gateway released it against that read: {bytes} bytes decrypted, SHA-256 and CID match the anchor: {:?}",
                String::from_utf8_lossy(&std::fs::read(&out)?)
            ),
            Err(refused) => println!("   the gateway released nothing: {refused}"),
        }
        Ok(())
    }
}
