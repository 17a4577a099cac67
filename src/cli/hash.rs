//! `modelseal hash` (not implemented yet).

use modelseal::exit::Exit;

use super::Global;

#[derive(clap::Args)]
pub struct HashArgs {}

pub fn run(_args: HashArgs, _global: &Global) -> anyhow::Result<Exit> {
    Err(super::fail(Exit::Internal, "'hash' is not implemented yet"))
}
