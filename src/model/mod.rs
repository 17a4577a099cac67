//! A model on disk: a directory or a single file, its name, the user's paths relative to it,
//! and opening one of its files while proving it is the file the walk saw.

pub mod hf;
pub mod paths;

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use crate::escape::display_path;
use crate::exit::{Exit, HasExit};
use crate::hash::open::io_reason;
use crate::hash::open::Seen;
use crate::hash::walk::{Entry, EntryKind};
use crate::model::paths::check_rel_path;

/// Where a model is.
#[derive(Clone, Debug)]
pub struct Model {
    /// The model as given.
    pub given: PathBuf,
    /// The directory the model's relative paths start from (the parent, for a single file).
    pub root: PathBuf,
    /// `root`, canonicalized.
    pub canonical_root: PathBuf,
    /// For a single-file model, its basename.
    pub single: Option<String>,
    /// The subject name: the directory's or the file's name.
    pub name: String,
}

/// A model that cannot be located.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{}: {}", display_path(.path), io_reason(.source))]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: not a directory or regular file ({kind})", display_path(.path))]
    Kind { path: PathBuf, kind: &'static str },
    #[error("{}: file name is not UTF-8", display_path(.path))]
    NotUtf8 { path: PathBuf },
}

impl HasExit for ModelError {
    /// The model is not where the user said: verification fails (a command that only reads
    /// its arguments, such as `sign`, reports it as a usage error instead).
    fn exit(&self) -> Exit {
        Exit::Failure
    }
}

impl Model {
    /// Locate `given` (followed if it is a symlink: the user named it).
    pub fn locate(given: &Path) -> Result<Model, ModelError> {
        let io_err = |e| ModelError::Io {
            path: given.into(),
            source: e,
        };
        let meta = fs::metadata(given).map_err(io_err)?;
        let canonical = fs::canonicalize(given).map_err(io_err)?;
        let name_of = |p: &Path| -> Result<String, ModelError> {
            match p.file_name() {
                None => Ok(String::new()),
                Some(n) => n
                    .to_str()
                    .map(str::to_string)
                    .ok_or(ModelError::NotUtf8 { path: given.into() }),
            }
        };
        if meta.is_dir() {
            Ok(Model {
                given: given.into(),
                root: given.into(),
                name: name_of(&canonical)?,
                canonical_root: canonical,
                single: None,
            })
        } else if meta.is_file() {
            let name = name_of(&canonical)?;
            let parent = canonical.parent().unwrap_or(Path::new("/")).to_path_buf();
            Ok(Model {
                given: given.into(),
                root: parent.clone(),
                canonical_root: parent,
                single: Some(name.clone()),
                name,
            })
        } else {
            Err(ModelError::Kind {
                path: given.into(),
                kind: crate::hash::open::kind_name(&meta),
            })
        }
    }

    /// A path the user gave (`--ignore`, `--output`, ...) as a model-relative POSIX path, if
    /// it lies inside the model. Accepted spellings: below the model as given
    /// (`MODEL/sub/file`, as model_signing takes them), absolute, or relative to the model.
    pub fn relative(&self, path: &Path) -> Option<String> {
        if self.single.is_some() {
            let canon = canonical_parent(path)?;
            let rel = canon.strip_prefix(&self.canonical_root).ok()?;
            return normalize(rel);
        }
        if let Ok(rel) = path.strip_prefix(&self.given) {
            if !rel.as_os_str().is_empty() {
                return normalize(rel);
            }
        }
        let lexical_inside = |p: &Path| {
            canonical_parent(p).and_then(|c| {
                c.strip_prefix(&self.canonical_root)
                    .ok()
                    .map(Path::to_path_buf)
            })
        };
        if path.is_absolute() {
            return normalize(&lexical_inside(path)?);
        }
        if fs::symlink_metadata(path).is_ok() {
            if let Some(rel) = lexical_inside(path) {
                return normalize(&rel);
            }
        }
        normalize(path)
    }
}

impl Model {
    /// Where a file the user named (`--output`, `--signature`) lies, as a model-relative path,
    /// if it is inside the model (resolved from the current directory, last component unresolved).
    pub fn location(&self, path: &Path) -> Option<String> {
        let canon = canonical_parent(path)?;
        normalize(canon.strip_prefix(&self.canonical_root).ok()?)
    }
}

/// The canonical parent directory joined with the last component (which is not resolved).
fn canonical_parent(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(fs::canonicalize(parent).ok()?.join(name))
}

fn normalize(rel: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            Component::CurDir => {}
            Component::Normal(n) => parts.push(n.to_str()?),
            _ => return None,
        }
    }
    let joined = parts.join("/");
    check_rel_path(&joined).ok()?;
    Some(joined)
}

/// Where a symlink inside the model leads, when allowed: a regular file inside the root.
#[derive(Debug)]
pub enum LinkTarget {
    Inside(PathBuf, Seen),
    Outside(PathBuf),
    NotFile(&'static str),
    Broken(String),
}

/// Resolve a symlink entry (loops end with ELOOP from the kernel).
pub fn resolve_link(model: &Model, entry: &Entry) -> LinkTarget {
    debug_assert_eq!(entry.kind, EntryKind::Symlink);
    let path = model.root.join(&entry.rel);
    let target = match fs::canonicalize(&path) {
        Ok(t) => t,
        Err(e) => return LinkTarget::Broken(io_reason(&e)),
    };
    if !target.starts_with(&model.canonical_root) {
        return LinkTarget::Outside(target);
    }
    match fs::metadata(&target) {
        Ok(m) if m.is_file() => LinkTarget::Inside(
            target,
            Seen {
                dev: m.dev(),
                ino: m.ino(),
                size: m.size(),
            },
        ),
        Ok(m) => LinkTarget::NotFile(crate::hash::open::kind_name(&m)),
        Err(e) => LinkTarget::Broken(io_reason(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_paths_become_model_relative_only_inside_the_model() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("m");
        fs::create_dir_all(m.join("sub")).unwrap();
        fs::write(m.join("sub/f"), b"x").unwrap();
        let model = Model::locate(&m).unwrap();
        assert_eq!(model.name, "m");
        assert_eq!(model.relative(&m.join("sub/f")).as_deref(), Some("sub/f"));
        assert_eq!(model.relative(Path::new("sub")).as_deref(), Some("sub"));
        assert_eq!(
            model.relative(Path::new("./sub/./f")).as_deref(),
            Some("sub/f")
        );
        assert_eq!(model.relative(Path::new("../x")), None);
        assert_eq!(model.relative(Path::new("/etc/passwd")), None);
        assert_eq!(
            model.location(&m.join("model.sig")).as_deref(),
            Some("model.sig")
        );
        assert_eq!(model.location(&dir.path().join("m.sig")), None);
        assert_eq!(model.location(&m), None);
    }

    #[test]
    fn a_single_file_model_is_rooted_at_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("w.bin"), b"x").unwrap();
        let model = Model::locate(&dir.path().join("w.bin")).unwrap();
        assert_eq!(model.single.as_deref(), Some("w.bin"));
        assert_eq!(model.name, "w.bin");
        assert_eq!(model.canonical_root, fs::canonicalize(dir.path()).unwrap());
    }
}
