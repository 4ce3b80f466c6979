//! `natter-bench irc PORT`: the ping-pong of `net` through an IRC server
//! already listening on `PORT` (Debian's `ngircd`, say), beside the direct
//! and bare-relay exchanges of the same run: a real peer's figure on the
//! same four hops. hans and yoda register, then PRIVMSG each other.

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::net::{self, Figures};

/// One registered IRC user.
struct IrcUser {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    line: String,
}

impl IrcUser {
    fn register(port: u16, nick: &str) -> io::Result<IrcUser> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(20)))?;
        let mut user = IrcUser {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            line: String::new(),
        };
        write!(user.writer, "NICK {nick}\r\nUSER {nick} 0 * :{nick}\r\n")?;
        // The welcome (001) says registration is done.
        user.expect("001")?;
        Ok(user)
    }

    /// The next line from the server, answering its PINGs on the way.
    fn next_line(&mut self) -> io::Result<&str> {
        loop {
            self.line.clear();
            if self.reader.read_line(&mut self.line)? == 0 {
                return Err(io::Error::other("the IRC server closed the connection"));
            }
            if let Some(token) = self.line.strip_prefix("PING ") {
                let pong = format!("PONG {token}");
                self.writer.write_all(pong.as_bytes())?;
                continue;
            }
            return Ok(self.line.trim_end());
        }
    }

    fn privmsg(&mut self, to: &str, text: &str) -> io::Result<()> {
        write!(self.writer, "PRIVMSG {to} :{text}\r\n")
    }

    /// Reads up to the next line with this command; an error reply (4xx or
    /// 5xx, a nickname in use say) ends the benchmark.
    fn expect(&mut self, wanted: &str) -> io::Result<()> {
        loop {
            let line = self.next_line()?;
            match command(line) {
                Some(command) if command == wanted => return Ok(()),
                Some(error) if matches!(error.as_bytes(), [b'4' | b'5', _, _]) => {
                    return Err(io::Error::other(format!("IRC error: {line}")));
                }
                _ => {}
            }
        }
    }
}

/// A server line's command or numeric reply: its second word.
fn command(line: &str) -> Option<&str> {
    line.split(' ').nth(1)
}

/// `rounds` timed round trips between hans and yoda through the IRC server.
fn ping_pong(port: u16, rounds: u64) -> io::Result<Figures> {
    let mut hans = IrcUser::register(port, "hans")?;
    let mut yoda = IrcUser::register(port, "yoda")?;
    net::round_trips(rounds, |_, text| {
        hans.privmsg("yoda", text)?;
        yoda.expect("PRIVMSG")?;
        yoda.privmsg("hans", text)?;
        hans.expect("PRIVMSG")
    })
}

pub fn run(port: u16, rounds: u64) -> io::Result<()> {
    let irc = ping_pong(port, rounds)?;
    let direct = net::ping_pong_direct(rounds)?;
    let relayed = net::ping_pong_relayed(rounds)?;
    println!(
        "natter-bench irc: 127.0.0.1:{port}, {rounds} round trips\n{:<48} {:>12} {:>12} {:>7}",
        "workload", "measured", "direct TCP", "ratio"
    );
    for (what, figures) in [("IRC ping-pong", &irc), ("bare relay ping-pong", &relayed)] {
        for (p, at) in [("p50", 50.0), ("p99", 99.0)] {
            crate::row(
                &format!("{what} round trip {p} (us)"),
                figures.latencies.percentile(at),
                direct.latencies.percentile(at),
            );
        }
    }
    Ok(())
}
