//! Private sessions on the wire (R19-R24, R28): the direct TCP connections
//! between two clients. The [`crate::dialogue::Dialogue`] decides; this
//! module only carries out its actions.
//!
//! Each session (a *link*) is one task on the session's [`LocalExecutor`]:
//!
//! - accepting side ([`Peers::listen`]): a listener on the address the
//!   server connection uses, port 0. Every connection must present
//!   [`PeerFrame::Hello`] with the introduced user's name and the server's
//!   secret within [`HELLO_TIMEOUT`]; anything else (another name, another
//!   secret, another frame, silence) is closed without a word, and the
//!   listener keeps waiting (R28). A `Hello` that comes before the secret
//!   ([`Peers::expect`]) is held until it does, within that time. Up to
//!   `CANDIDATES` are checked at once; one more lets the oldest go, so
//!   strangers that say nothing cannot keep the peer out. The first
//!   to pass gets [`PeerFrame::Welcome`]; then the listener closes. Nobody
//!   within [`LISTEN_TIMEOUT`]: the link fails.
//! - asking side ([`Peers::connect`]): connects within
//!   [`CONNECT_TIMEOUT`], sends `Hello`, and waits [`WELCOME_TIMEOUT`] for
//!   `Welcome`.
//! - once up, the task reads frames and writes those queued by
//!   [`Peers::send`]. [`Peers::close`] lets it write what is queued (a
//!   `Bye`), then shuts the connection down.
//!
//! Tasks report over one channel as [`PeerEvent`]s, which the session loop
//! waits on beside the server and the user; [`Peers::handle`] turns each
//! into a [`PeerReport`] for the dialogue, dropping those of links already
//! closed. Every wait is bounded, and what a peer sends is decoded with
//! [`protocol::decode_peer`] through the same [`Framed`] stream as the
//! server's frames: a line that is not a frame ends the session.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Shutdown, SocketAddr};
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use async_net::{TcpListener, TcpStream};
use natter_core::credential::Name;
use natter_core::limits::FRAME_MAX;
use natter_core::protocol::{self, FrameBuf, PeerFrame, Secret};
use smol::channel::{self, Receiver, Sender};
use smol::future::{self, FutureExt};
use smol::lock::OnceCell;
use smol::{LocalExecutor, Task, Timer};

use crate::dialogue::PeerReport;
use crate::framed::{Framed, Read};

/// How long a listener waits for the introduced peer.
pub const LISTEN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a connection to the listener has to present itself.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(5);

/// How long connecting to the peer may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the peer has to welcome us after our `Hello`.
pub const WELCOME_TIMEOUT: Duration = Duration::from_secs(5);

/// Frames queued for one peer; a peer this far behind is gone.
const QUEUED: usize = 16;

/// Events waiting for the session loop; a peer that floods waits.
const EVENTS: usize = 64;

/// Connections to a listener held at once while they present themselves.
/// One more arriving lets the oldest go: strangers that connect and say
/// nothing cannot keep the introduced peer out, who presents itself at
/// once (issue 27).
const CANDIDATES: usize = 32;

/// What a link's task saw; see [`Peers::handle`].
#[derive(Debug)]
pub struct PeerEvent {
    id: u64,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// Admitted or welcomed: the session is up.
    Up,
    /// Could not be set up.
    Failed,
    Frame(PeerFrame),
    /// End of stream, a read error, or a line that is not a frame.
    Closed,
    SendFailed,
}

/// One private session, set up or being set up.
struct Link {
    id: u64,
    user: Name,
    /// This side connected (else it listened).
    initiated: bool,
    up: bool,
    /// Frames for the task to write; dropping it closes the link.
    queue: Sender<PeerFrame>,
    /// Listening side: where the server's secret goes.
    secret: Option<Rc<OnceCell<Secret>>>,
    task: Task<()>,
}

/// Every private session of this client.
pub struct Peers {
    executor: Rc<LocalExecutor<'static>>,
    events: Receiver<PeerEvent>,
    report: Sender<PeerEvent>,
    links: Vec<Link>,
    /// Links closed by this side, still writing their last frames.
    closing: Vec<Task<()>>,
    next_id: u64,
    debug: bool,
}

impl Peers {
    /// No sessions yet; tasks will run on `executor`.
    pub fn new(executor: Rc<LocalExecutor<'static>>, debug: bool) -> Peers {
        let (report, events) = channel::bounded(EVENTS);
        Peers {
            executor,
            events,
            report,
            links: Vec::new(),
            closing: Vec::new(),
            next_id: 0,
            debug,
        }
    }

    /// The next event from any link.
    pub async fn next(&self) -> PeerEvent {
        match self.events.recv().await {
            Ok(event) => event,
            // Cannot happen: `self` holds a sender.
            Err(_) => future::pending().await,
        }
    }

    /// What `event` means for the dialogue; `None` for a link already
    /// closed (or replaced).
    pub fn handle(&mut self, event: PeerEvent) -> Option<PeerReport> {
        let at = self.links.iter().position(|l| l.id == event.id)?;
        let user = self.links[at].user.clone();
        let initiated = self.links[at].initiated;
        Some(match event.kind {
            Kind::Up => {
                self.links[at].up = true;
                // At most one session per pair: a newer one replaces it.
                let id = event.id;
                self.retire(|l| l.up && l.user == user && l.id != id);
                PeerReport::Up { user, initiated }
            }
            Kind::Failed => {
                self.links.swap_remove(at);
                PeerReport::Failed { user, initiated }
            }
            Kind::Frame(frame) => PeerReport::Frame { user, frame },
            Kind::Closed => PeerReport::Closed { user },
            Kind::SendFailed => PeerReport::SendFailed { user },
        })
    }

    /// Listens for `user` on `ip`, any port; returns the port.
    pub async fn listen(&mut self, user: Name, ip: IpAddr) -> io::Result<u16> {
        let listener = TcpListener::bind(SocketAddr::new(ip, 0)).await?;
        let port = listener.local_addr()?.port();
        // A new answer replaces an older wait for the same user.
        self.retire(|l| !l.up && !l.initiated && l.user == user);
        let secret = Rc::new(OnceCell::new());
        let (queue, queued) = channel::bounded(QUEUED);
        let id = self.new_id();
        let task = accept(
            id,
            listener,
            user.clone(),
            secret.clone(),
            queued,
            self.report.clone(),
            self.debug,
        );
        let task = self.executor.spawn(task);
        self.links.push(Link {
            id,
            user,
            initiated: false,
            up: false,
            queue,
            secret: Some(secret),
            task,
        });
        Ok(port)
    }

    /// The secret the peer listened for as `user` must present.
    pub fn expect(&mut self, user: &Name, secret: Secret) {
        let waiting = self
            .links
            .iter()
            .filter(|l| !l.up && &l.user == user)
            .find_map(|l| l.secret.as_ref());
        if let Some(cell) = waiting {
            // A second secret for the same wait is ignored.
            let _ = cell.try_set(secret);
        }
    }

    /// Connects to `user` at `host`:`port` and presents `from` and `secret`.
    pub fn connect(&mut self, user: Name, host: &str, port: u16, from: Name, secret: Secret) {
        // An IPv4 peer seen by a dual-stack server is `::ffff:a.b.c.d`.
        let address = host
            .parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip.to_canonical(), port));
        let hello = PeerFrame::Hello { from, secret };
        let (queue, queued) = channel::bounded(QUEUED);
        let id = self.new_id();
        let task = dial(
            id,
            user.clone(),
            address,
            hello,
            queued,
            self.report.clone(),
            self.debug,
        );
        let task = self.executor.spawn(task);
        self.links.push(Link {
            id,
            user,
            initiated: true,
            up: false,
            queue,
            secret: None,
            task,
        });
    }

    /// Queues `frame` for `user`; `false` if there is no session with them
    /// or they are too far behind.
    pub fn send(&mut self, user: &Name, frame: PeerFrame) -> bool {
        self.links
            .iter()
            .find(|l| l.up && &l.user == user)
            .is_some_and(|l| l.queue.try_send(frame).is_ok())
    }

    /// Closes the session with `user` once what is queued is written.
    pub fn close(&mut self, user: &Name) {
        self.retire(|l| l.up && &l.user == user);
    }

    /// Closes everything: sessions get `grace` in all to write what is
    /// queued (their `Bye`); listeners and connections being set up are
    /// dropped at once.
    pub async fn close_all(&mut self, grace: Duration) {
        self.retire(|_| true);
        let closing = std::mem::take(&mut self.closing);
        let written = async {
            for task in closing {
                task.await;
            }
        };
        written
            .or(async {
                Timer::after(grace).await;
            })
            .await;
    }

    /// Removes the links `which` selects: one that is up finishes writing
    /// on its own (bounded by [`crate::framed::WRITE_TIMEOUT`]); one being set up stops.
    fn retire(&mut self, which: impl Fn(&Link) -> bool) {
        self.closing.retain(|task| !task.is_finished());
        let mut i = 0;
        while i < self.links.len() {
            if which(&self.links[i]) {
                // Dropping `queue` tells the task to finish.
                let link = self.links.swap_remove(i);
                if link.up {
                    self.closing.push(link.task);
                }
            } else {
                i += 1;
            }
        }
    }

    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

/// The listening side of a link.
async fn accept(
    id: u64,
    listener: TcpListener,
    user: Name,
    secret: Rc<OnceCell<Secret>>,
    queued: Receiver<PeerFrame>,
    report: Sender<PeerEvent>,
    debug: bool,
) {
    let admitted = admit(&listener, &user, &secret, debug)
        .or(async {
            Timer::after(LISTEN_TIMEOUT).await;
            None
        })
        .await;
    drop(listener);
    match admitted {
        Some(framed) => {
            send_event(&report, id, Kind::Up).await;
            converse(id, &user, framed, queued, report, debug).await;
        }
        None => {
            if debug {
                log(&user, "gave up waiting for the peer");
            }
            send_event(&report, id, Kind::Failed).await;
        }
    }
}

/// A connection that presented the right `Hello`, with what else it sent.
type Admitted = Framed;

type Candidate = Pin<Box<dyn Future<Output = Option<Admitted>>>>;

/// Accepts connections until one presents `user` and the secret (R28);
/// several are checked at once, so a silent stranger delays nobody, and
/// they are kept in the order they came, so the oldest goes first.
async fn admit(
    listener: &TcpListener,
    user: &Name,
    secret: &Rc<OnceCell<Secret>>,
    debug: bool,
) -> Option<Admitted> {
    enum Step {
        Arrived(TcpStream, SocketAddr),
        Presented(Admitted),
        Nothing,
    }
    let mut candidates: Vec<Candidate> = Vec::new();
    loop {
        let presented = future::poll_fn(|cx| {
            let mut i = 0;
            while i < candidates.len() {
                match candidates[i].as_mut().poll(cx) {
                    Poll::Ready(Some(admitted)) => {
                        drop(candidates.remove(i));
                        return Poll::Ready(Step::Presented(admitted));
                    }
                    Poll::Ready(None) => drop(candidates.remove(i)),
                    Poll::Pending => i += 1,
                }
            }
            Poll::Pending
        });
        let arrived = async {
            match listener.accept().await {
                Ok((stream, from)) => Step::Arrived(stream, from),
                Err(e) => {
                    // Out of descriptors, say: try again a little later.
                    if debug {
                        log(user, &format!("accepting: {e}"));
                    }
                    Timer::after(Duration::from_millis(100)).await;
                    Step::Nothing
                }
            }
        };
        let step = presented.or(arrived).await;
        match step {
            Step::Arrived(stream, from) => {
                if candidates.len() >= CANDIDATES {
                    // Dropping it closes its connection.
                    drop(candidates.remove(0));
                    if debug {
                        log(user, "turned away the oldest caller: too many at once");
                    }
                }
                let check = present(stream, user.clone(), secret.clone(), from, debug);
                candidates.push(Box::pin(check));
            }
            Step::Presented(mut framed) => {
                if framed.write_frame(&PeerFrame::Welcome {}).await.is_ok() {
                    return Some(framed);
                }
            }
            Step::Nothing => {}
        }
    }
}

/// Whether `stream` presents `user` and the secret within [`HELLO_TIMEOUT`];
/// if not it is dropped, which closes it without a word.
async fn present(
    stream: TcpStream,
    user: Name,
    secret: Rc<OnceCell<Secret>>,
    from: SocketAddr,
    debug: bool,
) -> Option<Admitted> {
    let check = async {
        let mut framed = Framed::new(stream);
        let Read::Frame(PeerFrame::Hello {
            from: name,
            secret: offered,
        }) = framed.read_frame(protocol::decode_peer).await
        else {
            return None;
        };
        if name != user {
            return None;
        }
        // The server's secret may not be here yet: wait for it.
        let expected = secret.wait().await;
        same(offered.as_bytes(), expected.as_bytes()).then_some(framed)
    };
    let checked = check
        .or(async {
            Timer::after(HELLO_TIMEOUT).await;
            None
        })
        .await;
    match checked {
        Some(framed) => Some(framed),
        None => {
            if debug {
                log(&user, &format!("turned away {from}"));
            }
            None
        }
    }
}

/// Compares secrets in a time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The connecting side of a link.
async fn dial(
    id: u64,
    user: Name,
    address: Option<SocketAddr>,
    hello: PeerFrame,
    queued: Receiver<PeerFrame>,
    report: Sender<PeerEvent>,
    debug: bool,
) {
    let established = async {
        let address = address?;
        let connect = TcpStream::connect(address).or(async {
            Timer::after(CONNECT_TIMEOUT).await;
            Err(io::ErrorKind::TimedOut.into())
        });
        let stream = match connect.await {
            Ok(stream) => stream,
            Err(e) => {
                if debug {
                    log(&user, &format!("connecting to {address}: {e}"));
                }
                return None;
            }
        };
        stream.set_nodelay(true).ok();
        let mut framed = Framed::new(stream);
        framed.write_frame(&hello).await.ok()?;
        let answer = framed
            .read_frame(protocol::decode_peer)
            .or(async {
                Timer::after(WELCOME_TIMEOUT).await;
                Read::End
            })
            .await;
        matches!(answer, Read::Frame(PeerFrame::Welcome {})).then_some(framed)
    };
    match established.await {
        Some(framed) => {
            send_event(&report, id, Kind::Up).await;
            converse(id, &user, framed, queued, report, debug).await;
        }
        None => send_event(&report, id, Kind::Failed).await,
    }
}

/// A session that is up: frames in are reported, queued frames go out.
/// Ends when the queue is closed and written, or a write fails; reading
/// stops at the peer's `Bye`, the end of the stream or a bad line.
async fn converse(
    id: u64,
    user: &Name,
    mut reader: Framed,
    queued: Receiver<PeerFrame>,
    report: Sender<PeerEvent>,
    debug: bool,
) {
    let mut writer = reader.writer();
    let reading = async {
        loop {
            let kind = match reader.read_frame(protocol::decode_peer).await {
                Read::Frame(frame) => {
                    if debug {
                        log_frame(user, "<-", &frame);
                    }
                    Kind::Frame(frame)
                }
                Read::Bad(_) | Read::End => Kind::Closed,
            };
            let more = matches!(kind, Kind::Frame(PeerFrame::Message { .. }));
            send_event(&report, id, kind).await;
            if !more {
                break;
            }
        }
        future::pending::<()>().await
    };
    let writing = async {
        while let Ok(frame) = queued.recv().await {
            if debug {
                log_frame(user, "->", &frame);
            }
            if writer.write_frame(&frame).await.is_err() {
                send_event(&report, id, Kind::SendFailed).await;
                return;
            }
        }
        // Closed by this side: the peer reads the end after the last frame.
        let _ = writer.stream().shutdown(Shutdown::Write);
    };
    reading.or(writing).await;
}

async fn send_event(report: &Sender<PeerEvent>, id: u64, kind: Kind) {
    // Only fails once the session loop is gone.
    let _ = report.send(PeerEvent { id, kind }).await;
}

/// `-d/--debug`: a frame to or from a peer; the secret is never shown.
fn log_frame(user: &Name, direction: &str, frame: &PeerFrame) {
    let mut buf: FrameBuf = [0; FRAME_MAX + 1];
    let line = match frame {
        PeerFrame::Hello { .. } => &b"{\"Hello\":{...}}"[..],
        _ => match protocol::encode(frame, &mut buf) {
            Ok(n) => &buf[..n],
            Err(_) => &b"(too long)"[..],
        },
    };
    crate::connection::debug_line(&format!("{user} {direction}"), line);
}

/// `-d/--debug`: what happened on the link with `user`.
fn log(user: &Name, what: &str) {
    crate::connection::debug_line(&format!("{user} .."), what.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_core::testing::frames::{name, secret, text};
    use smol::io::{AsyncReadExt, AsyncWriteExt};
    use std::net::Ipv4Addr;

    const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    /// Runs `test` with a fresh [`Peers`] on a local executor.
    fn with_peers<F: Future<Output = ()>>(test: impl FnOnce(Rc<LocalExecutor<'static>>) -> F) {
        let executor = Rc::new(LocalExecutor::new());
        let run = test(executor.clone());
        smol::block_on(executor.run(run));
    }

    /// The next report, within a few seconds.
    async fn report(peers: &mut Peers) -> PeerReport {
        let next = async {
            loop {
                let event = peers.next().await;
                if let Some(report) = peers.handle(event) {
                    return report;
                }
            }
        };
        next.or(async {
            Timer::after(Duration::from_secs(10)).await;
            panic!("no report within 10 s");
        })
        .await
    }

    /// A raw connection to `port` that sends `line` and returns what it reads
    /// until the other side closes (or 3 s pass).
    async fn raw(port: u16, line: &[u8]) -> Vec<u8> {
        let mut stream = TcpStream::connect((LOCAL, port)).await.unwrap();
        stream.write_all(line).await.unwrap();
        let mut got = Vec::new();
        let _ = stream
            .read_to_end(&mut got)
            .or(async {
                Timer::after(Duration::from_secs(3)).await;
                Ok(0)
            })
            .await;
        got
    }

    #[test]
    fn the_introduced_peer_is_admitted_and_strangers_are_turned_away() {
        with_peers(|executor| async move {
            let mut luke = Peers::new(executor.clone(), false);
            let mut hans = Peers::new(executor, false);
            let port = luke.listen(name("hans"), LOCAL).await.unwrap();
            luke.expect(&name("hans"), secret("s3cret"));

            // Wrong secret, wrong name, another frame: closed, no answer.
            for bad in [
                &b"{\"Hello\":{\"from\":\"hans\",\"secret\":\"guess\"}}\n"[..],
                b"{\"Hello\":{\"from\":\"vader\",\"secret\":\"s3cret\"}}\n",
                b"{\"Message\":{\"text\":\"hi\"}}\n",
                b"GET / HTTP/1.0\n",
            ] {
                assert_eq!(raw(port, bad).await, b"", "{bad:?}");
            }

            // The listener is still there for the right one.
            hans.connect(
                name("luke"),
                "127.0.0.1",
                port,
                name("hans"),
                secret("s3cret"),
            );
            let up = PeerReport::Up {
                user: name("luke"),
                initiated: true,
            };
            assert_eq!(report(&mut hans).await, up);
            let up = PeerReport::Up {
                user: name("hans"),
                initiated: false,
            };
            assert_eq!(report(&mut luke).await, up);

            // Messages both ways.
            let hey = PeerFrame::Message {
                text: text("hey dude"),
            };
            assert!(hans.send(&name("luke"), hey.clone()));
            let got = PeerReport::Frame {
                user: name("hans"),
                frame: hey,
            };
            assert_eq!(report(&mut luke).await, got);
            let hello = PeerFrame::Message {
                text: text("hello man"),
            };
            assert!(luke.send(&name("hans"), hello.clone()));
            let got = PeerReport::Frame {
                user: name("luke"),
                frame: hello,
            };
            assert_eq!(report(&mut hans).await, got);

            // A goodbye, then the end of the stream (not reported: reading
            // stops at the goodbye).
            let bye = PeerFrame::Bye {
                reason: protocol::PeerBye::Stopped,
            };
            assert!(hans.send(&name("luke"), bye.clone()));
            hans.close(&name("luke"));
            let got = PeerReport::Frame {
                user: name("hans"),
                frame: bye,
            };
            assert_eq!(report(&mut luke).await, got);
            luke.close(&name("hans"));
            assert!(!luke.send(&name("hans"), PeerFrame::Welcome {}));
            hans.close_all(Duration::from_secs(1)).await;
            luke.close_all(Duration::from_secs(1)).await;
        });
    }

    #[test]
    fn a_hello_before_the_secret_is_held_until_it_comes() {
        with_peers(|executor| async move {
            let mut luke = Peers::new(executor.clone(), false);
            let mut hans = Peers::new(executor, false);
            let port = luke.listen(name("hans"), LOCAL).await.unwrap();
            hans.connect(name("luke"), "127.0.0.1", port, name("hans"), secret("abc"));
            Timer::after(Duration::from_millis(300)).await;
            luke.expect(&name("hans"), secret("abc"));
            let up = PeerReport::Up {
                user: name("hans"),
                initiated: false,
            };
            assert_eq!(report(&mut luke).await, up);
            assert!(matches!(report(&mut hans).await, PeerReport::Up { .. }));
        });
    }

    #[test]
    fn a_silent_stranger_does_not_hold_up_the_peer() {
        with_peers(|executor| async move {
            let mut luke = Peers::new(executor.clone(), false);
            let mut hans = Peers::new(executor, false);
            let port = luke.listen(name("hans"), LOCAL).await.unwrap();
            luke.expect(&name("hans"), secret("abc"));
            let _silent = TcpStream::connect((LOCAL, port)).await.unwrap();
            hans.connect(name("luke"), "127.0.0.1", port, name("hans"), secret("abc"));
            let started = std::time::Instant::now();
            assert!(matches!(report(&mut luke).await, PeerReport::Up { .. }));
            assert!(started.elapsed() < Duration::from_secs(2));
        });
    }

    #[test]
    fn a_wrong_secret_or_nobody_listening_fails_the_connect() {
        with_peers(|executor| async move {
            let mut luke = Peers::new(executor.clone(), false);
            let mut hans = Peers::new(executor, false);
            let port = luke.listen(name("hans"), LOCAL).await.unwrap();
            luke.expect(&name("hans"), secret("right"));
            hans.connect(
                name("luke"),
                "127.0.0.1",
                port,
                name("hans"),
                secret("wrong"),
            );
            let failed = PeerReport::Failed {
                user: name("luke"),
                initiated: true,
            };
            assert_eq!(report(&mut hans).await, failed);

            // A port nobody listens on, and an address that is not one.
            let free = std::net::TcpListener::bind((LOCAL, 0)).unwrap();
            let free_port = free.local_addr().unwrap().port();
            drop(free);
            hans.connect(
                name("yoda"),
                "127.0.0.1",
                free_port,
                name("hans"),
                secret("x"),
            );
            assert!(matches!(report(&mut hans).await, PeerReport::Failed { .. }));
            hans.connect(name("yoda"), "not an address", 1, name("hans"), secret("x"));
            assert!(matches!(report(&mut hans).await, PeerReport::Failed { .. }));
        });
    }

    #[test]
    fn a_bad_line_or_the_end_of_the_stream_closes_the_session() {
        with_peers(|executor| async move {
            let mut luke = Peers::new(executor, false);
            let port = luke.listen(name("hans"), LOCAL).await.unwrap();
            luke.expect(&name("hans"), secret("abc"));
            let mut stream = TcpStream::connect((LOCAL, port)).await.unwrap();
            stream
                .write_all(b"{\"Hello\":{\"from\":\"hans\",\"secret\":\"abc\"}}\n")
                .await
                .unwrap();
            let mut welcome = [0u8; 14];
            stream.read_exact(&mut welcome).await.unwrap();
            assert_eq!(&welcome, b"{\"Welcome\":{}}");
            assert!(matches!(report(&mut luke).await, PeerReport::Up { .. }));
            // An over-long line.
            stream.write_all(&[b'x'; FRAME_MAX + 10]).await.unwrap();
            let closed = PeerReport::Closed { user: name("hans") };
            assert_eq!(report(&mut luke).await, closed);
        });
    }

    #[test]
    fn a_peer_that_reads_nothing_delays_the_end_by_the_grace_only() {
        with_peers(|executor| async move {
            let mut luke = Peers::new(executor, false);
            let port = luke.listen(name("hans"), LOCAL).await.unwrap();
            luke.expect(&name("hans"), secret("abc"));
            // hans says hello, then never reads again.
            let mut stuck = TcpStream::connect((LOCAL, port)).await.unwrap();
            stuck
                .write_all(b"{\"Hello\":{\"from\":\"hans\",\"secret\":\"abc\"}}\n")
                .await
                .unwrap();
            assert!(matches!(report(&mut luke).await, PeerReport::Up { .. }));
            let big = PeerFrame::Message {
                text: text(&"x".repeat(500)),
            };
            // Fill the socket buffers and the queue.
            let mut sent = 0;
            while luke.send(&name("hans"), big.clone()) {
                sent += 1;
                assert!(sent < 100_000, "the queue never filled");
                // Let the writer run.
                future::yield_now().await;
            }
            let started = std::time::Instant::now();
            luke.close_all(Duration::from_millis(300)).await;
            let took = started.elapsed();
            assert!(took < Duration::from_secs(1), "{took:?}");
            drop(stuck);
        });
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
        assert!(!same(b"", b"a"));
    }
}
