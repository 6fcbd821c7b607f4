//! What the commands print on stdout, line by line: a reader that goes away (`gohsp inspect --json | head -1`) ends
//! the program quietly with exit status 0, as ripgrep does, instead of a panic about a broken pipe.

use std::fmt;
use std::io::Write;

/// Writes one line to stdout; a closed stdout ends the process quietly, any other write error says so on stderr.
pub(crate) fn line(args: fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{args}").and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write to stdout: {e}");
            std::process::exit(1);
        }
        std::process::exit(0);
    }
}

/// `println!` for command output, through [`line`].
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::commands::stdout::line(format_args!($($arg)*))
    };
}
pub(crate) use outln;
