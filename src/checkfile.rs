//! Checkfiles (placeholder).
