//! `modelseal guard` (not implemented yet).

use modelseal::exit::Exit;

use super::Global;

#[derive(clap::Args)]
pub struct GuardArgs {}

pub fn run(_args: GuardArgs, _global: &Global) -> anyhow::Result<Exit> {
    Err(super::fail(
        Exit::Internal,
        "'guard' is not implemented yet",
    ))
}
