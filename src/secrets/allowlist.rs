//! `.modelseal-allow`: findings accepted on purpose.
//!
//! One entry per line: a rule name (or `*` for any rule), then a path pattern relative to the
//! directory holding the file. `*` matches within one path component, `**` across components,
//! `?` one character, `[abc]` and `{a,b}` as in gitignore globs (`globset`, which matches in
//! time linear in the path, whatever the pattern). Blank lines and lines starting with `#` are
//! ignored. An unknown rule name or a malformed pattern is an error, so a typo never silently
//! allows nothing (or everything).
//!
//! ```text
//! # test fixtures built on purpose
//! private-key tests/data/keys/*.pem
//! *           docs/examples/**
//! ```

use std::path::{Path, PathBuf};

use crate::escape::display_path;

use super::rules::rule_named;
use super::Finding;
use crate::exit::{Exit, HasExit};
use crate::small_file::{self, SmallFileError, MAX_ALLOWLIST_BYTES};

/// The allowlist's file name, at the root of the scanned tree.
pub const FILE_NAME: &str = ".modelseal-allow";

/// A malformed or unreadable allowlist.
#[derive(Debug, thiserror::Error)]
pub enum AllowlistError {
    #[error(transparent)]
    Read(SmallFileError),
    #[error("{}:{line}: {reason}", display_path(.path))]
    Parse {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

impl HasExit for AllowlistError {
    fn exit(&self) -> Exit {
        Exit::Usage
    }
}

#[derive(Clone, Debug)]
struct Entry {
    rule: Option<&'static str>,
    pattern: globset::GlobMatcher,
}

/// The parsed allowlist (empty when there is no file).
#[derive(Clone, Debug, Default)]
pub struct Allowlist {
    entries: Vec<Entry>,
}

impl Allowlist {
    /// Parse the text of an allowlist read from `path` (named in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Allowlist, AllowlistError> {
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |reason: String| AllowlistError::Parse {
                path: path.to_path_buf(),
                line: i + 1,
                reason,
            };
            let (rule, pattern) = match line.split_once(char::is_whitespace) {
                Some((r, p)) => (r, p.trim()),
                None => return Err(err(format!("expected 'RULE PATH', found {line:?}"))),
            };
            let rule = if rule == "*" {
                None
            } else {
                Some(rule_named(rule).ok_or_else(|| err(format!("unknown rule {rule:?}")))?)
            };
            let pattern = pattern.trim_start_matches("./").trim_start_matches('/');
            if pattern.is_empty() {
                return Err(err("empty path pattern".into()));
            }
            let glob = globset::GlobBuilder::new(pattern)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| err(format!("bad path pattern {pattern:?}: {}", e.kind())))?;
            entries.push(Entry {
                rule,
                pattern: glob.compile_matcher(),
            });
        }
        Ok(Allowlist { entries })
    }

    /// Load `dir/.modelseal-allow`; no file means an empty allowlist.
    pub fn load(dir: &Path) -> Result<Allowlist, AllowlistError> {
        let path = dir.join(FILE_NAME);
        match small_file::read(&path, MAX_ALLOWLIST_BYTES, "allowlist") {
            Ok(bytes) => {
                let text = std::str::from_utf8(&bytes).map_err(|_| AllowlistError::Parse {
                    path: path.clone(),
                    line: 0,
                    reason: "not UTF-8".into(),
                })?;
                Allowlist::parse(text, &path)
            }
            Err(e) if e.is_not_found() => Ok(Allowlist::default()),
            Err(e) => Err(AllowlistError::Read(e)),
        }
    }

    /// True when `rule` at `rel` (relative to the allowlist's directory) is accepted.
    pub fn allows(&self, rel: &Path, rule: &str) -> bool {
        let rel = rel.strip_prefix("./").unwrap_or(rel);
        self.entries
            .iter()
            .any(|e| e.rule.is_none_or(|r| r == rule) && e.pattern.is_match(rel))
    }

    /// True when `finding` is accepted (its path relative to the allowlist's directory).
    pub fn allows_finding(&self, finding: &Finding) -> bool {
        self.allows(&finding.path, finding.rule)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `pattern` accepts `path` (any rule).
    fn m(pattern: &str, path: &str) -> bool {
        Allowlist::parse(&format!("* {pattern}\n"), Path::new(FILE_NAME))
            .unwrap()
            .allows(Path::new(path), "private-key")
    }

    #[test]
    fn globs() {
        assert!(m("a/b.pem", "a/b.pem"));
        assert!(!m("a/b.pem", "a/b.pem2"));
        assert!(m("a/*.pem", "a/key.pem"));
        assert!(!m("a/*.pem", "a/x/key.pem"));
        assert!(m("a/**/key.pem", "a/key.pem"));
        assert!(m("a/**/key.pem", "a/x/y/key.pem"));
        assert!(m("a/**", "a/x/y/key.pem"));
        assert!(m("**", "anything/at/all"));
        assert!(m("k?y", "key"));
        assert!(!m("k?y", "k/y"));
        assert!(!m("*", "a/b"));
        assert!(m("{a,b}/*.pem", "b/k.pem"));
        assert!(m("[kx]ey", "key"));
    }

    /// A pattern with many stars is matched in linear time (a backtracking matcher takes
    /// exponential time on it); this finishes at once instead of running for hours.
    #[test]
    fn many_stars_do_not_take_exponential_time() {
        let path = "a".repeat(200);
        assert!(!m(
            "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
            &path
        ));
        assert!(m(
            "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a",
            &path
        ));
    }

    #[test]
    fn malformed_patterns_name_the_line() {
        let e = Allowlist::parse("* ok/*\n* [unclosed\n", Path::new(FILE_NAME)).unwrap_err();
        assert!(e.to_string().contains(":2: bad path pattern"), "{e}");
    }

    #[test]
    fn parse_and_allow() {
        let text = "# comment\n\nprivate-key tests/data/*.pem\n* docs/**\n";
        let a = Allowlist::parse(text, Path::new(FILE_NAME)).unwrap();
        assert!(a.allows(Path::new("tests/data/k.pem"), "private-key"));
        assert!(!a.allows(Path::new("tests/data/k.pem"), "github-token"));
        assert!(a.allows(Path::new("docs/a/b.md"), "github-token"));
        assert!(a.allows(Path::new("./docs/x"), "env-file"));
        assert!(!a.allows(Path::new("src/docs/x"), "env-file"));
    }

    #[test]
    fn errors_name_the_line() {
        let e = Allowlist::parse("\nprivat-key a.pem\n", Path::new("x/.modelseal-allow"))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "x/.modelseal-allow:2: unknown rule \"privat-key\"");
        let e = Allowlist::parse("lonely\n", Path::new(FILE_NAME)).unwrap_err();
        assert!(e.to_string().contains(":1: expected 'RULE PATH'"), "{e}");
    }
}
