//! The user's side: reading lines and printing safely.
//!
//! Lines are read on a dedicated blocking thread, one per [`Read`] request,
//! and come back to the async side over a channel as [`Input`]. Two modes:
//!
//! - stdin is a terminal: a line editor (rustyline; history for commands
//!   only), passwords read hidden (rpassword), and notices printed through
//!   the editor's external printer so they appear above the line being typed
//!   without garbling it. The terminal mode is saved at start and restored
//!   by [`Terminal::finish`], whatever the reader thread is doing.
//! - stdin is not a terminal (pipes, scripts, tests): plain lines; login
//!   prompts (and the y/n question of a private request) are printed
//!   without a line feed, command prompts not at all, and stdout is flushed
//!   after every write. Should the client end right after such a prompt, a
//!   line feed ends it, so the shell's prompt starts on a line of its own.

use std::io::{self, BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use rustix::termios::{self, OptionalActions, QueueSelector, Termios};
use rustyline::config::Config;
use rustyline::error::ReadlineError;
use rustyline::{DefaultEditor, ExternalPrinter};
use smol::future::FutureExt;

use crate::dialogue::{Echo, Read};
use crate::safe_text::neutralise;

/// What the reader thread hands back for a [`Read`].
#[derive(Debug, PartialEq, Eq)]
pub enum Input {
    /// The line typed, without its line feed.
    Line(String),
    /// End of input: EOF, Ctrl-D, Ctrl-C or an error reading.
    End,
}

/// How long to wait for queued notices to reach the screen.
const SYNC_TIMEOUT: Duration = Duration::from_secs(1);

/// Commands kept for the up arrow.
const HISTORY: usize = 100;

/// What the reader thread and [`Terminal::finish`] share.
#[derive(Default)]
struct Shared {
    /// The reader thread is in a read (the terminal may be in raw or no-echo mode).
    reading: bool,
    /// The client is ending: start no more reads.
    exiting: bool,
}

/// A job for the printer thread.
enum Job {
    Line(String),
    /// Acknowledge once every earlier line is printed.
    Sync(smol::channel::Sender<()>),
}

enum Output {
    /// Straight to stdout.
    Direct,
    /// Through the line editor's external printer, on its own thread so a
    /// busy editor never blocks the async side.
    Printer(mpsc::Sender<Job>),
}

pub struct Terminal {
    requests: mpsc::Sender<Read>,
    output: Output,
    /// The terminal mode at start, when stdin is a terminal.
    saved: Option<Termios>,
    shared: Arc<Mutex<Shared>>,
    stdin_tty: bool,
    /// The line editor is in use (and prints its own prompts).
    editor: bool,
}

impl Terminal {
    /// Starts the reader thread (and the printer thread on a terminal).
    pub fn start(debug: bool) -> (Terminal, smol::channel::Receiver<Input>) {
        let stdin_tty = io::stdin().is_terminal();
        let saved = if stdin_tty {
            termios::tcgetattr(io::stdin()).ok()
        } else {
            None
        };
        let mut editor = None;
        if stdin_tty {
            let config = Config::builder()
                .auto_add_history(false)
                .history_ignore_space(true)
                .bracketed_paste(false)
                .max_history_size(HISTORY)
                .and_then(|b| b.history_ignore_dups(true))
                .map(|b| b.build());
            match config.and_then(DefaultEditor::with_config) {
                Ok(e) => editor = Some(e),
                Err(e) if debug => eprintln!("[debug] no line editor: {e}"),
                Err(_) => {}
            }
        }
        let output = match editor.as_mut().map(|e| e.create_external_printer()) {
            Some(Ok(printer)) => Output::Printer(spawn_printer(printer)),
            Some(Err(e)) if debug => {
                eprintln!("[debug] printing directly: {e}");
                Output::Direct
            }
            _ => Output::Direct,
        };
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (requests, to_read) = mpsc::channel();
        let (lines, inputs) = smol::channel::unbounded();
        let has_editor = editor.is_some();
        let reader = Reader {
            editor,
            stdin_tty,
            debug,
        };
        let thread_shared = shared.clone();
        let spawned = thread::Builder::new()
            .name("natter-input".into())
            .spawn(move || reader.run(&to_read, &lines, &thread_shared));
        if spawned.is_err() {
            // `inputs` sees a closed channel: treated as the end of input.
            if debug {
                eprintln!("[debug] cannot start the input thread");
            }
        }
        let terminal = Terminal {
            requests,
            output,
            saved,
            shared,
            stdin_tty,
            editor: has_editor,
        };
        (terminal, inputs)
    }

    /// Asks the reader thread for one line.
    pub fn read(&self, read: Read) {
        if !self.reader_prompts(read.echo) && (read.echo != Echo::Command || self.stdin_tty) {
            // Printed here, in order with everything else printed.
            print_direct(&read.prompt);
        }
        // If the thread is gone, its channel is closed and the session
        // sees the end of input.
        let _ = self.requests.send(read);
    }

    /// Shows `text` as the prompt of the line already being read: as it
    /// is (no line feed) where prompts are plain text; as a line above the
    /// one being edited on the line editor, whose prompt cannot change
    /// during a read.
    pub fn prompt(&self, text: &str) {
        match &self.output {
            Output::Printer(_) => self.print(text.trim_end()),
            Output::Direct => print_direct(&neutralise(text)),
        }
    }

    /// Prints one line of text, made safe (R29).
    pub fn print(&self, text: &str) {
        let text = neutralise(text);
        match &self.output {
            Output::Printer(jobs) => {
                if let Err(mpsc::SendError(Job::Line(text))) = jobs.send(Job::Line(text.into())) {
                    print_direct(&format!("{text}\n"));
                }
            }
            Output::Direct => print_direct(&format!("{text}\n")),
        }
    }

    /// Waits (briefly) until every line printed so far is on the screen.
    pub async fn sync(&self) {
        if let Output::Printer(jobs) = &self.output {
            let (done, wait) = smol::channel::bounded(1);
            if jobs.send(Job::Sync(done)).is_ok() {
                let timeout = async {
                    smol::Timer::after(SYNC_TIMEOUT).await;
                };
                let _ = async {
                    let _ = wait.recv().await;
                }
                .or(timeout)
                .await;
            }
        }
    }

    /// Whether the reader thread shows the prompt itself: the line editor
    /// does; a hidden password is prompted for right before it is read.
    fn reader_prompts(&self, echo: Echo) -> bool {
        self.stdin_tty && (self.editor || echo == Echo::Hidden)
    }

    /// Puts the terminal back as it was and prints the last line, if any.
    /// The reader thread may be blocked in a read that cannot be cancelled;
    /// it is left behind, harmless, for the process to end.
    pub async fn finish(&self, last: Option<&str>) {
        self.sync().await;
        let reading = match self.shared.lock() {
            Ok(mut shared) => {
                shared.exiting = true;
                shared.reading
            }
            Err(_) => true,
        };
        if let Some(saved) = &self.saved {
            // What was typed and not yet read belongs to this client, not
            // to the shell that gets the terminal back.
            let _ = termios::tcflush(io::stdin(), QueueSelector::IFlush);
            restore(saved);
            if reading {
                // The reader may have been just about to switch the mode.
                thread::sleep(Duration::from_millis(20));
                restore(saved);
                // Keep the prompt line as it is on the screen, and end it.
                print_direct("\n");
            }
        } else if LINE_OPEN.load(Ordering::Relaxed) {
            // A prompt without its line feed was the last thing printed.
            print_direct("\n");
        }
        if let Some(text) = last {
            print_direct(&format!("{}\n", neutralise(text)));
        }
    }
}

fn restore(saved: &Termios) {
    let _ = termios::tcsetattr(io::stdin(), OptionalActions::Now, saved);
}

/// Whether the last text [`print_direct`] wrote did not end its line (a
/// prompt).
static LINE_OPEN: AtomicBool = AtomicBool::new(false);

/// Writes and flushes at once: tests read stdout through a pipe.
fn print_direct(text: &str) {
    let mut out = io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    if let Some(last) = text.chars().next_back() {
        LINE_OPEN.store(last != '\n', Ordering::Relaxed);
    }
}

fn spawn_printer(mut printer: impl ExternalPrinter + Send + 'static) -> mpsc::Sender<Job> {
    let (jobs, todo) = mpsc::channel::<Job>();
    let spawned = thread::Builder::new()
        .name("natter-print".into())
        .spawn(move || {
            for job in todo {
                match job {
                    Job::Line(mut line) => {
                        line.push('\n');
                        if let Err(_unprinted) = printer.print(line.clone()) {
                            print_direct(&line);
                        }
                    }
                    Job::Sync(done) => {
                        let _ = done.try_send(());
                    }
                }
            }
        });
    // Without the thread, its receiver is gone and `print` writes directly.
    drop(spawned);
    jobs
}

/// The reader thread's state.
struct Reader {
    editor: Option<DefaultEditor>,
    stdin_tty: bool,
    debug: bool,
}

impl Reader {
    fn run(
        mut self,
        requests: &mpsc::Receiver<Read>,
        lines: &smol::channel::Sender<Input>,
        shared: &Mutex<Shared>,
    ) {
        for read in requests {
            match shared.lock() {
                Ok(mut s) if !s.exiting => s.reading = true,
                _ => return,
            }
            let line = self.read(&read);
            if let Ok(mut s) = shared.lock() {
                s.reading = false;
            }
            let end = line.is_none();
            if lines
                .send_blocking(line.map_or(Input::End, Input::Line))
                .is_err()
                || end
            {
                return;
            }
        }
    }

    /// One line, or `None` at the end of input.
    fn read(&mut self, read: &Read) -> Option<String> {
        if read.echo == Echo::Hidden && self.stdin_tty {
            print_direct(&read.prompt);
            return match rpassword::read_password() {
                Ok(password) => Some(password),
                Err(e) => {
                    if e.kind() == io::ErrorKind::UnexpectedEof {
                        // Ctrl-D: rpassword leaves the cursor after the prompt.
                        print_direct("\n");
                    } else if self.debug && e.kind() != io::ErrorKind::Interrupted {
                        eprintln!("[debug] reading a password: {e}");
                    }
                    None
                }
            };
        }
        if let Some(editor) = &mut self.editor {
            return match editor.readline(&read.prompt) {
                Ok(line) => {
                    if read.echo == Echo::Command && !line.trim().is_empty() {
                        let _ = editor.add_history_entry(line.as_str());
                    }
                    Some(line)
                }
                Err(ReadlineError::Eof | ReadlineError::Interrupted) => None,
                Err(e) => {
                    if self.debug {
                        eprintln!("[debug] reading a line: {e}");
                    }
                    None
                }
            };
        }
        // The prompt was printed by `Terminal::read`.
        read_plain_line(&mut io::stdin().lock())
    }
}

/// One line from a pipe or file, without its line feed (or CR LF); `None`
/// at the end. Invalid UTF-8 is replaced, never refused.
fn read_plain_line(input: &mut impl BufRead) -> Option<String> {
    let mut bytes = Vec::new();
    match input.read_until(b'\n', &mut bytes) {
        Ok(0) | Err(_) => None,
        Ok(_) => {
            if bytes.last() == Some(&b'\n') {
                bytes.pop();
                if bytes.last() == Some(&b'\r') {
                    bytes.pop();
                }
            }
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_lose_their_line_ends_only() {
        let mut input = io::Cursor::new(&b"yoda\nwise@!man\r\n  spaced \nlast"[..]);
        let lines: Vec<_> = std::iter::from_fn(|| read_plain_line(&mut input)).collect();
        assert_eq!(lines, ["yoda", "wise@!man", "  spaced ", "last"]);
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let mut input = io::Cursor::new(&b"a\xffb\n"[..]);
        assert_eq!(read_plain_line(&mut input).as_deref(), Some("a\u{fffd}b"));
        assert_eq!(read_plain_line(&mut input), None);
    }

    #[test]
    fn an_empty_line_is_a_line_not_the_end() {
        let mut input = io::Cursor::new(&b"\n"[..]);
        assert_eq!(read_plain_line(&mut input).as_deref(), Some(""));
        assert_eq!(read_plain_line(&mut input), None);
    }
}
