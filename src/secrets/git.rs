//! Asking git what a scan covers: the files of a work tree that are not ignored, and the
//! blobs of the index (what `git commit` would record).

use crate::exit::{Exit, HasExit};
use std::ffi::OsStr;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// git could not be run or refused.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git: {}", crate::hash::open::io_reason(.0))]
    Spawn(io::Error),
    #[error("'git {args}' failed: {stderr}")]
    Failed { args: String, stderr: String },
    #[error("unexpected output from 'git {args}'")]
    Output { args: String },
}

impl HasExit for GitError {
    fn exit(&self) -> Exit {
        Exit::Usage
    }
}

fn git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir).stdin(Stdio::null());
    cmd
}

fn run(dir: &Path, args: &[&OsStr]) -> Result<Vec<u8>, GitError> {
    let out = git(dir)
        .args(args)
        .stderr(Stdio::piped())
        .output()
        .map_err(GitError::Spawn)?;
    if !out.status.success() {
        return Err(GitError::Failed {
            args: args
                .iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(out.stdout)
}

fn os(args: &[&'static str]) -> Vec<&'static OsStr> {
    args.iter().map(|a| OsStr::new(*a)).collect()
}

/// The top of the work tree holding `dir`, or `None` when `dir` is not inside one (or git is
/// not installed: then there is no `.gitignore` to respect and everything is scanned).
pub fn work_tree_top(dir: &Path) -> Option<PathBuf> {
    let out = git(dir)
        .args(["rev-parse", "--is-inside-work-tree", "--show-toplevel"])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let mut lines = text.lines();
    if lines.next()? != "true" {
        return None;
    }
    Some(PathBuf::from(lines.next()?))
}

fn split_z(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes.split(|&b| b == 0).filter(|s| !s.is_empty())
}

/// Files below `dir` (relative to it) that git tracks or would add: tracked files and
/// untracked ones not excluded by `.gitignore`, `.git/info/exclude` or the global excludes.
pub fn list_files(dir: &Path) -> Result<Vec<PathBuf>, GitError> {
    let out = run(
        dir,
        &os(&[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ]),
    )?;
    let mut files: Vec<PathBuf> = split_z(&out)
        .map(|p| PathBuf::from(OsStr::from_bytes(p)))
        .collect();
    files.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
    files.dedup();
    Ok(files)
}

/// One file as staged in the index.
#[derive(Clone, Debug)]
pub struct Staged {
    /// Path relative to the top of the work tree.
    pub path: PathBuf,
    /// Git's file mode (`100644`, `100755`, `120000` for a symlink, `160000` for a submodule).
    pub mode: u32,
    /// The blob's object id (hex).
    pub oid: String,
}

impl Staged {
    /// A regular file (not a symlink or submodule).
    pub fn is_file(&self) -> bool {
        self.mode & 0o170000 == 0o100000
    }
}

/// What the next commit would add or change, as staged: `git diff --cached` against HEAD (or
/// against nothing before the first commit), deletions left out, restricted to `pathspecs`.
/// Run at `top`; the index is the one git would use (`GIT_INDEX_FILE` is honoured, as in a
/// hook run by `git commit -a`).
pub fn staged(top: &Path, pathspecs: &[PathBuf]) -> Result<Vec<Staged>, GitError> {
    let mut args: Vec<&OsStr> = os(&[
        "diff",
        "--cached",
        "--raw",
        "-z",
        "--no-renames",
        "--no-abbrev",
        "--no-ext-diff",
        "--no-relative",
        "--diff-filter=d",
        "--",
    ]);
    args.extend(pathspecs.iter().map(|p| p.as_os_str()));
    let out = run(top, &args)?;
    let bad = || GitError::Output {
        args: "diff --cached --raw".into(),
    };
    let mut fields = split_z(&out);
    let mut staged = Vec::new();
    while let Some(meta) = fields.next() {
        let path = fields.next().ok_or_else(bad)?;
        // `:old_mode new_mode old_oid new_oid status`
        let meta = std::str::from_utf8(meta).map_err(|_| bad())?;
        let parts: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
        if parts.len() != 5 {
            return Err(bad());
        }
        let mode = u32::from_str_radix(parts[1], 8).map_err(|_| bad())?;
        staged.push(Staged {
            path: PathBuf::from(OsStr::from_bytes(path)),
            mode,
            oid: parts[3].to_string(),
        });
    }
    staged.sort_by(|a, b| {
        a.path
            .as_os_str()
            .as_bytes()
            .cmp(b.path.as_os_str().as_bytes())
    });
    Ok(staged)
}

/// Run `git cat-file` with `mode` (`--batch` or `--batch-check`), feeding it `oids` from a
/// thread while `read` consumes the answers.
fn cat_file<T>(
    top: &Path,
    mode: &str,
    oids: &[String],
    read: impl FnOnce(&mut BufReader<std::process::ChildStdout>) -> Result<T, GitError>,
) -> Result<T, GitError> {
    let mut child = git(top)
        .args(["cat-file", mode])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(GitError::Spawn)?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input: Vec<u8> = oids
        .iter()
        .flat_map(|o| format!("{o}\n").into_bytes())
        .collect();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let result = read(&mut stdout);
    drop(stdout);
    let _ = writer.join();
    let out = child.wait_with_output().map_err(GitError::Spawn)?;
    let result = result?;
    if !out.status.success() {
        return Err(GitError::Failed {
            args: format!("cat-file {mode}"),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(result)
}

fn header(r: &mut impl BufRead, args: &str) -> Result<(String, u64), GitError> {
    let bad = || GitError::Output { args: args.into() };
    let mut line = String::new();
    r.read_line(&mut line).map_err(|_| bad())?;
    // `<oid> blob <size>`
    let parts: Vec<&str> = line.trim_end().split(' ').collect();
    match parts.as_slice() {
        [oid, "blob", size] => Ok((oid.to_string(), size.parse().map_err(|_| bad())?)),
        _ => Err(bad()),
    }
}

/// The sizes of blobs `oids`, in order.
pub fn blob_sizes(top: &Path, oids: &[String]) -> Result<Vec<u64>, GitError> {
    cat_file(top, "--batch-check", oids, |r| {
        oids.iter()
            .map(|_| header(r, "cat-file --batch-check").map(|(_, size)| size))
            .collect()
    })
}

/// Stream the content of blobs `oids` to `each(index, content)`, in order. Keep `oids` to blobs
/// small enough to hold in memory: git sends each one whole.
pub fn read_blobs(
    top: &Path,
    oids: &[String],
    mut each: impl FnMut(usize, Vec<u8>),
) -> Result<(), GitError> {
    cat_file(top, "--batch", oids, |r| {
        for (i, oid) in oids.iter().enumerate() {
            let (got, size) = header(r, "cat-file --batch")?;
            let bad = || GitError::Output {
                args: "cat-file --batch".into(),
            };
            if &got != oid {
                return Err(bad());
            }
            let mut content = Vec::with_capacity(size as usize);
            r.by_ref()
                .take(size)
                .read_to_end(&mut content)
                .map_err(|_| bad())?;
            let mut newline = [0u8; 1];
            r.read_exact(&mut newline).map_err(|_| bad())?;
            if content.len() as u64 != size || newline != *b"\n" {
                return Err(bad());
            }
            each(i, content);
        }
        Ok(())
    })
}

/// The content of one blob, streamed from `git cat-file blob` (for blobs too large to hold in
/// memory). Dropping it before the end stops git.
pub struct BlobReader {
    child: std::process::Child,
    stdout: std::process::ChildStdout,
    oid: String,
}

/// Stream blob `oid`.
pub fn blob_reader(top: &Path, oid: &str) -> Result<BlobReader, GitError> {
    let mut child = git(top)
        .args(["cat-file", "blob", oid])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(GitError::Spawn)?;
    let stdout = child.stdout.take().expect("piped stdout");
    Ok(BlobReader {
        child,
        stdout,
        oid: oid.to_string(),
    })
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stdout.read(buf)
    }
}

impl BlobReader {
    /// Stop reading: git is ended if it is still sending; an error if it failed on its own.
    pub fn finish(mut self) -> Result<(), GitError> {
        let done = self.child.try_wait().map_err(GitError::Spawn)?;
        let status = match done {
            Some(s) => s,
            None => {
                // Unread content is not an error: drain nothing, end git.
                let _ = self.child.kill();
                self.child.wait().map_err(GitError::Spawn)?;
                return Ok(());
            }
        };
        if status.success() {
            Ok(())
        } else {
            Err(GitError::Failed {
                args: format!("cat-file blob {}", self.oid),
                stderr: status.to_string(),
            })
        }
    }
}

impl Drop for BlobReader {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
