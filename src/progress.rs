//! The progress seam: long operations say how many bytes they will hash, then each count of
//! bytes hashed. The binary draws a bar from it; the library never does.

/// Receives progress from signing and verification. Both methods default to doing nothing.
pub trait ProgressSink: Sync {
    /// The work is known: `total_bytes` will be hashed.
    fn start(&self, total_bytes: u64) {
        let _ = total_bytes;
    }
    /// `bytes` more were hashed (called from many threads).
    fn advance(&self, bytes: u64) {
        let _ = bytes;
    }
}

/// No progress reporting.
impl ProgressSink for () {}
