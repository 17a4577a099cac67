//! The `modelseal` command: parse, dispatch, map errors to exit codes.
#![deny(unsafe_code)]

mod cli;

use modelseal::exit::Exit;

fn main() {
    let outcome = std::panic::catch_unwind(cli::run);
    let exit = match outcome {
        Ok(exit) => exit,
        // The panic message was already printed by the default hook.
        Err(_) => Exit::Internal,
    };
    std::process::exit(exit.code());
}
