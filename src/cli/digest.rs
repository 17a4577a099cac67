//! `modelseal digest`: the OMS root digest of a model without signing it, exactly as `sign`
//! writes it into the statement's subject with the same flags and the default key type
//! (Ed25519: code-point order unless `--order` says otherwise). The number a release note, a
//! Vault pin (`verify --vault-pin`) or an admission policy records. The walk, the refusals,
//! the hashing and the order are `sign`'s own code (`oms::serialize`); the leak guard is not
//! run, as nothing is sealed or published.

use std::path::PathBuf;

use modelseal::exit::Exit;
use modelseal::hash::digest::{AlgoSet, Algorithm, Digest};
use modelseal::keys::KeyType;
use modelseal::model::paths::ResourceOrder;
use modelseal::model::Model;
use modelseal::oms::constants::SINGLE_FILE_NAME;
use modelseal::oms::serialize::{plan, Serialized};
use modelseal::oms::statement::Serialization;
use serde_json::json;

use super::progress_bar::LazyBar;
use super::sign::{default_signature, print_problems, SerializeArgs};
use super::{Error, Global, Result};

/// Print a model's OMS root digest (`sha256:HEX`), as `sign` would write it.
///
/// The same flags as `sign` give the same digest: `--hash`, `--shard-size`, `--order`,
/// `--ignore`, `--allow-symlinks`, and the signature file `sign` would write inside the model
/// (left out of it, as `sign` leaves it out).
#[derive(clap::Args)]
pub struct DigestArgs {
    /// The model: a directory, or a single file.
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,
    #[command(flatten)]
    pub serialize: SerializeArgs,
    /// The bundle `sign` would write, left out of the model as `sign` leaves it out (default:
    /// model.sig in the model directory).
    #[arg(long, value_name = "SIG")]
    pub signature: Option<PathBuf>,
    /// JSON Lines: one object per resource (file or shard) in statement order, then the digest.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub hashing: crate::cli::hashing::HashingArgs,
}

pub fn run(args: DigestArgs, global: &Global) -> Result<Exit> {
    args.serialize.check()?;
    let model = Model::locate(&args.model).map_err(|e| Error::from(e).with_exit(Exit::Usage))?;
    let signature = args
        .signature
        .clone()
        .unwrap_or_else(|| default_signature(&model));
    let opts = args
        .serialize
        .options(&model, KeyType::EcdsaP256, &signature)?;
    let bar = LazyBar::new(global.progress, args.json);
    let serialized = plan(&model, &opts).and_then(|p| p.hash(AlgoSet::default(), &bar));
    bar.finish();
    let serialized = serialized.map_err(|e| {
        print_problems(&e);
        Error::from(e)
    })?;
    let root = Digest::new(Algorithm::Sha256, serialized.root_digest);
    if args.json {
        print_json(&serialized, opts.order, &root);
    } else {
        println!("{}", root.prefixed());
    }
    Ok(Exit::Success)
}

/// One line per resource in statement order (its name, the file's model-relative path, its
/// size or byte range, its digest), then the root digest with how it was computed.
fn print_json(s: &Serialized, order: ResourceOrder, root: &Digest) {
    // A single-file model's resources are named "." (as the reference names them).
    let path_of = |path: &str| match s.files.as_slice() {
        [only] if path == SINGLE_FILE_NAME => only.rel.clone(),
        _ => path.to_string(),
    };
    for (i, r) in s.resources.iter().enumerate() {
        let mut line = json!({
            "type": "resource",
            "name": r.name,
            "path": path_of(&r.path),
            "digest": r.digest.prefixed(),
        });
        match r.range {
            Some((start, end)) => {
                line["start"] = json!(start);
                line["end"] = json!(end);
            }
            // Serialized by files, files and resources correspond one to one.
            None => line["size"] = json!(s.files[i].digests.size),
        }
        println!("{line}");
    }
    let shard_size = match s.serialization {
        Serialization::Files => None,
        Serialization::Shards { shard_size } => Some(shard_size),
    };
    let order = match order {
        ResourceOrder::CodePoint => "code-point",
        ResourceOrder::Components => "components",
    };
    println!(
        "{}",
        json!({
            "type": "digest",
            "subject": s.subject_name,
            "root_digest": root.prefixed(),
            "method": s.serialization.method(),
            "hash_type": s.hash.name(),
            "shard_size": shard_size,
            "order": order,
            "files": s.files.len(),
            "resources": s.resources.len(),
            "bytes": s.files.iter().map(|f| f.digests.size).sum::<u64>(),
        })
    );
}
