//! The terminal's mode, through the C library's termios calls.
//!
//! Not rustix: its `tcgetattr` uses the `TCGETS2` ioctl, which qemu-user
//! (the ARM test runs) and some sandboxes do not know, and then the client
//! could not even hide a password. The C library's calls use `TCGETS`,
//! which every Linux has.

use std::io::{self, Write};
use std::sync::Once;

/// The terminal's settings, as they were or as they are to be.
#[derive(Clone, Copy)]
pub struct Mode(libc::termios);

/// stdin's terminal settings; an error if stdin is no terminal.
pub fn get() -> io::Result<Mode> {
    // SAFETY: `tcgetattr` writes the `termios` it is given and nothing
    // else; all zeros is a valid `termios` to start from.
    unsafe {
        let mut termios: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(libc::STDIN_FILENO, &mut termios) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Mode(termios))
    }
}

/// Makes `mode` stdin's terminal settings, at once.
pub fn set(mode: &Mode) -> io::Result<()> {
    // SAFETY: `tcsetattr` only reads the `termios` it is given.
    match unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &mode.0) } {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

impl Mode {
    /// Keys one at a time, no echo, no signals from Ctrl-C or Ctrl-Z (the
    /// line editor handles the keys), CR left as CR, no flow control;
    /// output processing as it was.
    pub fn raw(&self) -> Mode {
        let mut t = self.0;
        t.c_iflag &=
            !(libc::ICRNL | libc::INLCR | libc::IGNCR | libc::IXON | libc::BRKINT | libc::ISTRIP);
        t.c_lflag &= !(libc::ICANON | libc::ECHO | libc::ISIG | libc::IEXTEN);
        t.c_cc[libc::VMIN] = 1;
        t.c_cc[libc::VTIME] = 0;
        Mode(t)
    }
}

/// Drops what was typed and not yet read: it belongs to this client, not
/// to the shell that gets the terminal back.
pub fn flush_input() {
    // SAFETY: `tcflush` takes no pointers.
    unsafe {
        libc::tcflush(libc::STDIN_FILENO, libc::TCIFLUSH);
    }
}

/// stdout's terminal width in columns, if it says.
pub fn columns() -> Option<usize> {
    // SAFETY: `TIOCGWINSZ` writes the `winsize` it is given and nothing
    // else; all zeros is a valid `winsize`.
    let size = unsafe {
        let mut size: libc::winsize = std::mem::zeroed();
        if libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) != 0 {
            return None;
        }
        size
    };
    Some(usize::from(size.ws_col)).filter(|&cols| cols > 0)
}

/// Puts the terminal back as `saved` (and writes `reset`) should the client
/// panic: a release build aborts on panic, and would leave the shell a
/// terminal in raw mode. Set once; the panic's message still follows.
pub fn restore_on_panic(saved: Mode, reset: &'static str) {
    static SET: Once = Once::new();
    SET.call_once(|| {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = set(&saved);
            let mut out = io::stdout();
            let _ = out.write_all(reset.as_bytes());
            let _ = out.write_all(b"\r\n");
            let _ = out.flush();
            report(info);
        }));
    });
}
