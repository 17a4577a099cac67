//! `modelseal sign` (not implemented yet).

use modelseal::exit::Exit;

use super::Global;

#[derive(clap::Args)]
pub struct SignArgs {}

pub fn run(_args: SignArgs, _global: &Global) -> anyhow::Result<Exit> {
    Err(super::fail(Exit::Internal, "'sign' is not implemented yet"))
}
