//! `modelseal hf check`: a Hugging Face cache snapshot against the Hub's own digests (the
//! library's [`modelseal::model::hf::check`]); output like `check`'s, exit 0/1/2 as `check`.

use std::path::{Path, PathBuf};

use modelseal::env::Env;
use modelseal::exit::Exit;
use modelseal::model::hf::cache::{all_snapshots, find_snapshot, hub_cache, snapshot_at};
use modelseal::model::hf::check::{check_snapshot, counts, describe, Options, TreeState};
use modelseal::model::hf::{RepoType, Snapshot};
use serde_json::json;

use super::hash::EngineArgs;
use super::output::{self, line, note};
use super::progress_bar::Progress;
use super::report::plural;
use super::{Error, Global, Result};

#[derive(clap::Args)]
pub struct HfArgs {
    #[command(subcommand)]
    pub command: HfCommand,
}

#[derive(clap::Subcommand)]
pub enum HfCommand {
    /// Check a cached snapshot against the Hub's digests: LFS blobs by SHA-256, other blobs by
    /// git blob SHA-1, the file list by trees/COMMIT.json.
    ///
    /// This proves the cache holds what the Hub served, not who published it (that takes a
    /// signature: `modelseal verify`). With no REPO_ID or SNAPSHOT_DIR, every snapshot in the
    /// cache is checked.
    Check(HfCheckArgs),
}

#[derive(clap::Args)]
pub struct HfCheckArgs {
    /// A repository id (`ORG/NAME`) in the cache, or a snapshot folder
    /// (`…/models--ORG--NAME/snapshots/COMMIT`).
    #[arg(value_name = "REPO_ID|SNAPSHOT_DIR")]
    pub target: Option<String>,
    /// Branch, tag (looked up in the cache's refs/) or commit hash [default: main].
    #[arg(long, value_name = "REV")]
    pub revision: Option<String>,
    /// The kind of repository REPO_ID names.
    #[arg(long, value_name = "TYPE", default_value = "model", value_parser = ["model", "dataset", "space"])]
    pub repo_type: String,
    /// The hub cache (the folder holding models--*), as HF_HUB_CACHE [default: HF_HUB_CACHE,
    /// else HF_HOME/hub, else ~/.cache/huggingface/hub].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// JSON Lines: one object per file, one per snapshot, then a summary.
    #[arg(long)]
    pub json: bool,
    /// Files trees/COMMIT.json lists but the snapshot lacks are not failures (a download
    /// with allow_patterns leaves them out).
    #[arg(long)]
    pub ignore_missing: bool,
    /// Print only failures.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub hashing: crate::cli::hashing::HashingArgs,
}

impl HfArgs {
    /// The hashing options of the subcommand.
    pub fn hashing(&self) -> crate::cli::hashing::HashingArgs {
        match &self.command {
            HfCommand::Check(a) => a.hashing,
        }
    }
}

pub fn run(args: HfArgs, global: &Global) -> Result<Exit> {
    match args.command {
        HfCommand::Check(a) => check(a, global),
    }
}

/// The snapshots to check, as the arguments name them.
fn snapshots(args: &HfCheckArgs) -> Result<Vec<std::result::Result<Snapshot, Error>>> {
    let repo_type = RepoType::from_name(&args.repo_type).expect("clap checked the value");
    let cache = || -> Result<PathBuf> {
        match &args.cache_dir {
            Some(d) => Ok(d.clone()),
            None => Ok(hub_cache(&Env::process())?),
        }
    };
    let Some(target) = &args.target else {
        if args.revision.is_some() {
            return Err(Error::usage("--revision needs a REPO_ID"));
        }
        let all = all_snapshots(&cache()?)?;
        return Ok(all.into_iter().map(|s| s.map_err(Error::from)).collect());
    };
    let as_path = Path::new(target);
    if as_path.is_dir() {
        if args.revision.is_some() || args.cache_dir.is_some() {
            return Err(Error::usage(
                "--revision and --cache-dir go with a REPO_ID, not a snapshot folder",
            ));
        }
        return Ok(vec![Ok(snapshot_at(as_path)?)]);
    }
    let revision = args.revision.as_deref().unwrap_or("main");
    Ok(vec![Ok(find_snapshot(
        &cache()?,
        repo_type,
        target,
        revision,
    )?)])
}

fn check(args: HfCheckArgs, global: &Global) -> Result<Exit> {
    let targets = snapshots(&args)?;
    if targets.is_empty() {
        return Err(Error::usage("no snapshots in the Hugging Face cache"));
    }
    let opts = Options {
        ignore_missing: args.ignore_missing,
        tuning: args.engine.tuning(),
    };
    let mut out = output::stdout();
    let (mut failed, mut checked) = (0usize, 0usize);
    for target in targets {
        let snap = match target {
            Ok(s) => s,
            Err(e) => {
                // A folder under snapshots/ that is not a snapshot: a failure, the rest goes on.
                failed += 1;
                note(format_args!("{e}"));
                if args.json {
                    line(
                        &mut out,
                        json!({"type": "error", "message": e.to_string()})
                            .to_string()
                            .as_bytes(),
                    )?;
                }
                continue;
            }
        };
        let progress = Progress::start(global.progress, 0, args.json || args.quiet);
        let report = check_snapshot(&snap, &opts, &|n| progress.add(n))?;
        progress.finish();
        checked += 1;
        let tree_name = format!("trees/{}.json", snap.commit);
        for f in &report.files {
            match (&f.result, args.json) {
                (Ok(d), true) => line(
                    &mut out,
                    json!({"type": "file", "name": f.name, "blob": f.blob, "digest": d.name(), "ok": true})
                        .to_string()
                        .as_bytes(),
                )?,
                (Err((reason, what)), true) => line(
                    &mut out,
                    json!({"type": "file", "name": f.name, "blob": f.blob, "ok": false,
                           "reason": reason.code(), "message": what})
                    .to_string()
                    .as_bytes(),
                )?,
                (Ok(_), false) if args.quiet => {}
                (Ok(_), false) => line(&mut out, format!("{}: OK", f.name).as_bytes())?,
                (Err((reason, what)), false) => line(
                    &mut out,
                    format!("{}: FAILED ({}: {what})", f.name, reason.code()).as_bytes(),
                )?,
            }
        }
        let bad = report.files.iter().filter(|f| f.result.is_err()).count();
        let good = report.files.len() - bad;
        let kinds: Vec<String> = counts(&report)
            .into_iter()
            .map(|(k, n)| format!("{n} by {k}"))
            .collect();
        let tree = match report.tree {
            TreeState::Used(n) => format!("{tree_name} lists {}", plural(n, "file", "files")),
            TreeState::Absent => {
                format!("no {tree_name}: a file missing from the snapshot cannot be noticed")
            }
            TreeState::Unreadable => format!("{tree_name} unreadable"),
        };
        if args.json {
            let tree_state = match report.tree {
                TreeState::Used(_) => "used",
                TreeState::Absent => "absent",
                TreeState::Unreadable => "unreadable",
            };
            line(
                &mut out,
                json!({"type": "snapshot", "repo_type": snap.repo_type.name(), "repo_id": snap.repo_id,
                       "commit": snap.commit, "path": snap.dir.to_string_lossy(), "tree": tree_state,
                       "files": good, "failed": bad, "bytes": report.bytes, "ok": report.ok()})
                .to_string()
                .as_bytes(),
            )?;
        }
        if report.tree == TreeState::Absent && !args.json {
            note(format_args!(
                "{}: no {tree_name} (the client keeps it since huggingface_hub 2.x, after snapshot_download): \
                 blobs are checked against their names only, and a file missing from the snapshot cannot be noticed",
                snap.repo_id
            ));
        }
        let summary = format!(
            "{}: {} of {} match the Hub's digests ({}; {tree})",
            describe(&report),
            good,
            plural(report.files.len(), "entry", "entries"),
            if kinds.is_empty() {
                "none".to_string()
            } else {
                kinds.join(", ")
            },
        );
        if !args.json {
            note(summary);
        }
        if !report.ok() {
            failed += 1;
        }
    }
    if args.json {
        line(
            &mut out,
            json!({"type": "summary", "snapshots": checked, "failed": failed, "ok": failed == 0})
                .to_string()
                .as_bytes(),
        )?;
    }
    Ok(if failed == 0 {
        Exit::Success
    } else {
        Exit::Failure
    })
}
