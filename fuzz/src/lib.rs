//! What every fuzz target asserts about a refusal: the input is refused with an exit code the
//! threat model documents (never 70, a bug) and a message that is one safe line (no control
//! character an input could use to forge a line or drive a terminal).

use std::fmt::Display;

use modelseal::exit::{Exit, HasExit};

/// Assert `e` is an honest refusal; `what` names the parser for the panic message.
pub fn refused(what: &str, e: &(impl HasExit + Display)) {
    let exit = e.exit();
    assert_ne!(exit, Exit::Internal, "{what}: exit 70 (a bug) for: {e}");
    assert_ne!(exit, Exit::Success, "{what}: an error that exits 0: {e}");
    let message = e.to_string();
    assert!(!message.is_empty(), "{what}: an empty message");
    assert!(
        !message.chars().any(char::is_control),
        "{what}: a control character in the message {message:?}"
    );
}
