//! Clinical-trial integrity (`logic::trials`): a study's registered protocol and its versions,
//! pre-specified outcomes kept as commitments, the analysis plan and data lock, the results
//! compared with what was pre-specified, and participants' consent bound to a version.
pub mod analysis_plan_anchor;
pub mod data_lock;
pub mod participation_reconsent;
pub mod protocol_amend;
pub mod protocol_register;
pub mod results_report;

pub use analysis_plan_anchor::*;
pub use data_lock::*;
pub use participation_reconsent::*;
pub use protocol_amend::*;
pub use protocol_register::*;
pub use results_report::*;

use crate::errors::CareledgerError;
use crate::logic::cid::{parse_cid, StoredCid};
use anchor_lang::prelude::*;

/// A protocol document's CID as an instruction gives it: empty for none, else a binary CID the
/// program validates (as a record anchor's).
pub(crate) fn document_cid(bytes: &[u8]) -> Result<Option<StoredCid>> {
    if bytes.is_empty() {
        return Ok(None);
    }
    Ok(Some(parse_cid(bytes)?))
}

/// A protocol version's document hash and outcome commitments are all non-zero.
pub(crate) fn validate_version_terms(
    document_sha256: &[u8; 32],
    primary: &[u8; 32],
    secondary: &[u8; 32],
) -> Result<()> {
    require!(
        *document_sha256 != [0; 32] && *primary != [0; 32] && *secondary != [0; 32],
        CareledgerError::InvalidProtocolTerms
    );
    Ok(())
}
