//! Key files on disk: reading them with a size limit, and writing a key pair safely
//! (private key 0600 with `create_new`, public key 0644, never overwriting without `force`).

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::constants::MAX_KEY_FILE_BYTES;
use crate::escape::display_path;
use crate::keys::{KeyError, PrivateKey};
use crate::open::io_reason;

/// Why a key file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("{}: {}", display_path(.path), io_reason(.source))]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: larger than {MAX_KEY_FILE_BYTES} bytes; not a key file", display_path(.path))]
    TooLarge { path: PathBuf },
    #[error("{}: not UTF-8 PEM text", display_path(.path))]
    NotText { path: PathBuf },
    #[error("{}: already exists (use --force to replace it)", display_path(.path))]
    Exists { path: PathBuf },
    #[error("{}: {source}", display_path(.path))]
    Key { path: PathBuf, source: KeyError },
}

/// Read a key file's text (zeroized when dropped).
pub fn read_key_text(path: &Path) -> Result<Zeroizing<String>, KeyFileError> {
    let io_err = |e| KeyFileError::Io {
        path: path.into(),
        source: e,
    };
    let file = fs::File::open(path).map_err(io_err)?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(KeyFileError::TooLarge { path: path.into() });
    }
    let text =
        std::str::from_utf8(&bytes).map_err(|_| KeyFileError::NotText { path: path.into() })?;
    Ok(Zeroizing::new(text.to_string()))
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

fn create(path: &Path, mode: u32, content: &[u8]) -> Result<(), KeyFileError> {
    let io_err = |e| KeyFileError::Io {
        path: path.into(),
        source: e,
    };
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                KeyFileError::Exists { path: path.into() }
            } else {
                io_err(e)
            }
        })?;
    f.write_all(content)
        .and_then(|_| f.sync_all())
        .map_err(io_err)
}

/// Write `key` as `PREFIX.key` (PKCS#8 PEM, encrypted when `passphrase` is given, mode 0600)
/// and `PREFIX.pub` (SubjectPublicKeyInfo PEM, 0644). Without `force`, an existing file of
/// either name is refused before anything is written.
pub fn write_key_pair(
    prefix: &Path,
    key: &PrivateKey,
    passphrase: Option<&[u8]>,
    force: bool,
) -> Result<(PathBuf, PathBuf), KeyFileError> {
    let (key_path, pub_path) = key_pair_paths(prefix);
    for p in [&key_path, &pub_path] {
        match fs::symlink_metadata(p) {
            Ok(_) if !force => return Err(KeyFileError::Exists { path: p.clone() }),
            Ok(_) => fs::remove_file(p).map_err(|e| KeyFileError::Io {
                path: p.clone(),
                source: e,
            })?,
            Err(_) => {}
        }
    }
    let private_pem = key
        .to_pkcs8_pem(passphrase)
        .map_err(|e| KeyFileError::Key {
            path: key_path.clone(),
            source: e,
        })?;
    create(&key_path, 0o600, private_pem.as_bytes())?;
    if let Err(e) = create(&pub_path, 0o644, key.public_key().to_pem().as_bytes()) {
        let _ = fs::remove_file(&key_path);
        return Err(e);
    }
    Ok((key_path, pub_path))
}
