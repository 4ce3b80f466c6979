//! The line being typed, as a state machine with no I/O: keys go in, the
//! bytes that redraw it come out (into a `String` the terminal writes),
//! and a finished line comes back as [`Edited::Line`].
//!
//! It draws the prompt and the line at the bottom of the screen (the
//! "edit area", over several rows when the line wraps), and can print a
//! line above it without disturbing what is being typed. Widths are
//! display widths: a wide character takes two columns, a combining mark
//! none, and the cursor never lands between a character and its marks.
//! Commands get history (Up, Down, Ctrl-R) and Tab completion of command
//! names and usernames; a password is drawn as its prompt alone.

use std::fmt::Write;

use unicode_width::UnicodeWidthChar;

use super::keys::Key;
use crate::dialogue::Echo;
use natter_core::command::COMMANDS;

/// Commands kept for Up and Ctrl-R.
const HISTORY: usize = 100;

/// What a key did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edited {
    /// Enter: the line typed. The editor is empty again, but the edit area
    /// still shows the line until the next draw.
    Line(String),
    /// Ctrl-C on an empty line (with text, Ctrl-C only drops it).
    Interrupt,
    /// Ctrl-D on an empty line.
    Eof,
}

/// The reverse incremental search of Ctrl-R.
#[derive(Debug, Default)]
struct Search {
    query: String,
    /// The history entry shown, if any matches.
    found: Option<usize>,
}

#[derive(Debug)]
pub struct Editor {
    prompt: String,
    echo: Echo,
    line: Vec<char>,
    /// An index into `line`, never inside a character's combining marks.
    cursor: usize,
    history: Vec<String>,
    /// Browsing the history: the entry shown, and the line typed before.
    browsing: Option<(usize, Vec<char>)>,
    search: Option<Search>,
    /// The last key was a Tab that completed nothing: the next one lists.
    listing: bool,
    /// Usernames seen, for completion, sorted.
    names: Vec<String>,
    /// Terminal columns.
    width: usize,
    /// Rows the edit area on screen takes (0: none drawn).
    rows: usize,
    /// Rows from the top of the edit area on screen to the cursor.
    cursor_row: usize,
    /// What the edit area on screen shows, to know how it reflows.
    drawn: Vec<Cell>,
    /// The cursor's cell in `drawn`.
    drawn_cursor: usize,
}

/// One character on screen.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Cell {
    text: String,
    width: usize,
}

impl Editor {
    pub fn new(width: usize) -> Editor {
        Editor {
            prompt: String::new(),
            echo: Echo::Visible,
            line: Vec::new(),
            cursor: 0,
            history: Vec::new(),
            browsing: None,
            search: None,
            listing: false,
            names: Vec::new(),
            width: width.max(2),
            rows: 0,
            cursor_row: 0,
            drawn: Vec::new(),
            drawn_cursor: 0,
        }
    }

    /// The prompt and how what is typed is shown; takes effect at the next
    /// draw. What was typed so far stays.
    pub fn set_prompt(&mut self, prompt: &str, echo: Echo) {
        self.prompt = prompt.into();
        if echo != self.echo {
            self.search = None;
            self.browsing = None;
        }
        self.echo = echo;
    }

    /// Drops what was typed, if it was typed hidden: half a password is
    /// never shown as anything else. Whether there was any.
    pub fn clear_hidden(&mut self) -> bool {
        if self.echo != Echo::Hidden || self.line.is_empty() {
            return false;
        }
        self.line.clear();
        self.cursor = 0;
        true
    }

    /// Adds a username to those Tab completes.
    pub fn add_name(&mut self, name: &str) {
        if let Err(at) = self.names.binary_search_by(|n| n.as_str().cmp(name)) {
            self.names.insert(at, name.into());
        }
    }

    /// The line typed so far, if it may be shown (not a password).
    pub fn typed(&self) -> Option<String> {
        (self.echo != Echo::Hidden && !self.line.is_empty()).then(|| self.line.iter().collect())
    }

    /// Handles one key; redraws into `out` unless the key ended a line.
    pub fn key(&mut self, key: Key, out: &mut String) -> Option<Edited> {
        if self.search.is_some() {
            return self.search_key(key, out);
        }
        let listing = std::mem::replace(&mut self.listing, false);
        match key {
            Key::Enter => return Some(self.take_line()),
            Key::Char(c) => self.insert(c),
            Key::Tab if self.echo == Echo::Command => self.complete(listing, out),
            // A Tab in a login answer or a paste is text: a space.
            Key::Tab => self.insert(' '),
            Key::Backspace => {
                let start = self.cluster_start(self.cursor);
                self.line.drain(start..self.cursor);
                self.cursor = start;
            }
            Key::Delete => self.delete_forward(),
            Key::Ctrl(b'd') if self.line.is_empty() => return Some(Edited::Eof),
            Key::Ctrl(b'd') => self.delete_forward(),
            Key::Ctrl(b'c') if self.line.is_empty() => return Some(Edited::Interrupt),
            Key::Ctrl(b'c') => {
                // Dropped, and left on screen as dropped, as a shell does.
                let prompt: String = self.prompt.chars().map(shown_char).collect();
                let committed = format!("{prompt}{}^C", self.shown_line());
                self.line.clear();
                self.cursor = 0;
                self.browsing = None;
                self.print_above(&committed, out);
                return None;
            }
            Key::Left | Key::Ctrl(b'b') => self.cursor = self.cluster_start(self.cursor),
            Key::Right | Key::Ctrl(b'f') => self.cursor = self.cluster_end(self.cursor),
            Key::Home | Key::Ctrl(b'a') => self.cursor = 0,
            Key::End | Key::Ctrl(b'e') => self.cursor = self.line.len(),
            Key::WordLeft => self.cursor = self.word_start(),
            Key::WordRight => self.cursor = self.word_end(),
            Key::Ctrl(b'k') => self.line.truncate(self.cursor),
            Key::Ctrl(b'u') => {
                self.line.drain(..self.cursor);
                self.cursor = 0;
            }
            Key::Ctrl(b'w') | Key::DeleteWordBack => {
                let start = self.word_start();
                self.line.drain(start..self.cursor);
                self.cursor = start;
            }
            Key::Ctrl(b'l') => {
                out.push_str("\x1b[H\x1b[2J");
                self.rows = 0;
                self.cursor_row = 0;
            }
            Key::Up | Key::Ctrl(b'p') if self.echo == Echo::Command => self.history_step(true),
            Key::Down | Key::Ctrl(b'n') if self.echo == Echo::Command => self.history_step(false),
            Key::Ctrl(b'r') if self.echo == Echo::Command => {
                self.search = Some(Search::default());
            }
            _ => {}
        }
        self.draw(out);
        None
    }

    /// Keys while searching the history with Ctrl-R.
    fn search_key(&mut self, key: Key, out: &mut String) -> Option<Edited> {
        let search = self.search.as_mut()?;
        match key {
            Key::Char(c) => {
                search.query.push(c);
                let from = search.found.map_or(self.history.len(), |i| i + 1);
                search.found = find(&self.history, &search.query, from);
            }
            Key::Backspace => {
                search.query.pop();
                search.found = find(&self.history, &search.query, self.history.len());
            }
            Key::Ctrl(b'r') => {
                let from = search.found.unwrap_or(self.history.len());
                if let Some(older) = find(&self.history, &search.query, from) {
                    search.found = Some(older);
                }
            }
            Key::Ctrl(b'g') | Key::Ctrl(b'c') | Key::Escape => self.search = None,
            Key::Enter => {
                self.accept_search();
                return Some(self.take_line());
            }
            // Anything else takes the match for editing, then acts on it.
            other => {
                self.accept_search();
                return self.key(other, out);
            }
        }
        self.draw(out);
        None
    }

    fn accept_search(&mut self) {
        if let Some(Search { found: Some(i), .. }) = self.search.take() {
            self.line = self.history[i].chars().collect();
            self.cursor = self.line.len();
        }
    }

    /// Enter: the line, empty again, and the command in the history.
    fn take_line(&mut self) -> Edited {
        let line: String = self.line.drain(..).collect();
        self.cursor = 0;
        self.browsing = None;
        let keep = self.echo == Echo::Command
            && !line.trim().is_empty()
            && !line.starts_with(' ')
            && self.history.last() != Some(&line);
        if keep {
            if self.history.len() == HISTORY {
                self.history.remove(0);
            }
            self.history.push(line.clone());
        }
        Edited::Line(line)
    }

    fn insert(&mut self, c: char) {
        self.line.insert(self.cursor, c);
        // A combining mark joins the character before it.
        self.cursor = self.cluster_end(self.cursor);
    }

    fn delete_forward(&mut self) {
        let end = self.cluster_end(self.cursor);
        self.line.drain(self.cursor..end);
    }

    /// Where the character before `at` starts, with its marks.
    fn cluster_start(&self, at: usize) -> usize {
        let mut i = at.saturating_sub(1);
        while i > 0 && is_mark(self.line[i]) {
            i -= 1;
        }
        i
    }

    /// Where the character at `at` ends, with its marks.
    fn cluster_end(&self, at: usize) -> usize {
        let mut i = (at + 1).min(self.line.len());
        while i < self.line.len() && is_mark(self.line[i]) {
            i += 1;
        }
        i
    }

    fn word_start(&self) -> usize {
        let mut i = self.cursor;
        while i > 0 && self.line[i - 1] == ' ' {
            i -= 1;
        }
        while i > 0 && self.line[i - 1] != ' ' {
            i -= 1;
        }
        i
    }

    fn word_end(&self) -> usize {
        let mut i = self.cursor;
        while i < self.line.len() && self.line[i] == ' ' {
            i += 1;
        }
        while i < self.line.len() && self.line[i] != ' ' {
            i += 1;
        }
        i
    }

    /// Up (`older`) or Down through the history.
    fn history_step(&mut self, older: bool) {
        let at = match (&self.browsing, older) {
            (None, true) if !self.history.is_empty() => self.history.len() - 1,
            (None, _) => return,
            (Some((i, _)), true) => i.saturating_sub(1),
            (Some((i, _)), false) if i + 1 < self.history.len() => i + 1,
            (Some(_), false) => {
                // Past the newest: back to what was being typed.
                if let Some((_, draft)) = self.browsing.take() {
                    self.line = draft;
                    self.cursor = self.line.len();
                }
                return;
            }
        };
        let draft = match self.browsing.take() {
            Some((_, draft)) => draft,
            None => std::mem::take(&mut self.line),
        };
        self.line = self.history[at].chars().collect();
        self.cursor = self.line.len();
        self.browsing = Some((at, draft));
    }

    /// Tab: completes the word before the cursor, a command name first, a
    /// username after a command that takes one; a second Tab that still
    /// completes nothing lists the choices.
    fn complete(&mut self, listing: bool, out: &mut String) {
        let start = self.word_start_at(self.cursor);
        let word: String = self.line[start..self.cursor].iter().collect();
        let before: String = self.line[..start].iter().collect();
        let mut words = before.split_whitespace();
        let choices: Vec<&str> = match (words.next(), words.next()) {
            (None, _) => COMMANDS.iter().map(|c| c.name).collect(),
            (Some("help" | "?" | "/help"), None) => COMMANDS.iter().map(|c| c.name).collect(),
            (Some(command), None) if COMMANDS.iter().any(|c| c.name == command && c.takes_user) => {
                self.names.iter().map(String::as_str).collect()
            }
            _ => Vec::new(),
        };
        let matching: Vec<&str> = choices
            .into_iter()
            .filter(|choice| choice.starts_with(word.as_str()))
            .collect();
        let completion = match matching.as_slice() {
            [] => return,
            [only] => format!("{only} "),
            several => common_prefix(several).to_string(),
        };
        if completion.len() > word.len() {
            let rest: Vec<char> = completion[word.len()..].chars().collect();
            let n = rest.len();
            self.line.splice(self.cursor..self.cursor, rest);
            self.cursor += n;
            // Still several: the next Tab lists them, as in bash.
            self.listing = matching.len() > 1;
        } else if listing {
            let list = matching.join("  ");
            self.print_above(&list, out);
        } else {
            self.listing = true;
        }
    }

    fn word_start_at(&self, at: usize) -> usize {
        let mut i = at;
        while i > 0 && self.line[i - 1] != ' ' {
            i -= 1;
        }
        i
    }

    /// The line as the edit area shows it.
    fn shown_line(&self) -> String {
        match self.echo {
            Echo::Hidden => String::new(),
            _ => self.line.iter().map(|&c| shown_char(c)).collect(),
        }
    }

    /// Prints `text` (one line, already made safe) above the edit area,
    /// which is drawn again below it.
    pub fn print_above(&mut self, text: &str, out: &mut String) {
        self.erase(out);
        out.push_str(text);
        out.push_str("\r\n");
        self.draw(out);
    }

    /// Takes the edit area off the screen, leaving the cursor where it
    /// began. Row by row with "erase line", never "erase the screen": a
    /// terminal may keep what an erased screen held (tmux's scroll-on-clear
    /// does), and the scrollback would fill with copies of the line.
    pub fn erase(&mut self, out: &mut String) {
        let rows = self.rows.max(1);
        let below = rows - 1 - self.cursor_row.min(rows - 1);
        if below > 0 {
            let _ = write!(out, "\x1b[{below}B");
        }
        for row in (0..rows).rev() {
            out.push_str("\r\x1b[K");
            if row > 0 {
                out.push_str("\x1b[A");
            }
        }
        self.rows = 0;
        self.cursor_row = 0;
        self.drawn.clear();
        self.drawn_cursor = 0;
    }

    /// The terminal is now `width` columns wide. Terminals reflow wrapped
    /// lines on a resize (tmux, VTE, kitty, ...): where the edit area now
    /// is follows from the new width; then it is drawn again.
    pub fn resize(&mut self, width: usize, out: &mut String) {
        self.width = width.max(2);
        let layout = Layout::of(&self.drawn, self.drawn_cursor, self.width);
        self.rows = layout.rows;
        self.cursor_row = layout.cursor.0;
        self.draw(out);
    }

    /// Draws the edit area again, over what is there.
    pub fn draw(&mut self, out: &mut String) {
        self.erase(out);
        let (cells, cursor) = self.cells();
        for cell in &cells {
            out.push_str(&cell.text);
        }
        let layout = Layout::of(&cells, cursor, self.width);
        if layout.full {
            // A full last row: go to the next one, where typing continues.
            out.push_str("\r\n");
        }
        let (row, col) = layout.cursor;
        let up = layout.rows - 1 - row;
        if up > 0 {
            let _ = write!(out, "\x1b[{up}A");
        }
        out.push('\r');
        if col > 0 {
            let _ = write!(out, "\x1b[{col}C");
        }
        self.rows = layout.rows;
        self.cursor_row = row;
        self.drawn = cells;
        self.drawn_cursor = cursor;
    }

    /// What the edit area shows, cell by cell, and the cursor's cell.
    fn cells(&self) -> (Vec<Cell>, usize) {
        let mut cells = Vec::new();
        match &self.search {
            Some(search) => {
                push_cells(
                    &mut cells,
                    &format!("(reverse-i-search)`{}': ", search.query),
                );
                let at = cells.len();
                if let Some(i) = search.found {
                    push_cells(&mut cells, &self.history[i]);
                }
                (cells, at)
            }
            None => {
                push_cells(&mut cells, &self.prompt);
                let at = cells.len();
                if self.echo != Echo::Hidden {
                    let line: String = self.line.iter().collect();
                    push_cells(&mut cells, &line);
                    return (cells, at + self.cursor);
                }
                (cells, at)
            }
        }
    }
}

/// Adds a cell for each character of `text`.
fn push_cells(cells: &mut Vec<Cell>, text: &str) {
    for c in text.chars() {
        let text = shown_char(c);
        let width = text.chars().map(|c| c.width().unwrap_or(0)).sum();
        cells.push(Cell { text, width });
    }
}

/// The newest history entry before `before` that contains `query`.
fn find(history: &[String], query: &str, before: usize) -> Option<usize> {
    history[..before.min(history.len())]
        .iter()
        .rposition(|entry| entry.contains(query))
}

fn common_prefix<'a>(words: &[&'a str]) -> &'a str {
    let first = words[0];
    let mut len = first.len();
    for word in &words[1..] {
        len = first
            .bytes()
            .zip(word.bytes())
            .take(len)
            .take_while(|(a, b)| a == b)
            .count();
    }
    // Names and commands are ASCII, so any byte is a boundary.
    first.get(..len).unwrap_or("")
}

/// A combining mark or other character drawn over the one before it.
fn is_mark(c: char) -> bool {
    c.width() == Some(0) && !c.is_control()
}

/// How a character is drawn: control characters in caret notation, so
/// nothing typed or pasted can drive the terminal.
fn shown_char(c: char) -> String {
    match c {
        '\0'..='\x1f' => format!("^{}", char::from(c as u8 + b'@')),
        '\x7f' => "^?".into(),
        c if c.is_control() => char::REPLACEMENT_CHARACTER.into(),
        c => c.into(),
    }
}

/// Where the edit area's cells land on a terminal of some width.
struct Layout {
    /// Rows taken, with the empty one after a full last row.
    rows: usize,
    /// The last row is full: the cursor goes to the start of the next.
    full: bool,
    /// The cursor's row and column.
    cursor: (usize, usize),
}

impl Layout {
    fn of(cells: &[Cell], cursor: usize, width: usize) -> Layout {
        let end = place(cells, width, cells.len());
        let full = !cells.is_empty() && end.1 >= width;
        let end_row = end.0 + usize::from(full);
        let cursor = if cursor >= cells.len() {
            (end_row, if full { 0 } else { end.1 })
        } else {
            place(cells, width, cursor)
        };
        Layout {
            rows: end_row + 1,
            full,
            cursor,
        }
    }
}

/// The row and column where cell `index` starts (or, for `cells.len()`,
/// where the next one would), on a terminal `width` columns wide that
/// wraps a character that does not fit onto the next row.
fn place(cells: &[Cell], width: usize, index: usize) -> (usize, usize) {
    let (mut row, mut col) = (0, 0);
    for cell in &cells[..index.min(cells.len())] {
        if cell.width > 0 && col + cell.width > width {
            row += 1;
            col = 0;
        }
        col += cell.width;
    }
    if let Some(next) = cells.get(index)
        && next.width > 0
        && col + next.width > width
    {
        return (row + 1, 0);
    }
    (row, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn editor(prompt: &str, echo: Echo) -> Editor {
        let mut editor = Editor::new(20);
        editor.set_prompt(prompt, echo);
        editor
    }

    /// Types `text` (no Enter), dropping the drawing.
    fn type_in(editor: &mut Editor, text: &str) {
        for c in text.chars() {
            editor.key(Key::Char(c), &mut String::new());
        }
    }

    fn press(editor: &mut Editor, key: Key) -> Option<Edited> {
        editor.key(key, &mut String::new())
    }

    fn line(editor: &Editor) -> String {
        editor.line.iter().collect()
    }

    #[test]
    fn enter_gives_the_line_and_empties_the_editor() {
        let mut e = editor("> ", Echo::Command);
        type_in(&mut e, "whoelse");
        assert_eq!(
            press(&mut e, Key::Enter),
            Some(Edited::Line("whoelse".into()))
        );
        assert_eq!(line(&e), "");
        assert_eq!(press(&mut e, Key::Enter), Some(Edited::Line(String::new())));
    }

    #[test]
    fn editing_keys() {
        let mut e = editor("> ", Echo::Command);
        type_in(&mut e, "message yoda hi");
        press(&mut e, Key::Ctrl(b'a'));
        press(&mut e, Key::Delete);
        assert_eq!(line(&e), "essage yoda hi");
        press(&mut e, Key::Char('m'));
        press(&mut e, Key::End);
        press(&mut e, Key::Backspace);
        press(&mut e, Key::Char('o'));
        assert_eq!(line(&e), "message yoda ho");
        press(&mut e, Key::WordLeft);
        press(&mut e, Key::Ctrl(b'k'));
        assert_eq!(line(&e), "message yoda ");
        press(&mut e, Key::Ctrl(b'w'));
        assert_eq!(line(&e), "message ");
        press(&mut e, Key::Ctrl(b'u'));
        assert_eq!(line(&e), "");
    }

    #[test]
    fn ctrl_c_drops_the_line_or_interrupts_an_empty_one() {
        let mut e = editor("> ", Echo::Command);
        type_in(&mut e, "half typed");
        let mut out = String::new();
        assert_eq!(e.key(Key::Ctrl(b'c'), &mut out), None);
        assert!(out.contains("> half typed^C\r\n"), "{out:?}");
        assert_eq!(line(&e), "");
        assert_eq!(press(&mut e, Key::Ctrl(b'c')), Some(Edited::Interrupt));
    }

    #[test]
    fn ctrl_d_ends_only_an_empty_line() {
        let mut e = editor("> ", Echo::Command);
        type_in(&mut e, "ab");
        press(&mut e, Key::Left);
        assert_eq!(press(&mut e, Key::Ctrl(b'd')), None);
        assert_eq!(line(&e), "a");
        press(&mut e, Key::Backspace);
        assert_eq!(press(&mut e, Key::Ctrl(b'd')), Some(Edited::Eof));
    }

    #[test]
    fn a_password_is_never_drawn_and_never_kept() {
        let mut e = editor("Password: ", Echo::Hidden);
        let mut out = String::new();
        for c in "light==saber".chars() {
            e.key(Key::Char(c), &mut out);
        }
        assert!(!out.contains("light"), "{out:?}");
        assert!(out.contains("Password: "));
        assert_eq!(e.typed(), None);
        assert_eq!(
            press(&mut e, Key::Enter),
            Some(Edited::Line("light==saber".into()))
        );
        assert!(e.history.is_empty());
        press(&mut e, Key::Up);
        assert_eq!(line(&e), "");
    }

    #[test]
    fn history_goes_back_and_forth_and_keeps_the_draft() {
        let mut e = editor("> ", Echo::Command);
        for command in ["whoelse", "whoelse", "block vader", " secret"] {
            type_in(&mut e, command);
            press(&mut e, Key::Enter);
        }
        assert_eq!(
            e.history,
            ["whoelse", "block vader"],
            "no repeats, no leading space"
        );
        type_in(&mut e, "draft");
        press(&mut e, Key::Up);
        assert_eq!(line(&e), "block vader");
        press(&mut e, Key::Up);
        press(&mut e, Key::Up);
        assert_eq!(line(&e), "whoelse", "stops at the oldest");
        press(&mut e, Key::Down);
        assert_eq!(line(&e), "block vader");
        press(&mut e, Key::Down);
        assert_eq!(line(&e), "draft");
    }

    #[test]
    fn ctrl_r_finds_older_commands() {
        let mut e = editor("> ", Echo::Command);
        for command in ["message yoda one", "whoelse", "message luke two"] {
            type_in(&mut e, command);
            press(&mut e, Key::Enter);
        }
        press(&mut e, Key::Ctrl(b'r'));
        type_in(&mut e, "mess");
        let mut out = String::new();
        e.draw(&mut out);
        assert!(
            out.contains("(reverse-i-search)`mess': message luke two"),
            "{out:?}"
        );
        press(&mut e, Key::Ctrl(b'r'));
        assert_eq!(
            press(&mut e, Key::Enter),
            Some(Edited::Line("message yoda one".into()))
        );
        // Another key takes the match for editing; Ctrl-G gives up.
        press(&mut e, Key::Ctrl(b'r'));
        type_in(&mut e, "who");
        press(&mut e, Key::End);
        press(&mut e, Key::Char('!'));
        assert_eq!(line(&e), "whoelse!");
        press(&mut e, Key::Ctrl(b'u'));
        press(&mut e, Key::Ctrl(b'r'));
        type_in(&mut e, "who");
        press(&mut e, Key::Ctrl(b'g'));
        assert_eq!(line(&e), "");
    }

    #[test]
    fn a_paste_during_a_search_ends_it_and_is_inserted() {
        let mut e = editor("> ", Echo::Command);
        type_in(&mut e, "whoelse");
        press(&mut e, Key::Enter);
        press(&mut e, Key::Ctrl(b'r'));
        type_in(&mut e, "who");
        press(&mut e, Key::PasteStart);
        assert!(e.search.is_none());
        type_in(&mut e, " pasted");
        assert_eq!(line(&e), "whoelse pasted");
    }

    #[test]
    fn half_a_password_is_dropped_not_shown_when_the_prompt_changes() {
        let mut e = editor("Password: ", Echo::Hidden);
        type_in(&mut e, "secr");
        assert!(e.clear_hidden());
        e.set_prompt("Username: ", Echo::Visible);
        assert_eq!(line(&e), "");
        // Nothing hidden, nothing dropped.
        type_in(&mut e, "luke");
        assert!(!e.clear_hidden());
        assert_eq!(line(&e), "luke");
    }

    #[test]
    fn tab_completes_commands_then_names() {
        let mut e = editor("> ", Echo::Command);
        e.add_name("luke");
        e.add_name("leia");
        e.add_name("luke");
        type_in(&mut e, "mes");
        press(&mut e, Key::Tab);
        assert_eq!(line(&e), "message ");
        type_in(&mut e, "l");
        press(&mut e, Key::Tab);
        assert_eq!(line(&e), "message l", "two names start with l");
        let mut out = String::new();
        e.key(Key::Tab, &mut out);
        assert!(
            out.contains("leia  luke\r\n"),
            "the second Tab lists: {out:?}"
        );
        type_in(&mut e, "u");
        press(&mut e, Key::Tab);
        assert_eq!(line(&e), "message luke ");
        // A Tab that extends to what several share: the next one lists.
        let mut e = editor("> ", Echo::Command);
        type_in(&mut e, "s");
        press(&mut e, Key::Tab);
        assert_eq!(line(&e), "st");
        let mut out = String::new();
        e.key(Key::Tab, &mut out);
        assert!(out.contains("startprivate  stopprivate\r\n"), "{out:?}");
        // Whoelse takes no name; help takes a command.
        let mut e = editor("> ", Echo::Command);
        e.add_name("luke");
        type_in(&mut e, "whoelse l");
        press(&mut e, Key::Tab);
        assert_eq!(line(&e), "whoelse l");
        let mut e = editor("> ", Echo::Command);
        type_in(&mut e, "help sto");
        press(&mut e, Key::Tab);
        assert_eq!(line(&e), "help stopprivate ");
        // At a login prompt, Tab is a space.
        let mut e = editor("Username: ", Echo::Visible);
        type_in(&mut e, "a");
        press(&mut e, Key::Tab);
        assert_eq!(line(&e), "a ");
    }

    #[test]
    fn combining_marks_stay_with_their_character_and_take_no_width() {
        let mut e = editor("> ", Echo::Command);
        // e with two combining acute accents, then x.
        type_in(&mut e, "e\u{301}\u{301}x");
        assert_eq!(e.cursor, 4);
        press(&mut e, Key::Left);
        press(&mut e, Key::Left);
        assert_eq!(e.cursor, 0, "one step over x, one over e and its marks");
        press(&mut e, Key::Right);
        assert_eq!(e.cursor, 3);
        press(&mut e, Key::Backspace);
        assert_eq!(line(&e), "x");
        let (cells, cursor) = editor_cells("> ", "e\u{301}\u{301}x");
        assert_eq!(place(&cells, 20, cursor), (0, 4), "> e x: four columns");
    }

    fn editor_cells(prompt: &str, text: &str) -> (Vec<Cell>, usize) {
        let mut e = editor(prompt, Echo::Command);
        type_in(&mut e, text);
        e.cells()
    }

    #[test]
    fn wide_characters_take_two_columns_and_wrap_whole() {
        let (cells, _) = editor_cells("> ", "日本語");
        assert_eq!(place(&cells, 20, cells.len()), (0, 8));
        // On 7 columns, the third wide character does not fit after "> 日本".
        assert_eq!(place(&cells, 7, cells.len()), (1, 2));
        assert_eq!(place(&cells, 7, 4), (1, 0));
    }

    #[test]
    fn control_characters_are_drawn_in_caret_notation() {
        let mut e = editor("> ", Echo::Command);
        type_in(&mut e, "a\x1b[2Jb");
        let mut out = String::new();
        e.draw(&mut out);
        assert!(out.contains("a^[[2Jb"), "{out:?}");
        assert!(!out.contains("\x1b[2J"));
    }

    #[test]
    fn a_long_line_wraps_and_the_next_draw_starts_at_its_first_row() {
        let mut e = editor("> ", Echo::Command);
        type_in(&mut e, &"x".repeat(45));
        let mut out = String::new();
        e.draw(&mut out);
        // 47 columns on 20: rows 0, 1, 2, cursor on row 2.
        assert_eq!(e.cursor_row, 2);
        let mut out = String::new();
        e.draw(&mut out);
        // Erased bottom up, a line at a time.
        assert!(
            out.starts_with("\r\x1b[K\x1b[A\r\x1b[K\x1b[A\r\x1b[K>"),
            "{out:?}"
        );
        assert!(!out.contains("\x1b[J"), "never erases the screen");
        // Exactly full rows: the cursor goes to the next row.
        let mut e = editor("> ", Echo::Command);
        type_in(&mut e, &"x".repeat(38));
        let mut out = String::new();
        e.draw(&mut out);
        assert!(out.ends_with("\r\n\r"), "{out:?}");
        assert_eq!(e.cursor_row, 2);
    }

    #[test]
    fn after_a_resize_the_edit_area_is_found_where_it_reflowed() {
        let mut e = editor("> ", Echo::Command);
        type_in(&mut e, &"x".repeat(45));
        e.draw(&mut String::new());
        assert_eq!(e.cursor_row, 2);
        // Twice as wide: the 47 columns now take rows 0 and 1.
        let mut out = String::new();
        e.resize(40, &mut out);
        assert!(out.starts_with("\r\x1b[K\x1b[A\r\x1b[K>"), "{out:?}");
        assert_eq!(e.cursor_row, 1);
        // Narrower: five rows of 10.
        let mut out = String::new();
        e.resize(10, &mut out);
        assert_eq!(out.matches("\r\x1b[K").count(), 5, "{out:?}");
        assert_eq!(out.split('>').next().unwrap().matches("\x1b[A").count(), 4);
    }

    #[test]
    fn printing_above_keeps_the_line_being_typed() {
        let mut e = editor("> ", Echo::Command);
        type_in(&mut e, "half");
        let mut out = String::new();
        e.print_above("hans: Hey Dude", &mut out);
        assert_eq!(out, "\r\x1b[Khans: Hey Dude\r\n\r\x1b[K> half\r\x1b[6C");
        assert_eq!(line(&e), "half");
    }
}
