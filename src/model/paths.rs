//! Model-relative paths from untrusted manifests: the safety check every name passes before it
//! is joined to a root, and the orders resources are listed in.

use std::cmp::Ordering;

use crate::oms::constants::{MAX_COMPONENT_BYTES, MAX_PATH_BYTES};

/// Why a model-relative path is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathProblem {
    Empty,
    TooLong,
    Absolute,
    Backslash,
    Control,
    EmptyComponent,
    DotComponent,
    DotDotComponent,
    TrailingSlash,
    ComponentTooLong,
}

impl PathProblem {
    /// In words, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            PathProblem::Empty => "empty path",
            PathProblem::TooLong => "path longer than the limit",
            PathProblem::Absolute => "absolute path",
            PathProblem::Backslash => "backslash in path",
            PathProblem::Control => "NUL or control character in path",
            PathProblem::EmptyComponent => "empty path component",
            PathProblem::DotComponent => "'.' path component",
            PathProblem::DotDotComponent => "'..' path component",
            PathProblem::TrailingSlash => "trailing slash",
            PathProblem::ComponentTooLong => "path component longer than 255 bytes",
        }
    }
}

/// Check a POSIX relative path from a manifest: after this it is safe to join below a root.
pub fn check_rel_path(name: &str) -> Result<(), PathProblem> {
    if name.is_empty() {
        return Err(PathProblem::Empty);
    }
    if name.len() > MAX_PATH_BYTES {
        return Err(PathProblem::TooLong);
    }
    if name.starts_with('/') {
        return Err(PathProblem::Absolute);
    }
    if name.contains('\\') {
        return Err(PathProblem::Backslash);
    }
    if name.chars().any(char::is_control) {
        return Err(PathProblem::Control);
    }
    if name.ends_with('/') {
        return Err(PathProblem::TrailingSlash);
    }
    for component in name.split('/') {
        match component {
            "" => return Err(PathProblem::EmptyComponent),
            "." => return Err(PathProblem::DotComponent),
            ".." => return Err(PathProblem::DotDotComponent),
            c if c.len() > MAX_COMPONENT_BYTES => return Err(PathProblem::ComponentTooLong),
            _ => {}
        }
    }
    Ok(())
}

/// True when `path` is `prefix` or lies below it (whole components).
pub fn is_under(path: &str, prefix: &str) -> bool {
    path == prefix
        || (path.len() > prefix.len()
            && path.starts_with(prefix)
            && path.as_bytes()[prefix.len()] == b'/')
}

/// The order resources are listed in. Verifiers accept either; the root digest depends on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResourceOrder {
    /// Plain code-point (byte) order of the whole path: the spec and the Go port.
    #[default]
    CodePoint,
    /// Component by component: the Python reference `model_signing`.
    Components,
}

impl ResourceOrder {
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            ResourceOrder::CodePoint => a.as_bytes().cmp(b.as_bytes()),
            ResourceOrder::Components => a.split('/').cmp(b.split('/')),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_paths_are_refused() {
        let cases = [
            ("", PathProblem::Empty),
            ("/etc/passwd", PathProblem::Absolute),
            ("a\\b", PathProblem::Backslash),
            ("a\0b", PathProblem::Control),
            ("a\nb", PathProblem::Control),
            ("a\u{7f}", PathProblem::Control),
            ("a//b", PathProblem::EmptyComponent),
            ("./a", PathProblem::DotComponent),
            ("a/./b", PathProblem::DotComponent),
            ("../a", PathProblem::DotDotComponent),
            ("a/..", PathProblem::DotDotComponent),
            ("a/", PathProblem::TrailingSlash),
            (".", PathProblem::DotComponent),
        ];
        for (name, problem) in cases {
            assert_eq!(check_rel_path(name), Err(problem), "{name:?}");
        }
        assert_eq!(
            check_rel_path(&"a".repeat(256)),
            Err(PathProblem::ComponentTooLong)
        );
        assert_eq!(
            check_rel_path(&"a/".repeat(3000)),
            Err(PathProblem::TooLong)
        );
        for ok in ["a", "a/b", ".hidden", "a..b", "...", "é/ü", "a b"] {
            assert_eq!(check_rel_path(ok), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn under_means_whole_components() {
        assert!(is_under(".git", ".git"));
        assert!(is_under(".git/config", ".git"));
        assert!(!is_under(".gitignore", ".git"));
        assert!(!is_under("a", "a/b"));
    }

    #[test]
    fn orders_differ_as_format_md_says() {
        let mut names = vec!["a.bin", "a/b", "a-c"];
        names.sort_by(|a, b| ResourceOrder::CodePoint.compare(a, b));
        assert_eq!(names, ["a-c", "a.bin", "a/b"]);
        names.sort_by(|a, b| ResourceOrder::Components.compare(a, b));
        assert_eq!(names, ["a/b", "a-c", "a.bin"]);
    }
}
