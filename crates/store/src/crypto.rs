//! Envelope encryption of sealed bids: a random AES-256-GCM data key per tender, wrapped by a
//! master key that never enters the database.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::fmt;
use std::path::Path;

use crate::{CryptoError, StoreError};

/// The key that wraps every tender's data key. Keep it out of the database: a key file with
/// mode 0600 in the data directory, or `TENDERFLOW_MASTER_KEY` (64 hex digits).
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

fn random<const N: usize>() -> Result<[u8; N], StoreError> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).map_err(CryptoError::NoRandomness)?;
    Ok(b)
}

impl MasterKey {
    /// A key from 64 hex digits.
    pub fn from_hex(hex_text: &str) -> Result<Self, StoreError> {
        let bytes = hex::decode(hex_text.trim()).map_err(CryptoError::KeyNotHex)?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::KeyLength)?;
        Ok(Self(arr))
    }

    /// A fresh random key.
    pub fn generate() -> Result<Self, StoreError> {
        Ok(Self(random()?))
    }

    /// Reads the key file at `path`; a missing file is an error that says what to do (a key
    /// is never made up in place of a lost one: sealed bids could not be opened).
    pub fn load(path: &Path) -> Result<Self, StoreError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_hex(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(CryptoError::NoMasterKey {
                path: path.to_owned(),
            }
            .into()),
            Err(e) => Err(StoreError::io(path, e)),
        }
    }

    /// A check value of the key (SHA-256 of a fixed label and the key): stored in the
    /// database so that a wrong or regenerated key is refused at start, before anything is
    /// sealed with it or fails to open. It reveals nothing of the key.
    pub fn check_value(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(b"tenderflow master key check v1\0");
        h.update(self.0);
        hex::encode(h.finalize())
    }

    /// A key derived from the master key for one purpose (`label`), e.g. the chain's HMAC key.
    pub(crate) fn derive(&self, label: &str) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(b"tenderflow derive v1\0");
        h.update(label.as_bytes());
        h.update([0]);
        h.update(self.0);
        h.finalize().into()
    }

    /// Reads the key file at `path`, creating it (mode 0600) with a fresh key if missing.
    pub fn load_or_create(path: &Path) -> Result<Self, StoreError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_hex(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate()?;
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
                }
                write_private(path, hex::encode(key.0).as_bytes())?;
                Ok(key)
            }
            Err(e) => Err(StoreError::io(path, e)),
        }
    }

    pub(crate) fn wrap(&self, tender: &str, data_key: &[u8; 32]) -> Result<String, StoreError> {
        seal_with(&self.0, tender.as_bytes(), data_key)
    }

    pub(crate) fn unwrap(&self, tender: &str, wrapped: &str) -> Result<[u8; 32], StoreError> {
        let plain = open_with(&self.0, tender.as_bytes(), wrapped)?;
        plain
            .try_into()
            .map_err(|_| CryptoError::WrappedKeyLength.into())
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| StoreError::io(path, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| StoreError::io(path, e))
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    std::fs::write(path, bytes).map_err(|e| StoreError::io(path, e))
}

/// A fresh data key.
pub(crate) fn new_data_key() -> Result<[u8; 32], StoreError> {
    random()
}

/// Encrypts `plain` under `key`, binding it to `aad`; base64 of nonce ‖ ciphertext.
pub(crate) fn seal_with(key: &[u8; 32], aad: &[u8], plain: &[u8]) -> Result<String, StoreError> {
    let cipher = Aes256Gcm::new(key.into());
    let nonce_bytes: [u8; 12] = random()?;
    let ct = cipher
        .encrypt(Nonce::from_slice(&nonce_bytes), Payload { msg: plain, aad })
        .map_err(|_| CryptoError::Encrypt)?;
    let mut out = nonce_bytes.to_vec();
    out.extend_from_slice(&ct);
    Ok(B64.encode(out))
}

/// Reverses [`seal_with`]; fails if the ciphertext, key or `aad` differ.
pub(crate) fn open_with(key: &[u8; 32], aad: &[u8], sealed: &str) -> Result<Vec<u8>, StoreError> {
    let bytes = B64.decode(sealed).map_err(CryptoError::NotBase64)?;
    if bytes.len() < 12 + 16 {
        return Err(CryptoError::TooShort.into());
    }
    let (nonce, ct) = bytes.split_at(12);
    Aes256Gcm::new(key.into())
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
        .map_err(|_| CryptoError::DoesNotDecrypt.into())
}

/// A random nonce prefix for a sealed file's frames.
pub(crate) fn frame_nonce_prefix() -> Result<[u8; 8], StoreError> {
    random()
}

/// The AES-GCM nonce and associated data of frame `index` of a sealed file: the nonce is the
/// file's random prefix and the frame number; the associated data binds the frame to its
/// tender, file and place, and marks the last frame, so that frames cannot be moved,
/// swapped between files, or cut off at the end unnoticed.
fn frame_context(prefix: &[u8; 8], bind: &str, index: u64, last: bool) -> ([u8; 12], Vec<u8>) {
    let mut nonce = [0u8; 12];
    nonce[..8].copy_from_slice(prefix);
    nonce[8..].copy_from_slice(&(index as u32).to_be_bytes());
    let mut aad = b"tenderflow frame v1\0".to_vec();
    aad.extend_from_slice(bind.as_bytes());
    aad.push(0);
    aad.extend_from_slice(&index.to_be_bytes());
    aad.push(u8::from(last));
    (nonce, aad)
}

/// Encrypts one frame of a sealed file (ciphertext ‖ 16-byte tag).
pub(crate) fn seal_frame(
    key: &[u8; 32],
    prefix: &[u8; 8],
    bind: &str,
    index: u64,
    last: bool,
    plain: &[u8],
) -> Result<Vec<u8>, StoreError> {
    let (nonce, aad) = frame_context(prefix, bind, index, last);
    Aes256Gcm::new(key.into())
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: &aad,
            },
        )
        .map_err(|_| CryptoError::Encrypt.into())
}

/// Reverses [`seal_frame`]; fails if the frame was altered, moved or is not where it says.
pub(crate) fn open_frame(
    key: &[u8; 32],
    prefix: &[u8; 8],
    bind: &str,
    index: u64,
    last: bool,
    sealed: &[u8],
) -> Result<Vec<u8>, StoreError> {
    let (nonce, aad) = frame_context(prefix, bind, index, last);
    Aes256Gcm::new(key.into())
        .decrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: sealed,
                aad: &aad,
            },
        )
        .map_err(|_| CryptoError::DoesNotDecrypt.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trips_and_binds_its_context() {
        let key = new_data_key().expect("key");
        let sealed = seal_with(&key, b"T-1/3", b"{\"price\":1}").expect("seal");
        assert_eq!(
            open_with(&key, b"T-1/3", &sealed).expect("open"),
            b"{\"price\":1}"
        );
        assert!(
            open_with(&key, b"T-1/4", &sealed).is_err(),
            "moved ciphertext is refused"
        );
        let other = new_data_key().expect("key");
        assert!(open_with(&other, b"T-1/3", &sealed).is_err());
    }

    #[test]
    fn frames_are_bound_to_their_place() {
        let key = new_data_key().expect("key");
        let prefix = frame_nonce_prefix().expect("prefix");
        let sealed = seal_frame(&key, &prefix, "T-1/d-1", 3, false, b"page").expect("seal");
        assert_eq!(
            open_frame(&key, &prefix, "T-1/d-1", 3, false, &sealed).expect("open"),
            b"page"
        );
        for (bind, index, last) in [
            ("T-1/d-2", 3, false),
            ("T-1/d-1", 4, false),
            ("T-1/d-1", 3, true),
        ] {
            assert!(open_frame(&key, &prefix, bind, index, last, &sealed).is_err());
        }
    }

    #[test]
    fn master_key_wraps_data_keys() {
        let master = MasterKey::generate().expect("master");
        let dk = new_data_key().expect("dk");
        let wrapped = master.wrap("T-9", &dk).expect("wrap");
        assert_eq!(master.unwrap("T-9", &wrapped).expect("unwrap"), dk);
        assert!(
            MasterKey::generate()
                .expect("m")
                .unwrap("T-9", &wrapped)
                .is_err()
        );
    }
}
