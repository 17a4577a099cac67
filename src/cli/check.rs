//! `modelseal check` (not implemented yet).

use modelseal::exit::Exit;

use super::Global;

#[derive(clap::Args)]
pub struct CheckArgs {}

pub fn run(_args: CheckArgs, _global: &Global) -> anyhow::Result<Exit> {
    Err(super::fail(Exit::Internal, "'check' is not implemented yet"))
}
