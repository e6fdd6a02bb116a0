//! Personal data at rest: citizen IDs and phone numbers are stored sealed (XChaCha20-Poly1305,
//! random 192-bit nonce) and found by a keyed hash (HMAC-SHA256), never in plain text.
//!
//! Both keys are derived from one 32-byte master key kept in a key file *outside* the
//! database (`xiangzhi.key`, mode 0600, created on first start). Losing the file loses the
//! sealed values; a backup must copy it separately, and never next to the database dump.
//!
//! Key file format: one line `xiangzhi-key-v1:<64 hex digits>`.

use std::path::Path;

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce, Tag, XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::error::{StoreError, StoreResult};

const KEY_PREFIX: &str = "xiangzhi-key-v1:";
const SEAL_PREFIX: &str = "v1:";
/// Bytes of the HMAC a lookup hash keeps.
const LOOKUP_BYTES: usize = 16;
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;

/// HMAC-SHA256 with the pads absorbed once: each lookup then hashes two short messages.
#[derive(Clone)]
struct Hmac {
    inner: Sha256,
    outer: Sha256,
}

impl Hmac {
    fn new(key: &[u8; 32]) -> Hmac {
        let mut ipad = [0x36u8; 64];
        let mut opad = [0x5cu8; 64];
        for (i, k) in key.iter().enumerate() {
            ipad[i] ^= k;
            opad[i] ^= k;
        }
        let mut inner = Sha256::new();
        inner.update(ipad);
        let mut outer = Sha256::new();
        outer.update(opad);
        Hmac { inner, outer }
    }

    fn mac(&self, msg: &[u8]) -> [u8; 32] {
        let mut i = self.inner.clone();
        i.update(msg);
        let mut o = self.outer.clone();
        o.update(i.finalize());
        o.finalize().into()
    }
}

/// A batch sealer from [`Vault::sealer`]; shareable across threads.
///
/// XChaCha20-Poly1305 under a nonce whose first 16 bytes are fixed is ChaCha20-Poly1305 under
/// the HChaCha20 subkey of those bytes (draft-arciszewski-xchacha-03, section 2.3), with the
/// last 8 bytes as the nonce: the subkey is derived once here instead of once per value,
/// which was a third of sealing an ID. The output is the same bytes [`Vault::seal`] writes
/// for that nonce.
pub struct Sealer {
    cipher: ChaCha20Poly1305,
    prefix: [u8; 16],
    counter: std::sync::atomic::AtomicU64,
}

impl Sealer {
    pub fn seal(&self, plaintext: &str) -> String {
        let mut out = String::new();
        self.seal_into(plaintext, &mut out);
        out
    }

    /// [`seal`](Self::seal), appending to `out`: a bulk load writes its sealed values
    /// straight into the buffer its rows are bound from.
    pub fn seal_into(&self, plaintext: &str, out: &mut String) {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .to_le_bytes();
        let mut nonce = [0u8; 24];
        nonce[..16].copy_from_slice(&self.prefix);
        nonce[16..].copy_from_slice(&n);
        let mut inner = [0u8; 12];
        inner[4..].copy_from_slice(&n);
        encode_sealed_into(
            &nonce,
            plaintext.as_bytes(),
            |body| {
                self.cipher
                    .encrypt_inout_detached(&Nonce::from(inner), b"", body.into())
            },
            out,
        );
    }
}

/// `v1:` + base64(nonce ‖ ciphertext ‖ tag), encrypting in one buffer (on the stack for the
/// short values sealed here) instead of three heap copies.
fn encode_sealed(
    nonce: &[u8; 24],
    plaintext: &[u8],
    encrypt: impl FnOnce(&mut [u8]) -> Result<Tag, chacha20poly1305::aead::Error>,
) -> String {
    let mut out = String::new();
    encode_sealed_into(nonce, plaintext, encrypt, &mut out);
    out
}

/// [`encode_sealed`], appending to `out`.
fn encode_sealed_into(
    nonce: &[u8; 24],
    plaintext: &[u8],
    encrypt: impl FnOnce(&mut [u8]) -> Result<Tag, chacha20poly1305::aead::Error>,
    out: &mut String,
) {
    const SHORT: usize = 64;
    let total = 24 + plaintext.len() + 16;
    let mut short = [0u8; 24 + SHORT + 16];
    let mut long = Vec::new();
    let buf: &mut [u8] = if plaintext.len() <= SHORT {
        &mut short[..total]
    } else {
        long.resize(total, 0);
        &mut long
    };
    buf[..24].copy_from_slice(nonce);
    let (body, tag_out) = buf[24..].split_at_mut(plaintext.len());
    body.copy_from_slice(plaintext);
    let tag = encrypt(body).expect("encryption of a short value cannot fail");
    tag_out.copy_from_slice(&tag);
    out.reserve(SEAL_PREFIX.len() + total.div_ceil(3) * 4);
    out.push_str(SEAL_PREFIX);
    B64.encode_string(&*buf, out);
}

/// Seals and finds personal data. Cheap to share: hold it in an `Arc`.
pub struct Vault {
    cipher: XChaCha20Poly1305,
    /// Kept for [`Sealer`]'s subkeys.
    seal_key: [u8; 32],
    lookup: Hmac,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(..)")
    }
}

impl Vault {
    /// From a master key: the sealing and lookup keys are HMACs of fixed labels under it.
    pub fn from_master(master: &[u8; 32]) -> Vault {
        let derive = Hmac::new(master);
        let seal_key = derive.mac(b"xiangzhi seal key");
        let lookup_key = derive.mac(b"xiangzhi lookup key");
        Vault {
            cipher: XChaCha20Poly1305::new_from_slice(&seal_key).expect("32-byte key"),
            seal_key,
            lookup: Hmac::new(&lookup_key),
        }
    }

    /// A throwaway vault with a random key, for tests.
    pub fn ephemeral() -> Vault {
        let mut master = [0u8; 32];
        getrandom::fill(&mut master).expect("system random source");
        Vault::from_master(&master)
    }

    /// Reads the key file, creating it (0600) with a fresh random key if it does not exist.
    /// A file that exists but is not a key file is refused: generating a new key over it
    /// would make every sealed value unreadable.
    pub fn open_or_create(path: &Path) -> StoreResult<Vault> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse_key_file(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut master = [0u8; 32];
                getrandom::fill(&mut master)
                    .map_err(|e| StoreError::Backend(format!("无法取得随机数：{e}")))?;
                Self::write_key_file(path, &master)?;
                Ok(Vault::from_master(&master))
            }
            Err(e) => Err(StoreError::Backend(format!(
                "无法读取密钥文件 {}：{e}",
                path.display()
            ))),
        }
    }

    fn parse_key_file(text: &str, path: &Path) -> StoreResult<Vault> {
        let bad = || {
            StoreError::invalid(format!(
                "密钥文件 {} 格式不正确（应为一行 {KEY_PREFIX}加64位十六进制数）。\
                 请勿手工修改该文件；若已损坏，请从备份恢复，否则已加密的身份证号和电话将无法读取",
                path.display()
            ))
        };
        let hex_part = text.trim().strip_prefix(KEY_PREFIX).ok_or_else(bad)?;
        let bytes = hex::decode(hex_part).map_err(|_| bad())?;
        let master: [u8; 32] = bytes.try_into().map_err(|_| bad())?;
        Ok(Vault::from_master(&master))
    }

    fn write_key_file(path: &Path, master: &[u8; 32]) -> StoreResult<()> {
        use std::io::Write as _;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Backend(format!("无法创建密钥文件目录 {}：{e}", dir.display()))
            })?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        let mut f = opts.open(path).map_err(|e| {
            StoreError::Backend(format!("无法创建密钥文件 {}：{e}", path.display()))
        })?;
        writeln!(f, "{KEY_PREFIX}{}", hex::encode(master))
            .and_then(|_| f.sync_all())
            .map_err(|e| StoreError::Backend(format!("无法写入密钥文件 {}：{e}", path.display())))
    }

    /// `v1:` + base64(nonce ‖ ciphertext ‖ tag). A fresh nonce each time, so equal values
    /// seal differently; use [`Vault::lookup`] to compare.
    pub fn seal(&self, plaintext: &str) -> String {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).expect("system random source");
        self.seal_with(nonce, plaintext)
    }

    /// For sealing many values at once (an import): nonces are a random 128-bit prefix and
    /// a counter, so they never repeat within the batch and collide across batches with
    /// probability 2^-128, for one system call instead of one per value.
    pub fn sealer(&self) -> Sealer {
        let mut prefix = [0u8; 16];
        getrandom::fill(&mut prefix).expect("system random source");
        let subkey = chacha20::hchacha::<chacha20::R20>(&self.seal_key.into(), &prefix.into());
        Sealer {
            cipher: ChaCha20Poly1305::new(&subkey),
            prefix,
            counter: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn seal_with(&self, nonce: [u8; 24], plaintext: &str) -> String {
        encode_sealed(&nonce, plaintext.as_bytes(), |body| {
            self.cipher
                .encrypt_inout_detached(&XNonce::from(nonce), b"", body.into())
        })
    }

    /// Fails (in Chinese) when the value was sealed under another key or altered.
    pub fn open(&self, sealed: &str) -> StoreResult<String> {
        let bad = || {
            StoreError::Backend(
                "无法解密个人信息：密钥文件与数据库不匹配，或数据已被改动".to_string(),
            )
        };
        let b64 = sealed.strip_prefix(SEAL_PREFIX).ok_or_else(bad)?;
        let buf = B64.decode(b64).map_err(|_| bad())?;
        if buf.len() < 24 + 16 {
            return Err(bad());
        }
        let (nonce, ct) = buf.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| bad())?;
        let pt = self
            .cipher
            .decrypt(&XNonce::from(nonce), ct)
            .map_err(|_| bad())?;
        String::from_utf8(pt).map_err(|_| bad())
    }

    /// Keyed hash for equality search: the first 128 bits of the HMAC, as 32 hex digits
    /// (migration 0014 cut stored hashes to this). Callers pass the canonical form
    /// (`CitizenId::as_str`, `Phone::as_str`) so any spelling of a value finds it.
    pub fn lookup(&self, plaintext: &str) -> String {
        self.lookup_inline(plaintext).as_str().to_string()
    }

    /// [`lookup`](Vault::lookup) without a heap string.
    pub fn lookup_inline(&self, plaintext: &str) -> LookupHash {
        let mut hex_digits = [0u8; LOOKUP_BYTES * 2];
        hex::encode_to_slice(
            &self.lookup.mac(plaintext.as_bytes())[..LOOKUP_BYTES],
            &mut hex_digits,
        )
        .expect("the buffer holds two digits per byte");
        LookupHash(hex_digits)
    }
}

/// A keyed hash as [`Vault::lookup`] writes it, held inline: an import keeps one or two per
/// row, and a heap string each was 1.1 million allocations for a county, made and freed.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LookupHash([u8; LOOKUP_BYTES * 2]);

impl LookupHash {
    pub fn as_str(&self) -> &str {
        // checking the 32 digits each time was 4% of planning a county's import
        debug_assert!(self.0.is_ascii());
        // SAFETY: the bytes are hex digits, written only by `hex::encode_to_slice` in
        // `lookup_inline`, so they are ASCII and valid UTF-8.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }

    /// The hash as a number, for maps and sorts that need not compare text: equal hashes
    /// give equal numbers, and the order is that of the text.
    pub fn key(&self) -> u128 {
        self.0.iter().fold(0u128, |n, d| {
            let v = match d {
                b'0'..=b'9' => d - b'0',
                _ => (d | 0x20) - b'a' + 10,
            };
            (n << 4) | u128::from(v)
        })
    }
}

impl std::fmt::Debug for LookupHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2_shape() {
        // RFC 4231 test case 2 uses a 4-byte key; ours are 32 bytes, zero-padded like HMAC does.
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let mac = Hmac::new(&key).mac(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn seal_into_appends_a_sealed_value() {
        let v = Vault::ephemeral();
        let sealer = v.sealer();
        let mut buf = String::from("前文");
        sealer.seal_into("13800138000", &mut buf);
        let first = buf.len();
        sealer.seal_into("11010519491231002X", &mut buf);
        assert_eq!(&buf[.."前文".len()], "前文");
        assert_eq!(v.open(&buf["前文".len()..first]).unwrap(), "13800138000");
        assert_eq!(v.open(&buf[first..]).unwrap(), "11010519491231002X");
    }

    #[test]
    fn seal_open_and_lookup() {
        let v = Vault::ephemeral();
        let a = v.seal("11010519491231002X");
        let b = v.seal("11010519491231002X");
        assert_ne!(a, b, "random nonce");
        assert!(!a.contains("11010519491231002X"));
        assert_eq!(v.open(&a).unwrap(), "11010519491231002X");
        assert_eq!(v.lookup("x"), v.lookup("x"));
        assert_eq!(v.lookup("x").len(), 32);
        assert_ne!(v.lookup("x"), v.lookup("y"));
        for text in ["x", "y", "11010519491231002X"] {
            let h = v.lookup_inline(text);
            assert_eq!(h.key(), u128::from_str_radix(h.as_str(), 16).unwrap());
        }
        let sealer = v.sealer();
        let (c, d) = (
            sealer.seal("11010519491231002X"),
            sealer.seal("11010519491231002X"),
        );
        assert!(c != d && c != a, "a fresh nonce per value in a batch");
        assert_eq!(v.open(&c).unwrap(), "11010519491231002X");
        assert_eq!(v.open(&d).unwrap(), "11010519491231002X");
        let other = Vault::ephemeral();
        assert!(other.open(&a).is_err());
        assert_ne!(other.lookup("x"), v.lookup("x"));
        // the batch shortcut writes exactly what XChaCha20-Poly1305 writes for that nonce
        let nonce: [u8; 24] = B64.decode(&c[SEAL_PREFIX.len()..]).unwrap()[..24]
            .try_into()
            .unwrap();
        assert_eq!(c, v.seal_with(nonce, "11010519491231002X"));
        let long = "联系地址".repeat(20);
        assert_eq!(v.open(&sealer.seal(&long)).unwrap(), long);
        assert_eq!(v.open(&v.seal(&long)).unwrap(), long);
        assert_eq!(v.open(&sealer.seal("")).unwrap(), "");
        let mut tampered = a.clone();
        tampered.pop();
        tampered.push(if a.ends_with('A') { 'B' } else { 'A' });
        assert!(v.open(&tampered).is_err());
    }

    #[test]
    fn key_file_is_created_once_and_malformed_files_are_refused() {
        let dir = std::env::temp_dir().join(format!("xz-vault-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("sub").join("xiangzhi.key");
        let v1 = Vault::open_or_create(&path).unwrap();
        let sealed = v1.seal("13812345678");
        let v2 = Vault::open_or_create(&path).unwrap();
        assert_eq!(v2.open(&sealed).unwrap(), "13812345678");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not a key").unwrap();
        let err = Vault::open_or_create(&path).unwrap_err().to_string();
        assert!(err.contains("密钥文件"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
