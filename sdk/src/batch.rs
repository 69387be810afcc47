//! Packing many instructions into as few transactions as fit: the 1,232-byte packet limit for a
//! legacy transaction, and the runtime's 64-entry instruction trace (each careledger instruction
//! adds its `emit_cpi!` self-invocation and any CPIs it makes).
use anchor_lang::Discriminator;
use careledger::instruction as data;
use solana_instruction::Instruction;
use solana_message::Message;
use solana_pubkey::Pubkey;
use solana_transaction::Transaction;

/// Largest serialized transaction a leader accepts.
pub const PACKET_DATA_SIZE: usize = 1232;
/// Most instructions, top-level and CPIs together, one transaction may execute.
pub const MAX_INSTRUCTION_TRACE: usize = 64;

/// Trace entries an instruction uses when it executes: itself, the event self-CPI, and the CPIs
/// it makes (account creation, token transfers). Unknown instructions are counted high.
pub fn trace_cost(ix: &Instruction) -> usize {
    if ix.program_id != careledger::ID {
        return 1;
    }
    let d = ix.data.get(..8).unwrap_or_default();
    let is = |disc: &[u8]| d == disc;
    if is(data::GrantRevoke::DISCRIMINATOR)
        || is(data::GrantRevokeAll::DISCRIMINATOR)
        || is(data::AccessLog::DISCRIMINATOR)
        || is(data::GrantUpdate::DISCRIMINATOR)
        || is(data::BreakGlassReview::DISCRIMINATOR)
    {
        2
    } else if is(data::GrantCreate::DISCRIMINATOR)
        || is(data::RecordAnchor::DISCRIMINATOR)
        || is(data::PatientRegister::DISCRIMINATOR)
        || is(data::ProviderRegister::DISCRIMINATOR)
        || is(data::GrantClose::DISCRIMINATOR)
    {
        3
    } else {
        // claim_submit: create + transfer; study_enroll: ATA creation (3) + create + transfer
        8
    }
}

/// Serialized size of a legacy transaction holding `instructions`, paid by `payer`, with all
/// its signatures.
pub fn legacy_size(payer: &Pubkey, instructions: &[Instruction]) -> usize {
    let tx = Transaction::new_unsigned(Message::new(instructions, Some(payer)));
    bincode::serialized_size(&tx).map_or(usize::MAX, |n| n as usize)
}

/// Splits `instructions` in order into legacy transactions that each fit the packet and the
/// instruction trace. An instruction too large for a transaction of its own is left alone in
/// one (sending it will fail with the cluster's own error).
pub fn pack(payer: &Pubkey, instructions: Vec<Instruction>) -> Vec<Vec<Instruction>> {
    let mut out: Vec<Vec<Instruction>> = Vec::new();
    let mut current: Vec<Instruction> = Vec::new();
    let mut trace = 0;
    for ix in instructions {
        let cost = trace_cost(&ix);
        current.push(ix);
        let fits = trace + cost <= MAX_INSTRUCTION_TRACE
            && legacy_size(payer, &current) <= PACKET_DATA_SIZE;
        if fits || current.len() == 1 {
            trace += cost;
            continue;
        }
        let ix = current.pop().expect("just pushed");
        out.push(std::mem::take(&mut current));
        current.push(ix);
        trace = cost;
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The keys that must sign a transaction holding `instructions`.
pub fn required_signers(instructions: &[Instruction]) -> Vec<Pubkey> {
    let mut keys: Vec<Pubkey> = instructions
        .iter()
        .flat_map(|ix| ix.accounts.iter().filter(|m| m.is_signer).map(|m| m.pubkey))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ix;

    #[test]
    fn packs_to_the_packet_and_trace_limits_in_order() {
        let patient = Pubkey::new_unique();
        let revokes: Vec<Instruction> = (0..100)
            .map(|_| {
                let grant = Pubkey::new_unique();
                ix::GrantRevoke {
                    authority: patient,
                    patient_wallet: patient,
                    grant,
                }
                .instruction()
            })
            .collect();
        let first = revokes[0].clone();
        let chunks = pack(&patient, revokes);
        assert_eq!(chunks.iter().map(Vec::len).sum::<usize>(), 100);
        assert_eq!(chunks[0][0], first);
        for chunk in &chunks {
            assert!(legacy_size(&patient, chunk) <= PACKET_DATA_SIZE);
            assert!(chunk.iter().map(trace_cost).sum::<usize>() <= MAX_INSTRUCTION_TRACE);
        }
        // a full chunk could not take one more
        let full = &chunks[0];
        let mut more = full.clone();
        more.push(
            ix::GrantRevoke {
                authority: patient,
                patient_wallet: patient,
                grant: Pubkey::new_unique(),
            }
            .instruction(),
        );
        assert!(
            legacy_size(&patient, &more) > PACKET_DATA_SIZE
                || more.iter().map(trace_cost).sum::<usize>() > MAX_INSTRUCTION_TRACE
        );
        assert_eq!(required_signers(full), vec![patient]);
    }
}
