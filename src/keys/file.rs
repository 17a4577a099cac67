//! Key files on disk: reading them with a size limit, and writing a key pair safely (private
//! key 0600, public key 0644, each written whole and renamed into place; never overwriting
//! without `force`).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::escape::display_path;
use crate::exit::{Exit, HasExit};
use crate::hash::open::io_reason;
use crate::keys::{KeyError, PrivateKey};
use crate::oms::constants::{MAX_KEY_FILE_BYTES, MAX_TRUST_FILE_BYTES};
use crate::small_file::{self, SmallFileError};
use crate::write::{Pending, Replace};

/// Why a key file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("{}: {}", display_path(.path), io_reason(.source))]
    Io { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Read(#[from] SmallFileError),
    #[error("{}: not UTF-8 PEM text", display_path(.path))]
    NotText { path: PathBuf },
    #[error("{}: already exists (use --force to replace it)", display_path(.path))]
    Exists { path: PathBuf },
    #[error("{}: {source}", display_path(.path))]
    Key { path: PathBuf, source: KeyError },
}

impl HasExit for KeyFileError {
    /// An unreadable, unusable or existing key file is a configuration error.
    fn exit(&self) -> Exit {
        Exit::Usage
    }
}

/// Read a key file's text (zeroized when dropped).
pub fn read_key_text(path: &Path) -> Result<Zeroizing<String>, KeyFileError> {
    let bytes = small_file::read(path, MAX_KEY_FILE_BYTES, "key file")?;
    let text =
        std::str::from_utf8(&bytes).map_err(|_| KeyFileError::NotText { path: path.into() })?;
    Ok(Zeroizing::new(text.to_string()))
}

/// Read a file of trust material (PEM certificates, a Sigstore trusted root), bounded.
pub fn read_trust_file(path: &Path) -> Result<Vec<u8>, KeyFileError> {
    Ok(small_file::read(path, MAX_TRUST_FILE_BYTES, "trust file")?.to_vec())
}

/// `PREFIX.key` and `PREFIX.pub`.
pub fn key_pair_paths(prefix: &Path) -> (PathBuf, PathBuf) {
    let with = |ext: &str| {
        let mut s = prefix.as_os_str().to_owned();
        s.push(ext);
        PathBuf::from(s)
    };
    (with(".key"), with(".pub"))
}

/// Write `key` as `PREFIX.key` (PKCS#8 PEM, encrypted when `passphrase` is given, mode 0600)
/// and `PREFIX.pub` (SubjectPublicKeyInfo PEM, 0644). Without `force`, an existing file of
/// either name is refused before anything is written. With it, both new files are written
/// completely before either replaces an old one, and the private key is put in place last:
/// a failure at any point leaves the old private key where it was.
pub fn write_key_pair(
    prefix: &Path,
    key: &PrivateKey,
    passphrase: Option<&[u8]>,
    force: bool,
) -> Result<(PathBuf, PathBuf), KeyFileError> {
    let (key_path, pub_path) = key_pair_paths(prefix);
    if !force {
        if let Some(p) = [&key_path, &pub_path]
            .into_iter()
            .find(|p| fs::symlink_metadata(p).is_ok())
        {
            return Err(KeyFileError::Exists { path: p.clone() });
        }
    }
    let private_pem = key
        .to_pkcs8_pem(passphrase)
        .map_err(|e| KeyFileError::Key {
            path: key_path.clone(),
            source: e,
        })?;
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |e: io::Error| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                KeyFileError::Exists { path }
            } else {
                KeyFileError::Io { path, source: e }
            }
        }
    };
    let private =
        Pending::write(&key_path, private_pem.as_bytes(), 0o600).map_err(io_err(&key_path))?;
    let public = Pending::write(&pub_path, key.public_key().to_pem().as_bytes(), 0o644)
        .map_err(io_err(&pub_path))?;
    // The public key first: if the private key cannot be put in place, the old private key
    // is still there (its public key can always be derived again), never lost.
    let replace = if force { Replace::Yes } else { Replace::No };
    public.commit(replace).map_err(io_err(&pub_path))?;
    if let Err(e) = private.commit(replace) {
        if !force {
            let _ = fs::remove_file(&pub_path);
        }
        return Err(io_err(&key_path)(e));
    }
    Ok((key_path, pub_path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyType;

    /// Replacing a key pair with `force` writes both files whole before either replaces an
    /// old one, the private key last: a failure on the way leaves the old private key.
    #[test]
    fn a_failed_replacement_keeps_the_old_private_key() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("release");
        let old = PrivateKey::generate(KeyType::EcdsaP256);
        let (key_path, pub_path) = write_key_pair(&prefix, &old, None, false).unwrap();
        let old_text = fs::read(&key_path).unwrap();
        assert!(matches!(
            write_key_pair(&prefix, &old, None, false),
            Err(KeyFileError::Exists { .. })
        ));
        // The public key's place is taken by a directory: its rename must fail.
        fs::remove_file(&pub_path).unwrap();
        fs::create_dir(&pub_path).unwrap();
        fs::write(pub_path.join("keep"), b"x").unwrap();
        let new = PrivateKey::generate(KeyType::EcdsaP256);
        assert!(write_key_pair(&prefix, &new, None, true).is_err());
        assert_eq!(fs::read(&key_path).unwrap(), old_text);
        // Nothing else was left behind: the old key, the directory, no temporary file.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
        fs::remove_dir_all(&pub_path).unwrap();
        write_key_pair(&prefix, &new, None, true).unwrap();
        assert_ne!(fs::read(&key_path).unwrap(), old_text);
    }
}
