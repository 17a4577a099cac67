//! `modelseal keygen` (not implemented yet).

use modelseal::exit::Exit;

use super::Global;

#[derive(clap::Args)]
pub struct KeygenArgs {}

pub fn run(_args: KeygenArgs, _global: &Global) -> anyhow::Result<Exit> {
    Err(super::fail(
        Exit::Internal,
        "'keygen' is not implemented yet",
    ))
}
