//! Signed storage URLs: a keyed BLAKE3 hash over (operation, key, expiry, owner) with a secret kept
//! in the data directory, so URLs stay valid across restarts and cannot be forged or extended.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::ShimError;

/// What a signed URL allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `GET`/`HEAD` the object.
    Read,
    /// `PUT`/`POST` the object.
    Write,
}

impl Op {
    fn tag(self) -> &'static str {
        match self {
            Op::Read => "read",
            Op::Write => "write",
        }
    }
}

/// Signs and checks storage URLs.
#[derive(Clone)]
pub struct Signer {
    key: [u8; 32],
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(..)")
    }
}

/// Seconds since the Unix epoch: the clock of every signed, expiring thing the shim hands out
/// (storage URLs, session tokens).
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Signer {
    /// A signer with the given key.
    pub fn new(key: [u8; 32]) -> Self {
        Signer { key }
    }

    /// The key, to share it with other instances.
    pub(crate) fn key(&self) -> [u8; 32] {
        self.key
    }

    /// Load the secret from `path`, creating it (32 random bytes, mode 0600) if missing.
    pub fn load_or_create(path: &Path) -> std::io::Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) if bytes.len() == 32 => {
                let mut key = [0u8; 32];
                key.copy_from_slice(&bytes);
                Ok(Signer { key })
            }
            Ok(_) | Err(_) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let key: [u8; 32] = rand::random();
                let tmp = path.with_extension("tmp");
                {
                    use std::io::Write;
                    let mut opts = std::fs::OpenOptions::new();
                    opts.write(true).create(true).truncate(true);
                    #[cfg(unix)]
                    {
                        use std::os::unix::fs::OpenOptionsExt;
                        opts.mode(0o600);
                    }
                    let mut f = opts.open(&tmp)?;
                    f.write_all(&key)?;
                    f.sync_all()?;
                }
                std::fs::rename(&tmp, path)?;
                Ok(Signer { key })
            }
        }
    }

    /// The signature (32 hex characters) for `op` on `key` until `expires` (Unix seconds), for
    /// the uploader `owner` (empty for reads and admin uploads).
    pub fn sign(&self, op: Op, key: &str, expires: u64, owner: &str) -> String {
        let mut h = blake3::Hasher::new_keyed(&self.key);
        h.update(op.tag().as_bytes());
        h.update(b"\0");
        h.update(key.as_bytes());
        h.update(b"\0");
        h.update(expires.to_string().as_bytes());
        h.update(b"\0");
        h.update(owner.as_bytes());
        hex::encode(&h.finalize().as_bytes()[..16])
    }

    /// Check a signature; rejects forged, mismatched and expired ones.
    pub fn verify(
        &self,
        op: Op,
        key: &str,
        expires: u64,
        owner: &str,
        sig: &str,
    ) -> Result<(), ShimError> {
        let want = self.sign(op, key, expires, owner);
        // Constant-time comparison of the hex strings.
        let equal = want.len() == sig.len()
            && want
                .bytes()
                .zip(sig.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !equal {
            return Err(ShimError::BadSignature("does not match"));
        }
        if expires < now_secs() {
            return Err(ShimError::BadSignature("expired"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify() {
        let s = Signer::new([7; 32]);
        let exp = now_secs() + 60;
        let sig = s.sign(Op::Read, "a/b.txt", exp, "");
        assert_eq!(sig.len(), 32);
        s.verify(Op::Read, "a/b.txt", exp, "", &sig).unwrap();
        assert!(s.verify(Op::Write, "a/b.txt", exp, "", &sig).is_err());
        assert!(s.verify(Op::Read, "a/c.txt", exp, "", &sig).is_err());
        assert!(s.verify(Op::Read, "a/b.txt", exp + 1, "", &sig).is_err());
        assert!(s.verify(Op::Read, "a/b.txt", exp, "o1", &sig).is_err());
        let past = now_secs() - 1;
        let old = s.sign(Op::Read, "a/b.txt", past, "");
        assert!(matches!(
            s.verify(Op::Read, "a/b.txt", past, "", &old),
            Err(ShimError::BadSignature("expired"))
        ));
        assert!(
            Signer::new([8; 32])
                .verify(Op::Read, "a/b.txt", exp, "", &sig)
                .is_err()
        );
    }

    #[test]
    fn secret_persists() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("secret");
        let a = Signer::load_or_create(&p).unwrap();
        let b = Signer::load_or_create(&p).unwrap();
        assert_eq!(a.sign(Op::Read, "k", 1, ""), b.sign(Op::Read, "k", 1, ""));
    }
}
