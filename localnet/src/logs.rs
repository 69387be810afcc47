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

/// Folds the repeated lines of one frame: an `invoke` line equal to the line before it opens no
/// new frame; a frame opened k extra times drops its first k `success` lines; a `failed` line
/// equal to the line before it is the same failure reported again.
pub fn collapse_native_duplicates(logs: Vec<String>) -> Vec<String> {
    struct Frame {
        program: String,
        extra: usize,
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut out = Vec::with_capacity(logs.len());
    let mut previous: Option<String> = None;
    for line in logs {
        let repeated = previous.as_deref() == Some(line.as_str());
        let keep = if let Some((program, _)) = invoke_of(&line) {
            match stack.last_mut() {
                Some(top) if repeated && top.program == program => {
                    top.extra += 1;
                    false
                }
                _ => {
                    stack.push(Frame {
                        program: program.to_string(),
                        extra: 0,
                    });
                    true
                }
            }
        } else if let Some((program, success)) = ends_frame(&line) {
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
        previous = Some(line.clone());
        if keep {
            out.push(line);
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
    fn a_native_frame_with_a_self_cpi_keeps_one_line_per_event() {
        // runtime + wrapper at depth 1; stub + runtime + wrapper for the emit_cpi! self-call
        let raw = lines(
            "Program C invoke [1]
             Program C invoke [1]
             Program C invoke [2]
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
             Program T invoke [2]
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
