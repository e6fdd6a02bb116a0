//! 收款账户: a payee's bank card or passbook number.
//!
//! Personal data like a citizen ID: the store seals it and finds it by keyed hash; screens show
//! [`BankAccount::masked`]; only the bank file carries it in full. Rural credit cooperative
//! passbooks do not all pass the Luhn check cards use, so only the shape is checked.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BankAccount(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BankAccountError(pub String);

impl BankAccount {
    /// Digits only, after dropping the spaces and dashes people type between groups.
    pub fn parse(s: &str) -> Result<BankAccount, BankAccountError> {
        let digits: String = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if digits.is_empty() {
            return Err(BankAccountError("请填写银行账号".into()));
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BankAccountError("银行账号只能包含数字".into()));
        }
        if !(10..=30).contains(&digits.len()) {
            return Err(BankAccountError(format!(
                "银行账号应为10到30位数字，现为{}位",
                digits.len()
            )));
        }
        Ok(BankAccount(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `6217****1234`: enough to tell two accounts apart on a list.
    pub fn masked(&self) -> String {
        let n = self.0.len();
        format!("{}{}{}", &self.0[..4], "*".repeat(n - 8), &self.0[n - 4..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_grouped_numbers_and_masks_the_middle() {
        let a = BankAccount::parse("6217 0012-3456 7890 123").unwrap();
        assert_eq!(a.as_str(), "6217001234567890123");
        assert_eq!(a.masked(), "6217***********0123");
    }

    #[test]
    fn refuses_letters_and_bad_lengths() {
        assert!(BankAccount::parse("6217A").unwrap_err().0.contains("数字"));
        assert!(
            BankAccount::parse("123456")
                .unwrap_err()
                .0
                .contains("10到30位")
        );
        assert!(BankAccount::parse("  ").unwrap_err().0.contains("请填写"));
    }
}
