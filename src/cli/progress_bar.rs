//! The progress bar on stderr: bytes, rate and ETA. Decided once per command: shown only when
//! asked (`--progress always`) or, with `auto`, when stderr is a terminal, `TERM` is not
//! `dumb`, `NO_COLOR` leaves it plain, and the work is large. Never with machine output.
//!
//! Without a terminal (a container's `docker logs`), verification logs a line instead: at the
//! start when the work is large, then every [`HEARTBEAT`], so a long run shows it is alive.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// `--progress`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    Auto,
    Always,
    Never,
}

/// Work below this many bytes gets no bar in `auto` mode (and no opening log line).
const LARGE: u64 = 256 << 20;

/// How often a verification without a terminal logs its progress.
pub const HEARTBEAT: Duration = Duration::from_secs(5);

struct Shared {
    done: AtomicU64,
    total: AtomicU64,
    stop: AtomicBool,
}

/// A running bar, or nothing. Cheap to update from many threads.
pub struct Progress {
    shared: Arc<Shared>,
    drawer: Option<JoinHandle<()>>,
}

impl Progress {
    /// Start a bar for `total` bytes if `mode` and the terminal allow it; `suppressed` is true
    /// for `--json`, `--quiet`, `--status`.
    pub fn start(mode: ProgressMode, total: u64, suppressed: bool) -> Progress {
        Progress::start_logged(mode, total, suppressed, None)
    }

    /// [`Progress::start`]; and, when `auto` finds no terminal, log lines naming `label`
    /// (see [`HEARTBEAT`]) if it is given.
    fn start_logged(
        mode: ProgressMode,
        total: u64,
        suppressed: bool,
        label: Option<String>,
    ) -> Progress {
        let shared = Arc::new(Shared {
            done: AtomicU64::new(0),
            total: AtomicU64::new(total),
            stop: AtomicBool::new(false),
        });
        let show = !suppressed
            && match mode {
                ProgressMode::Never => false,
                ProgressMode::Always => true,
                ProgressMode::Auto => {
                    std::io::stderr().is_terminal()
                        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
                        && total >= LARGE
                }
            };
        let log = !suppressed && mode == ProgressMode::Auto && !std::io::stderr().is_terminal();
        let drawer = if show {
            let shared = shared.clone();
            Some(std::thread::spawn(move || draw_loop(&shared)))
        } else {
            match label {
                Some(label) if log => {
                    let shared = shared.clone();
                    Some(std::thread::spawn(move || log_loop(&shared, &label)))
                }
                _ => None,
            }
        };
        Progress { shared, drawer }
    }

    /// Count `n` more bytes of work (the total grows as a streamed job discovers it).
    pub fn shared_total_add(&self, n: u64) {
        self.shared.total.fetch_add(n, Ordering::Relaxed);
    }

    /// Count `n` more bytes done.
    pub fn add(&self, n: u64) {
        self.shared.done.fetch_add(n, Ordering::Relaxed);
    }

    /// Stop and erase the bar.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.drawer.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}

fn draw_loop(shared: &Shared) {
    let start = Instant::now();
    let mut drawn = false;
    let mut err = std::io::stderr();
    while !shared.stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        let elapsed = start.elapsed();
        if elapsed < Duration::from_millis(300) {
            continue;
        }
        let line = render(
            shared.done.load(Ordering::Relaxed),
            shared.total.load(Ordering::Relaxed),
            elapsed,
        );
        let _ = write!(err, "\r{line}");
        let _ = err.flush();
        drawn = true;
    }
    if drawn {
        let _ = write!(err, "\r{:width$}\r", "", width = 78);
        let _ = err.flush();
    }
}

/// Without a terminal: a line when the work is large, then one every [`HEARTBEAT`].
fn log_loop(shared: &Shared, label: &str) {
    let start = Instant::now();
    let line = |elapsed: Duration| {
        let (done, total) = (
            shared.done.load(Ordering::Relaxed),
            shared.total.load(Ordering::Relaxed),
        );
        let pct = (done as f64 * 100.0 / total.max(1) as f64).min(100.0) as u64;
        super::output::note(format_args!(
            "verifying {label}: {} of {} ({pct}%), {} s",
            human(done),
            human(total),
            elapsed.as_secs()
        ));
    };
    if shared.total.load(Ordering::Relaxed) >= LARGE {
        line(Duration::ZERO);
    }
    let mut next = HEARTBEAT;
    while !shared.stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        let elapsed = start.elapsed();
        if elapsed >= next && !shared.stop.load(Ordering::Relaxed) {
            line(elapsed);
            next += HEARTBEAT;
        }
    }
}

/// One line of the bar, at most 78 columns.
pub fn render(done: u64, total: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-3);
    let rate = done as f64 / secs;
    let eta = if rate > 0.0 && total > done {
        format!("ETA {}s", ((total - done) as f64 / rate).ceil() as u64)
    } else {
        "ETA -".to_string()
    };
    let frac = if total == 0 {
        1.0
    } else {
        (done as f64 / total as f64).min(1.0)
    };
    let width = 20;
    let filled = (frac * width as f64) as usize;
    format!(
        "[{}{}] {} / {}  {}/s  {}",
        "#".repeat(filled),
        "-".repeat(width - filled),
        human(done),
        human(total),
        human(rate as u64),
        eta
    )
}

/// Bytes in binary units.
pub fn human(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A bar for library work whose size is known only once it starts (sign, verify): the bar is
/// created at [`modelseal::progress::ProgressSink::start`].
pub struct LazyBar {
    mode: ProgressMode,
    suppressed: bool,
    /// What is verified, for the log lines without a terminal.
    label: Option<String>,
    bar: std::sync::OnceLock<Progress>,
}

impl LazyBar {
    pub fn new(mode: ProgressMode, suppressed: bool) -> LazyBar {
        LazyBar {
            mode,
            suppressed,
            label: None,
            bar: std::sync::OnceLock::new(),
        }
    }

    /// Without a terminal, log the progress of verifying `label` (at the start when the work
    /// is large, then every [`HEARTBEAT`]) so a container's log shows it is alive.
    pub fn heartbeat(mut self, label: String) -> LazyBar {
        self.label = Some(label);
        self
    }

    /// Stop and erase the bar, if one was drawn.
    pub fn finish(self) {
        if let Some(bar) = self.bar.into_inner() {
            bar.finish();
        }
    }
}

impl modelseal::progress::ProgressSink for LazyBar {
    fn start(&self, total_bytes: u64) {
        self.bar.get_or_init(|| {
            Progress::start_logged(self.mode, total_bytes, self.suppressed, self.label.clone())
        });
    }

    fn advance(&self, bytes: u64) {
        if let Some(bar) = self.bar.get() {
            bar.add(bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_bytes_rate_and_eta() {
        let line = render(1 << 30, 4 << 30, Duration::from_secs(1));
        assert_eq!(
            line,
            "[#####---------------] 1.0 GiB / 4.0 GiB  1.0 GiB/s  ETA 3s"
        );
        assert!(line.len() <= 78);
        assert_eq!(human(512), "512 B");
    }
}
