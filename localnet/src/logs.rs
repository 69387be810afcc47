//! Transaction logs as a cluster writes them. A natively registered program is invoked through
//! solana-program-test's wrapper, which writes its own `invoke [n]` and `success` lines beside
//! the runtime's (and so does its CPI stub, for each program a native program calls): the same
//! frame would appear two or three times. This folds them back to one line each.

/// `Program <id> invoke [<n>]`
fn invoke_of(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("Program ")?;
    let (program, depth) = rest.split_once(" invoke [")?;
    depth.strip_suffix(']').map(|d| (program, d))
}

fn ends_frame(line: &str) -> Option<(&str, bool)> {
    let rest = line.strip_prefix("Program ")?;
    if let Some(program) = rest.strip_suffix(" success") {
        return Some((program, true));
    }
    rest.split_once(" failed: ")
        .map(|(program, _)| (program, false))
}

/// Folds the extra lines back into one per frame:
/// - program-test's CPI stub writes `invoke [n]` with its caller's depth just before the
///   runtime writes the same program at `n + 1`: the stub's line is dropped;
/// - program-test's wrapper of a native program repeats the runtime's `invoke [n]` line;
/// - each extra `invoke` of a frame has an extra `success` at its end: the frame's first ones
///   are dropped, its last one closes it;
/// - a `failed` line equal to the line before it is the same failure reported again.
pub fn collapse_native_duplicates(logs: Vec<String>) -> Vec<String> {
    struct Frame {
        program: String,
        extra: usize,
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut out = Vec::with_capacity(logs.len());
    let mut pending_extra = 0;
    for (i, line) in logs.iter().enumerate() {
        let repeated = i > 0 && logs[i - 1] == *line;
        let keep = if let Some((program, depth)) = invoke_of(line) {
            let stub = depth.parse::<usize>().ok().is_some_and(|d| {
                logs.get(i + 1).and_then(|next| invoke_of(next))
                    == Some((program, (d + 1).to_string().as_str()))
            });
            match stack.last_mut() {
                _ if stub => {
                    pending_extra += 1;
                    false
                }
                Some(top) if repeated && top.program == program => {
                    top.extra += 1;
                    false
                }
                _ => {
                    stack.push(Frame {
                        program: program.to_string(),
                        extra: std::mem::take(&mut pending_extra),
                    });
                    true
                }
            }
        } else if let Some((program, success)) = ends_frame(line) {
            match stack.last_mut() {
                Some(top) if success && top.extra > 0 && top.program == program => {
                    top.extra -= 1;
                    false
                }
                _ if !success && repeated => false,
                _ => {
                    stack.pop();
                    true
                }
            }
        } else {
            true
        };
        if keep {
            out.push(line.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::collapse_native_duplicates;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(|l| l.trim().to_string()).collect()
    }

    #[test]
    fn a_native_program_with_a_system_cpi_and_a_self_cpi_keeps_one_line_per_frame() {
        // what LiteSVM collected for patient_register: runtime + wrapper at depth 1; the stub
        // (at its caller's depth) + runtime for the system program's create_account; stub +
        // runtime + wrapper for emit_cpi!'s call of careledger itself
        let raw = lines(
            "Program C invoke [1]
             Program C invoke [1]
             Program S invoke [1]
             Program S invoke [2]
             Program S success
             Program S success
             Program C invoke [1]
             Program C invoke [2]
             Program C invoke [2]
             Program C success
             Program C success
             Program C success
             Program C success
             Program C success",
        );
        assert_eq!(
            collapse_native_duplicates(raw),
            lines(
                "Program C invoke [1]
                 Program S invoke [2]
                 Program S success
                 Program C invoke [2]
                 Program C success
                 Program C success"
            )
        );
    }

    #[test]
    fn a_bpf_program_called_from_native_code_keeps_its_consumed_line() {
        let raw = lines(
            "Program C invoke [1]
             Program C invoke [1]
             Program T invoke [1]
             Program T invoke [2]
             Program log: Instruction: Transfer
             Program T consumed 4645 of 1399000 compute units
             Program T success
             Program T success
             Program C success
             Program C success",
        );
        assert_eq!(
            collapse_native_duplicates(raw),
            lines(
                "Program C invoke [1]
                 Program T invoke [2]
                 Program log: Instruction: Transfer
                 Program T consumed 4645 of 1399000 compute units
                 Program T success
                 Program C success"
            )
        );
    }

    #[test]
    fn a_native_failure_is_reported_once() {
        let raw = lines(
            "Program C invoke [1]
             Program C invoke [1]
             Program C failed: custom program error: 0x1771
             Program C failed: custom program error: 0x1771",
        );
        assert_eq!(
            collapse_native_duplicates(raw),
            lines(
                "Program C invoke [1]
                 Program C failed: custom program error: 0x1771"
            )
        );
    }

    #[test]
    fn a_bpf_only_transaction_is_left_as_it_is() {
        let raw = lines(
            "Program 11111111111111111111111111111111 invoke [1]
             Program 11111111111111111111111111111111 success
             Program 11111111111111111111111111111111 invoke [1]
             Program 11111111111111111111111111111111 success",
        );
        assert_eq!(collapse_native_duplicates(raw.clone()), raw);
    }
}
