//! `modelseal scan` (not implemented yet).

use modelseal::exit::Exit;

use super::Global;

#[derive(clap::Args)]
pub struct ScanArgs {}

pub fn run(_args: ScanArgs, _global: &Global) -> anyhow::Result<Exit> {
    Err(super::fail(Exit::Internal, "'scan' is not implemented yet"))
}
