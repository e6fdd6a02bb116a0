//! Argon2id password hashes. Hashing is deliberately slow, so callers run it off the async
//! threads (`spawn_blocking`).

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

pub const MIN_LEN: usize = 8;

/// Rules a new password must meet, in Chinese.
pub fn check_strength(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_LEN {
        return Err(format!("密码至少 {MIN_LEN} 位"));
    }
    if password.chars().count() > 256 {
        return Err("密码过长（最多 256 位）".into());
    }
    let has_digit = password.chars().any(|c| c.is_ascii_digit());
    let has_letter = password.chars().any(|c| c.is_alphabetic());
    if !(has_digit && has_letter) {
        return Err("密码须同时包含字母和数字".into());
    }
    Ok(())
}

pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default params")
        .to_string()
}

pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash("lianCheng2023");
        let b = hash("lianCheng2023");
        assert_ne!(a, b, "salted");
        assert!(verify("lianCheng2023", &a));
        assert!(!verify("lianCheng2024", &a));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn weak_passwords_are_refused() {
        assert!(check_strength("short1").is_err());
        assert!(check_strength("onlyletters").is_err());
        assert!(check_strength("12345678").is_err());
        assert!(check_strength("abcd1234").is_ok());
    }
}
