//! How a line the client prints looks: its kind, made safe (R29), and on a
//! colour terminal a colour per kind. Escape codes go only at the start and
//! end of a line, so its text is exactly the text of the requirements.
//! With `--timestamps` every line starts with `HH:MM`; a message that
//! waited for the user starts with the time it was sent, always.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::safe_text::neutralise;

/// What kind of line it is: each kind has its own colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Answers (`whoelse` names, help).
    Plain,
    /// A message from one user (R10).
    Message,
    /// A broadcast (R12).
    Broadcast,
    /// A private message, straight from the peer (R20).
    Private,
    /// Presence, block and private-session notices, confirmations.
    Notice,
    /// Something the user should act on: the idle warning.
    Warning,
    /// An error or refusal.
    Error,
}

/// One line to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub style: Style,
    pub text: String,
    /// For a message that waited: how many seconds ago it was sent.
    pub age: Option<u64>,
}

impl Line {
    pub fn new(style: Style, text: impl Into<String>) -> Line {
        Line {
            style,
            text: text.into(),
            age: None,
        }
    }
}

/// How lines are printed, from the command line and the terminal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Look {
    /// Colours: stdout is a terminal, `TERM` is not `dumb`, and `NO_COLOR`
    /// is not set (https://no-color.org).
    pub colour: bool,
    /// `--timestamps`.
    pub timestamps: bool,
}

impl Look {
    /// Colours where they belong: on a terminal, unless `NO_COLOR` is set.
    pub fn for_terminal(stdout_is_terminal: bool, timestamps: bool) -> Look {
        let no_colour = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        Look {
            colour: stdout_is_terminal && !no_colour && !dumb,
            timestamps,
        }
    }

    /// `line` as printed at `now`, without its line feed.
    pub fn render(&self, line: &Line, now: SystemTime) -> String {
        let text = neutralise(&line.text);
        let stamp = match line.age {
            // An age from before the clock's epoch is no time at all.
            Some(age) => Some(match now.checked_sub(Duration::from_secs(age)) {
                Some(sent) => stamp(sent, now),
                None => NO_TIME.into(),
            }),
            None if self.timestamps => Some(stamp(now, now)),
            None => None,
        };
        let mut out = String::with_capacity(text.len() + 16);
        let colour = self.colour.then(|| colour(line.style)).flatten();
        if let Some(code) = colour {
            out.push_str(code);
        }
        if let Some(stamp) = stamp {
            out.push_str(&stamp);
            out.push(' ');
        }
        out.push_str(&text);
        if colour.is_some() {
            out.push_str("\x1b[0m");
        }
        out
    }
}

/// The SGR sequence that starts a line of `style`, if it has one.
fn colour(style: Style) -> Option<&'static str> {
    match style {
        Style::Plain | Style::Message => None,
        Style::Broadcast => Some("\x1b[36m"),
        Style::Private => Some("\x1b[35m"),
        Style::Notice => Some("\x1b[2m"),
        Style::Warning => Some("\x1b[33m"),
        Style::Error => Some("\x1b[31m"),
    }
}

/// Shown for a time that cannot be told.
const NO_TIME: &str = "--:--";

/// `HH:MM` in local time, with the date before it if `at` is not today.
fn stamp(at: SystemTime, now: SystemTime) -> String {
    let (Some(at), Some(today)) = (local(at), local(now)) else {
        return NO_TIME.into();
    };
    if (at.year, at.month, at.day) == (today.year, today.month, today.day) {
        format!("{:02}:{:02}", at.hour, at.minute)
    } else {
        format!(
            "{}-{:02}-{:02} {:02}:{:02}",
            at.year, at.month, at.day, at.hour, at.minute
        )
    }
}

/// A moment on the local calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LocalTime {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
}

/// `at` in the local time zone (`TZ`, `/etc/localtime`), from the C
/// library, which knows the zone's rules; `None` if it cannot tell.
fn local(at: SystemTime) -> Option<LocalTime> {
    // `time_t`'s width is the C library's (32 bits on older armv7 glibc):
    // inferred from `localtime_r`, and a time it cannot hold is no time.
    let seconds = at
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_secs()
        .try_into()
        .ok()?;
    // SAFETY: `localtime_r` reads `seconds` and writes only the `tm` we
    // pass it, which is plain data (all zeros is a valid value). It is the
    // reentrant form: nothing is shared with other threads, and this
    // program never changes its environment (`TZ`) while running.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&seconds, &mut tm).is_null() {
            return None;
        }
        tm
    };
    Some(LocalTime {
        year: tm.tm_year + 1900,
        month: u32::try_from(tm.tm_mon + 1).ok()?,
        day: u32::try_from(tm.tm_mday).ok()?,
        hour: u32::try_from(tm.tm_hour).ok()?,
        minute: u32::try_from(tm.tm_min).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn plain_look_prints_the_text_exactly() {
        let look = Look::default();
        let line = Line::new(Style::Error, "Error. Invalid command");
        assert_eq!(look.render(&line, at(0)), "Error. Invalid command");
        let line = Line::new(Style::Message, "hans: \x1b[2Jhi");
        assert_eq!(
            look.render(&line, at(0)),
            "hans: ^[[2Jhi",
            "made safe (R29)"
        );
    }

    #[test]
    fn colours_wrap_the_whole_line_and_nothing_else() {
        let look = Look {
            colour: true,
            timestamps: false,
        };
        let render = |style| look.render(&Line::new(style, "yoda logged in"), at(0));
        assert_eq!(render(Style::Notice), "\x1b[2myoda logged in\x1b[0m");
        assert_eq!(render(Style::Error), "\x1b[31myoda logged in\x1b[0m");
        assert_eq!(render(Style::Message), "yoda logged in");
        // Every style is distinct from the others.
        let styles = [
            Style::Message,
            Style::Broadcast,
            Style::Private,
            Style::Notice,
            Style::Warning,
            Style::Error,
        ];
        for (i, a) in styles.iter().enumerate() {
            for b in &styles[i + 1..] {
                assert_ne!(colour(*a), colour(*b), "{a:?} and {b:?}");
            }
        }
    }

    #[test]
    fn stamps_are_local_hours_and_minutes_with_the_date_on_other_days() {
        // Whatever the zone, a stamp is HH:MM, and one day earlier adds
        // the date.
        let now = at(1_800_000_000);
        let today = stamp(now, now);
        assert!(today.len() == 5 && today.as_bytes()[2] == b':', "{today:?}");
        let yesterday = stamp(now - Duration::from_secs(86_400), now);
        assert_eq!(yesterday.len(), 16, "{yesterday:?}");
        assert!(
            yesterday.ends_with(&today),
            "same time of day: {yesterday:?}"
        );
    }

    #[test]
    fn a_waited_message_shows_when_it_was_sent_and_timestamps_show_now() {
        let now = at(1_800_000_000);
        let plain = Look::default();
        let waited = Line {
            age: Some(600),
            ..Line::new(Style::Message, "hans: Let's rock")
        };
        let sent = stamp(now - Duration::from_secs(600), now);
        assert_eq!(
            plain.render(&waited, now),
            format!("{sent} hans: Let's rock")
        );
        let stamped = Look {
            colour: false,
            timestamps: true,
        };
        let live = Line::new(Style::Message, "hans: hi");
        assert_eq!(
            stamped.render(&live, now),
            format!("{} hans: hi", stamp(now, now))
        );
        assert_eq!(plain.render(&live, now), "hans: hi");
    }

    #[test]
    fn an_age_older_than_the_clock_is_no_time_not_a_crash() {
        let line = Line {
            age: Some(u64::MAX),
            ..Line::new(Style::Message, "hans: hi")
        };
        assert_eq!(
            Look::default().render(&line, at(1_800_000_000)),
            "--:-- hans: hi"
        );
    }
}
