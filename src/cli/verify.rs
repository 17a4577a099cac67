//! `modelseal verify` (not implemented yet).

use modelseal::exit::Exit;

use super::Global;

#[derive(clap::Args)]
pub struct VerifyArgs {}

pub fn run(_args: VerifyArgs, _global: &Global) -> anyhow::Result<Exit> {
    Err(super::fail(
        Exit::Internal,
        "'verify' is not implemented yet",
    ))
}
