//! A client in a real terminal, as a person uses it: tmux runs the real
//! `natter-client` in a pseudo-terminal of a set size and is the terminal
//! emulator, so the tests type keys, paste (bracketed or not), resize the
//! window, and read back what is on the screen, as drawn. tmux reflows
//! wrapped lines on a resize, as the terminals people use do.
//!
//! Each [`Screen`] has its own tmux server (its own socket), killed when it
//! is dropped. Every wait is bounded by [`crate::WAIT`] and fails with the
//! screen as it was.

use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::{WAIT, bin, output_of, qemu};

/// Sockets of this test process, numbered.
static NEXT: AtomicUsize = AtomicUsize::new(0);

pub struct Screen {
    socket: String,
    dir: tempfile::TempDir,
}

impl Screen {
    /// `natter-client` with `args` in a window `cols` x `rows`, with the
    /// environment variables `env` added. A shell runs it, saving `stty -g`
    /// before and after it to `before` and `after` in [`Screen::dir`], and
    /// its exit status to `status` (tmux does not always tell a pane's).
    pub fn client(args: &[&str], env: &[(&str, &str)], cols: u16, rows: u16) -> Screen {
        let mut words = program("natter-client");
        words.extend(args.iter().map(|a| a.to_string()));
        let client: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let script = format!(
            "stty -g > before; {}; echo $? > status; stty -g > after.part; mv after.part after",
            client.join(" ")
        );
        Screen::run(&["sh".into(), "-c".into(), script], env, cols, rows)
    }

    fn run(command: &[String], env: &[(&str, &str)], cols: u16, rows: u16) -> Screen {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("tmux.conf");
        std::fs::write(
            &conf,
            "set -g remain-on-exit on\nset -g history-limit 10000\nset -g status off\n",
        )
        .unwrap();
        let socket = format!(
            "natter-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let screen = Screen { socket, dir };
        let (cols, rows) = (cols.to_string(), rows.to_string());
        let mut args: Vec<String> = [
            "-f",
            conf.to_str().unwrap(),
            "new-session",
            "-d",
            "-s",
            "main",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        args.extend(["-x".into(), cols, "-y".into(), rows]);
        args.extend(["-c".into(), screen.dir.path().display().to_string()]);
        for (name, value) in env {
            args.extend(["-e".into(), format!("{name}={value}")]);
        }
        args.extend(command.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        screen.tmux(&args);
        screen
    }

    /// The directory the client runs in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn tmux(&self, args: &[&str]) -> Output {
        let mut all = vec!["-L", &self.socket];
        all.extend(args);
        let output = output_of("tmux", &all)
            .unwrap_or_else(|e| panic!("cannot run tmux (ci/setup.sh installs it): {e}"));
        assert!(
            output.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// Types `text`, key by key as tmux sends it.
    pub fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "main", "-l", text]);
    }

    /// Presses keys by their tmux names: `Enter`, `C-c`, `Tab`, `Left`.
    pub fn press(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend(keys);
        self.tmux(&args);
    }

    /// Pastes `text` in one write, as a terminal does: its line feeds
    /// become Enter, and with `bracketed` the terminal marks the paste
    /// (when the program asked it to).
    pub fn paste(&self, text: &str, bracketed: bool) {
        self.tmux(&["set-buffer", "-b", "paste", "--", text]);
        let mut args = vec!["paste-buffer", "-d", "-b", "paste", "-t", "main"];
        if bracketed {
            args.push("-p");
        }
        self.tmux(&args);
    }

    /// Resizes the window.
    pub fn resize(&self, cols: u16, rows: u16) {
        let (cols, rows) = (cols.to_string(), rows.to_string());
        self.tmux(&["resize-window", "-t", "main", "-x", &cols, "-y", &rows]);
    }

    /// Every line, scrolled off or on the screen, wrapped lines joined,
    /// trailing blanks dropped.
    pub fn lines(&self) -> Vec<String> {
        self.capture(&["-J", "-S", "-"])
    }

    /// The rows on the screen now, as drawn.
    pub fn rows(&self) -> Vec<String> {
        self.capture(&[])
    }

    /// The whole history with the terminal's colour codes.
    pub fn styled(&self) -> String {
        let output = self.tmux(&["capture-pane", "-p", "-e", "-J", "-S", "-", "-t", "main"]);
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn capture(&self, extra: &[&str]) -> Vec<String> {
        let mut args = vec!["capture-pane", "-p", "-t", "main"];
        args.extend(extra);
        let output = self.tmux(&args);
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let mut lines: Vec<String> = text.lines().map(|l| l.trim_end().to_string()).collect();
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        lines
    }

    /// Where the cursor is: (column, row) on the screen.
    pub fn cursor(&self) -> (usize, usize) {
        let output = self.tmux(&[
            "display-message",
            "-p",
            "-t",
            "main",
            "#{cursor_x} #{cursor_y}",
        ]);
        let text = String::from_utf8_lossy(&output.stdout);
        let mut numbers = text.split_whitespace().map(|n| n.parse().unwrap());
        (numbers.next().unwrap(), numbers.next().unwrap())
    }

    /// The client's exit status, once it has exited.
    pub fn exit_status(&self) -> Option<i32> {
        // `status` is written first, then `after`, renamed into place whole.
        std::fs::metadata(self.dir().join("after")).ok()?;
        std::fs::read_to_string(self.dir().join("status"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// The terminal's mode (`stty -g`) before the client ran and after it.
    pub fn modes(&self) -> (String, String) {
        let read = |file: &str| std::fs::read_to_string(self.dir().join(file)).unwrap_or_default();
        (read("before"), read("after"))
    }

    /// Waits until `done` holds for the screen, at most [`WAIT`].
    pub fn wait_for(&self, what: &str, done: impl Fn(&Screen) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !done(self) {
            if Instant::now() > deadline {
                panic!(
                    "waited {WAIT:?} for {what}; the screen, with its history:\n{}",
                    self.lines().join("\n")
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until some line reads exactly `line`.
    pub fn expect_line(&self, line: &str) {
        self.wait_for(&format!("the line {line:?}"), |s| {
            s.lines().iter().any(|l| l == line)
        });
    }

    /// How many lines read exactly `line`.
    pub fn count(&self, line: &str) -> usize {
        self.lines().iter().filter(|l| *l == line).count()
    }

    /// The last line with anything on it: where the prompt is.
    pub fn last_line(&self) -> String {
        self.lines().pop().unwrap_or_default()
    }

    /// Waits until the client exits; its exit status.
    pub fn expect_exit(&self) -> i32 {
        self.wait_for("the client to exit", |s| s.exit_status().is_some());
        self.exit_status().unwrap_or(-1)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = output_of("tmux", &["-L", &self.socket, "kill-server"]);
    }
}

/// How to run a workspace binary: its path, after `qemu-<arch>` when the
/// binaries are for another architecture (qemu finds its sysroot in the
/// inherited `QEMU_LD_PREFIX`, which tmux passes on).
fn program(name: &str) -> Vec<String> {
    let path = bin(name).display().to_string();
    match qemu() {
        Some(qemu) => vec![qemu.into(), path],
        None => vec![path],
    }
}
