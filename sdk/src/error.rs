//! Program errors as names and messages.
//!
//! A failed transaction carries only a number (`custom program error: 0x1776`). The program logs
//! Anchor's full error line, so [`ProgramFailure::from_logs`] reads that first; the number alone is
//! decoded with the program's own error table.

use meridian::MeridianError;
use solana_sdk::{instruction::InstructionError, transaction::TransactionError};

/// A program error, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramFailure {
    /// Anchor error number (6000+ for Meridian's own errors), or the raw custom code.
    pub code: u32,
    /// The variant name, e.g. `InsufficientCollateral` or Anchor's `ConstraintSeeds`.
    pub name: String,
    pub message: String,
}

impl std::fmt::Display for ProgramFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (error {}): {}", self.name, self.code, self.message)
    }
}

impl ProgramFailure {
    /// One of Meridian's own errors, by number.
    pub fn from_code(code: u32) -> Option<ProgramFailure> {
        MeridianError::from_code(code).map(|e| ProgramFailure { code, name: e.name(), message: e.to_string() })
    }

    /// Anchor's log line: `AnchorError ... Error Code: <name>. Error Number: <n>. Error Message: <msg>.`
    pub fn from_logs(logs: &[String]) -> Option<ProgramFailure> {
        logs.iter().rev().find_map(|line| {
            let rest = &line[line.find("Error Code: ")? + "Error Code: ".len()..];
            let (name, rest) = rest.split_once(". Error Number: ")?;
            let (number, message) = rest.split_once(". Error Message: ")?;
            Some(ProgramFailure {
                code: number.trim().parse().ok()?,
                name: name.to_string(),
                message: message.trim_end_matches('.').to_string(),
            })
        })
    }

    /// From a transaction error and its logs: Anchor's log line, else the error table, else the
    /// last "Program log: Error: ..." line (SPL Token reports that way), else the raw code.
    pub fn from_transaction_error(err: &TransactionError, logs: &[String]) -> Option<ProgramFailure> {
        let TransactionError::InstructionError(_, InstructionError::Custom(code)) = err else {
            return None;
        };
        if let Some(failure) = Self::from_logs(logs).filter(|f| f.code == *code) {
            return Some(failure);
        }
        if let Some(failure) = Self::from_code(*code) {
            return Some(failure);
        }
        let message = logs
            .iter()
            .rev()
            .find_map(|l| l.strip_prefix("Program log: Error: "))
            .unwrap_or("custom program error")
            .to_string();
        Some(ProgramFailure { code: *code, name: format!("Custom({code})"), message })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_own_codes_in_order() {
        let first = ProgramFailure::from_code(6000).unwrap();
        assert_eq!(first.name, "NotAdmin");
        for (i, e) in MeridianError::ALL.iter().enumerate() {
            assert_eq!(u32::from(*e), 6000 + i as u32);
            assert_eq!(ProgramFailure::from_code(6000 + i as u32).unwrap().name, e.name());
        }
        assert_eq!(ProgramFailure::from_code(6000 + MeridianError::ALL.len() as u32), None);
        assert_eq!(ProgramFailure::from_code(2006), None);
    }

    #[test]
    fn reads_anchor_log_lines() {
        let logs = vec![
            "Program log: Instruction: Deposit".to_string(),
            "Program log: AnchorError caused by account: margin_account. Error Code: ConstraintSeeds. Error Number: 2006. Error Message: A seeds constraint was violated.".to_string(),
        ];
        let f = ProgramFailure::from_logs(&logs).unwrap();
        assert_eq!(
            (f.code, f.name.as_str(), f.message.as_str()),
            (2006, "ConstraintSeeds", "A seeds constraint was violated")
        );
        let err = TransactionError::InstructionError(0, InstructionError::Custom(2006));
        assert_eq!(ProgramFailure::from_transaction_error(&err, &logs), Some(f));
    }

    #[test]
    fn falls_back_to_spl_log_or_code() {
        let logs = vec!["Program log: Error: insufficient funds".to_string()];
        let err = TransactionError::InstructionError(0, InstructionError::Custom(1));
        let f = ProgramFailure::from_transaction_error(&err, &logs).unwrap();
        assert_eq!((f.code, f.message.as_str()), (1, "insufficient funds"));
        assert_eq!(ProgramFailure::from_transaction_error(&TransactionError::AccountNotFound, &logs), None);
    }
}
