//! The user's side: what is typed and what is shown.
//!
//! - [`input`]: one thread reads stdin for the whole session; every byte
//!   reaches [`Terminal::push`], in order.
//! - [`keys`] and [`editor`]: on a terminal, the bytes are keys for a line
//!   editor of the client's own (raw mode, bracketed paste), which keeps
//!   the line being typed at the bottom and prints everything else above
//!   it.
//! - On a pipe (scripts, tests), the bytes are plain lines; login prompts
//!   and the y/n question are printed without a line feed, the command
//!   prompt not at all.
//!
//! Lines are never lost and never run twice. A line finished while the
//! client is not reading (pasted after a username, before the server asks
//! for the password) waits in a queue for the next read, in order, and is
//! shown with that read's prompt and echo; a line typed while waiting for
//! the password prompt is hidden, as the password it will be. What is left
//! unsent when the session ends is printed, so it can be copied.

pub mod editor;
pub mod input;
pub mod keys;
mod mode;

use std::collections::VecDeque;
use std::io::{self, IsTerminal, Write};
use std::time::SystemTime;

use self::editor::{Edited, Editor};
use self::input::Chunk;
use self::keys::{Key, KeyDecoder};
use self::mode::Mode;
use crate::dialogue::{Echo, Read};
use crate::display::{Line, Look, Style};
use crate::safe_text::neutralise;

/// What the user did, for the dialogue.
#[derive(Debug, PartialEq, Eq)]
pub enum Input {
    /// A line, for the read that is out.
    Line(String),
    /// Ctrl-C on an empty line.
    Interrupt,
    /// End of input (Ctrl-D, or the end of a pipe), after every line.
    End,
}

/// Columns assumed when the terminal does not say.
const DEFAULT_WIDTH: usize = 80;

/// Turns the terminal's bracketed paste on and off.
const PASTE_ON: &str = "\x1b[?2004h";
const PASTE_OFF: &str = "\x1b[?2004l";

/// Printed before each line typed but never sent.
const NOT_SENT: &str = "Not sent: ";

/// Printed instead of a line typed where a password was expected, when the
/// server asks for something else (the username again): a password is
/// never shown, nor sent as anything but a password.
pub const DROPPED: &str = "(A line typed for a password was not used)";

pub struct Terminal {
    /// On a terminal: the editor and raw mode; `None` on a pipe.
    tty: Option<Tty>,
    /// A pipe's bytes not yet split into lines.
    plain: Vec<u8>,
    /// Lines finished while no read was out, and how they were shown.
    queue: VecDeque<(String, Echo)>,
    /// The read out, if any.
    reading: Option<Read>,
    /// How what is typed is shown while no read is out.
    ahead: Echo,
    /// No more input will come (after the queued lines).
    ended: bool,
    /// [`Input::End`] was handed over.
    end_told: bool,
    look: Look,
    /// On a pipe, the last thing printed was a prompt without a line feed.
    line_open: bool,
}

struct Tty {
    /// The terminal's mode at start, put back by [`Terminal::finish`].
    saved: Mode,
    editor: Editor,
    keys: KeyDecoder,
    /// Between the terminal's paste markers: text only.
    pasting: bool,
}

impl Terminal {
    /// Sets the terminal up (raw mode, when stdin and stdout are one) and
    /// starts the reader thread, whose chunks go to [`Terminal::push`].
    pub fn start(timestamps: bool, debug: bool) -> (Terminal, smol::channel::Receiver<Chunk>) {
        let terminal_out = io::stdout().is_terminal();
        let tty = if io::stdin().is_terminal() && terminal_out {
            match Tty::enter() {
                Ok(tty) => Some(tty),
                Err(e) => {
                    if debug {
                        eprintln!("[debug] no line editor: {e}");
                    }
                    None
                }
            }
        } else {
            None
        };
        let look = Look::for_terminal(terminal_out, timestamps);
        (Terminal::new(tty, look), input::start(debug))
    }

    fn new(tty: Option<Tty>, look: Look) -> Terminal {
        Terminal {
            tty,
            plain: Vec::new(),
            queue: VecDeque::new(),
            reading: None,
            ahead: Echo::Visible,
            ended: false,
            end_told: false,
            look,
            line_open: false,
        }
    }

    /// Bytes (or the end) from the reader thread.
    pub fn push(&mut self, chunk: Chunk) {
        match (chunk, &mut self.tty) {
            (Chunk::Bytes(bytes), Some(tty)) => tty.keys.push(&bytes),
            (Chunk::Bytes(bytes), None) => self.plain.extend_from_slice(&bytes),
            (Chunk::End, _) => self.ended = true,
        }
    }

    /// The next thing the user did, once the bytes for it are in.
    pub fn next_input(&mut self) -> Option<Input> {
        loop {
            if let Some(read) = &self.reading
                && let Some((line, typed)) = self.queue.pop_front()
            {
                if typed == Echo::Hidden && read.echo != Echo::Hidden {
                    self.print(&Line::new(Style::Warning, DROPPED));
                    continue;
                }
                self.consume(&line);
                return Some(Input::Line(line));
            }
            if self.reading.is_none() && !self.queue.is_empty() {
                // One line ahead at a time: the next is decoded once this one
                // is taken, with the echo that read says is next (a line
                // typed after a password is a command, not another one).
                return None;
            }
            match self.decode() {
                Some(Edited::Line(line)) => self.queue.push_back((line, self.echo_now())),
                Some(Edited::Interrupt) => return Some(Input::Interrupt),
                Some(Edited::Eof) => self.ended = true,
                None if self.reading.is_some() && self.ended && !self.end_told => {
                    self.end_told = true;
                    return Some(Input::End);
                }
                None => return None,
            }
        }
    }

    /// How a line finished now is shown.
    fn echo_now(&self) -> Echo {
        self.reading.as_ref().map_or(self.ahead, |read| read.echo)
    }

    /// Decodes input up to the next line end (or Ctrl-C, Ctrl-D); `None`
    /// when the bytes so far finish nothing.
    fn decode(&mut self) -> Option<Edited> {
        let reading = self.reading.is_some();
        let Some(tty) = &mut self.tty else {
            let Some(end) = self.plain.iter().position(|&b| b == b'\n') else {
                // A last line without its line feed is still a line.
                let last = self.ended && !self.plain.is_empty();
                return last.then(|| Edited::Line(plain_line(std::mem::take(&mut self.plain))));
            };
            let rest = self.plain.split_off(end + 1);
            let line = std::mem::replace(&mut self.plain, rest);
            return Some(Edited::Line(plain_line(line)));
        };
        let mut out = String::new();
        let mut edited = None;
        while let Some(key) = tty.keys.next_key() {
            let key = match (tty.pasting, key) {
                (_, Key::PasteStart) => {
                    // The editor ends a search: the paste is text to insert.
                    tty.editor.key(Key::PasteStart, &mut out);
                    tty.pasting = true;
                    continue;
                }
                (_, Key::PasteEnd) => {
                    tty.pasting = false;
                    continue;
                }
                // A paste is text: its line ends are lines, its tabs spaces.
                (true, Key::Char(_) | Key::Enter) => key,
                (true, Key::Tab) => Key::Char(' '),
                (true, _) => continue,
                (false, key) => key,
            };
            edited = tty.editor.key(key, &mut out);
            if edited.is_some() {
                if !reading {
                    // Queued for the next read: off the screen until then.
                    tty.editor.draw(&mut out);
                }
                break;
            }
        }
        write_out(&out);
        edited
    }

    /// Shows the line the read out takes (prompt, then the line unless it
    /// is hidden), and what is typed next as the read says.
    fn consume(&mut self, line: &str) {
        let Some(read) = self.reading.take() else {
            return;
        };
        self.ahead = read.ahead;
        if let Some(tty) = &mut self.tty {
            let shown = match read.echo {
                Echo::Hidden => String::new(),
                _ => neutralise(line).into_owned(),
            };
            let mut out = String::new();
            tty.editor.set_prompt("", read.ahead);
            let committed = format!("{}{shown}", neutralise(&read.prompt));
            tty.editor.print_above(&committed, &mut out);
            write_out(&out);
        }
    }

    /// The dialogue wants a line: shown with `read.prompt`, or taken at
    /// once from the lines typed ahead. A read while one is out changes its
    /// prompt (a private request came while a command was typed: the line
    /// typed answers it); what was typed stays.
    pub fn read(&mut self, read: Read) {
        match &mut self.tty {
            Some(tty) => {
                let mut out = String::new();
                if read.echo != Echo::Hidden && tty.editor.clear_hidden() {
                    // Half a password, and the server asks for a username.
                    let dropped = self
                        .look
                        .render(&Line::new(Style::Warning, DROPPED), SystemTime::now());
                    tty.editor.print_above(&dropped, &mut out);
                }
                tty.editor.set_prompt(&read.prompt, read.echo);
                tty.editor.draw(&mut out);
                write_out(&out);
            }
            None if read.echo != Echo::Command => self.print_plain(&neutralise(&read.prompt)),
            None => {}
        }
        self.reading = Some(read);
    }

    /// Whether the start of a key is waiting for the rest: a lone Escape
    /// is only known as such once nothing follows it for a moment.
    pub fn keys_waiting(&self) -> bool {
        self.tty.as_ref().is_some_and(|tty| tty.keys.waiting())
    }

    /// Nothing followed the start of a key: it is taken as it is.
    pub fn keys_timed_out(&mut self) {
        if let Some(tty) = &mut self.tty {
            tty.keys.expire();
        }
    }

    /// Prints one line above what is being typed.
    pub fn print(&mut self, line: &Line) {
        let text = self.look.render(line, SystemTime::now());
        match &mut self.tty {
            Some(tty) => {
                let mut out = String::new();
                tty.editor.print_above(&text, &mut out);
                write_out(&out);
            }
            None => self.print_plain(&(text + "\n")),
        }
    }

    /// A username seen, for Tab to complete.
    pub fn add_name(&mut self, name: &str) {
        if let Some(tty) = &mut self.tty {
            tty.editor.add_name(name);
        }
    }

    /// The window changed size: the line being typed is drawn again.
    pub fn resize(&mut self) {
        if let Some(tty) = &mut self.tty {
            let mut out = String::new();
            tty.editor.resize(width(), &mut out);
            write_out(&out);
        }
    }

    /// Prints the last lines and what was typed but never sent, and puts
    /// the terminal back as it was.
    pub fn finish(&mut self, last: &[Line]) {
        let now = SystemTime::now();
        let mut unsent: Vec<String> = self
            .queue
            .drain(..)
            .filter(|(_, echo)| *echo != Echo::Hidden)
            .map(|(line, _)| line)
            .collect();
        let mut out = String::new();
        if let Some(tty) = &mut self.tty {
            tty.editor.erase(&mut out);
            unsent.extend(tty.editor.typed());
        } else if self.line_open {
            // End the prompt line, so the shell's starts on its own.
            out.push('\n');
        }
        let unsent = unsent
            .into_iter()
            .map(|line| Line::new(Style::Warning, format!("{NOT_SENT}{line}")));
        // On the terminal CR LF, as the editor writes.
        let end = if self.tty.is_some() { "\r\n" } else { "\n" };
        for line in last.iter().cloned().chain(unsent) {
            out.push_str(&self.look.render(&line, now));
            out.push_str(end);
        }
        match &self.tty {
            Some(tty) => {
                out.push_str(PASTE_OFF);
                write_out(&out);
                mode::flush_input();
                let _ = mode::set(&tty.saved);
            }
            None => self.print_plain(&out),
        }
    }

    /// Writes to a pipe at once (tests read stdout through one).
    fn print_plain(&mut self, text: &str) {
        write_out(text);
        if let Some(last) = text.chars().next_back() {
            self.line_open = last != '\n';
        }
    }
}

impl Tty {
    /// Raw mode (see [`Mode::raw`]), and bracketed paste on.
    fn enter() -> io::Result<Tty> {
        let saved = mode::get()?;
        mode::set(&saved.raw())?;
        mode::restore_on_panic(saved, PASTE_OFF);
        write_out(PASTE_ON);
        Ok(Tty {
            saved,
            editor: Editor::new(width()),
            keys: KeyDecoder::default(),
            pasting: false,
        })
    }
}

/// The terminal's width in columns.
fn width() -> usize {
    mode::columns().unwrap_or(DEFAULT_WIDTH)
}

/// One line from a pipe, without its line feed (or CR LF). Invalid UTF-8
/// is replaced, never refused.
fn plain_line(mut bytes: Vec<u8>) -> String {
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    if bytes.last() == Some(&b'\r') {
        bytes.pop();
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Writes and flushes at once.
fn write_out(text: &str) {
    if text.is_empty() {
        return;
    }
    let mut out = io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(prompt: &str, echo: Echo, ahead: Echo) -> Read {
        Read {
            prompt: prompt.into(),
            echo,
            ahead,
        }
    }

    /// A terminal on a pipe, without the reader thread.
    fn piped() -> Terminal {
        Terminal::new(None, Look::default())
    }

    #[test]
    fn plain_lines_lose_their_line_ends_only() {
        let mut t = piped();
        t.push(Chunk::Bytes(b"yoda\nwise@!man\r\n  spaced \n".to_vec()));
        t.push(Chunk::Bytes(b"la".to_vec()));
        t.push(Chunk::Bytes(b"st".to_vec()));
        t.push(Chunk::End);
        let mut lines = Vec::new();
        loop {
            t.reading = Some(read("", Echo::Command, Echo::Command));
            match t.next_input() {
                Some(Input::Line(line)) => lines.push(line),
                Some(Input::End) => break,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(lines, ["yoda", "wise@!man", "  spaced ", "last"]);
    }

    #[test]
    fn lines_typed_before_a_read_wait_for_it_in_order() {
        let mut t = piped();
        t.push(Chunk::Bytes(b"luke\nlight==saber\nwhoelse\n".to_vec()));
        assert_eq!(
            t.next_input(),
            None,
            "nothing is read before the server asks"
        );
        t.reading = Some(read("Username: ", Echo::Visible, Echo::Hidden));
        assert_eq!(t.next_input(), Some(Input::Line("luke".into())));
        assert_eq!(t.next_input(), None);
        t.reading = Some(read("Password: ", Echo::Hidden, Echo::Hidden));
        assert_eq!(t.next_input(), Some(Input::Line("light==saber".into())));
        t.reading = Some(read("> ", Echo::Command, Echo::Command));
        assert_eq!(t.next_input(), Some(Input::Line("whoelse".into())));
        assert_eq!(t.next_input(), None);
    }

    #[test]
    fn a_line_typed_for_a_password_is_never_taken_as_a_username() {
        let mut t = piped();
        t.reading = Some(read("Username: ", Echo::Visible, Echo::Hidden));
        t.push(Chunk::Bytes(b"yoda\nwise@!man\nluke\n".to_vec()));
        assert_eq!(t.next_input(), Some(Input::Line("yoda".into())));
        // Waiting for the server: the next line is typed for a password.
        assert_eq!(t.next_input(), None);
        // yoda is online elsewhere: the server asks for a username again.
        // The password typed ahead is dropped, not sent as one.
        t.reading = Some(read("Username: ", Echo::Visible, Echo::Hidden));
        assert_eq!(t.next_input(), Some(Input::Line("luke".into())));
    }

    #[test]
    fn the_end_comes_after_every_line_and_only_once() {
        let mut t = piped();
        t.push(Chunk::Bytes(b"one\n".to_vec()));
        t.push(Chunk::End);
        t.reading = Some(read("> ", Echo::Command, Echo::Command));
        assert_eq!(t.next_input(), Some(Input::Line("one".into())));
        t.reading = Some(read("> ", Echo::Command, Echo::Command));
        assert_eq!(t.next_input(), Some(Input::End));
        assert_eq!(t.next_input(), None);
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(plain_line(b"a\xffb\n".to_vec()), "a\u{fffd}b");
        assert_eq!(plain_line(b"\n".to_vec()), "", "an empty line is a line");
    }
}
