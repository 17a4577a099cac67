//! `modelseal vault` (not implemented yet).

use modelseal::exit::Exit;

use super::Global;

#[derive(clap::Args)]
pub struct VaultArgs {}

pub fn run(_args: VaultArgs, _global: &Global) -> anyhow::Result<Exit> {
    Err(super::fail(
        Exit::Internal,
        "'vault' is not implemented yet",
    ))
}
