//! The server's one thread: a readiness loop around the hub, as smoltcp's
//! and quinn's examples drive their state machines, on smol-rs's
//! `polling` (epoll on Linux, kqueue on macOS and the BSDs).
//!
//! Each turn waits for sockets, the signal pipe, a thread's answer or the
//! hub's next deadline (after a busy turn, polling first for a moment:
//! [`crate::busy_poll`]); gives every readable connection one read (so a
//! flood cannot starve the others) and the hub its frames, as long as the
//! hub will take them; hands the hub the worker's and the journal's
//! answers ([`Waker`]); then does what the hub asks (randomness; password
//! checks and account saves for the worker thread), writes every ready
//! connection's bytes, as many frames per `write` as the hub has, and
//! hands the journal's thread the turn's changes if it is free. The hub
//! decides when a connection is read and when a closing one is dropped;
//! the loop only reports readiness. Nothing here allocates per message:
//! the buffers are each connection's, made at accept.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::num::NonZeroUsize;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant as StdInstant};

use natter_core::event::Event;
use natter_core::framer::BadFrame;
use natter_core::hub::Hub;
use natter_core::protocol::{self, ByeReason, ClientFrame, ServerFrame};
use natter_core::time::Instant;
use polling::{Event as Readiness, Events, PollMode, Poller};

use crate::busy_poll::BusyPoll;
use crate::connection::{Connection, ReadOutcome};
use crate::debug;
use crate::journal_thread::JournalThread;
use crate::waker::Waker;
use crate::worker::{Done, Job, Worker};

const LISTENER: usize = 0;
const SIGNALS: usize = 1;
/// A connection's key is this plus its slot in the hub, which is its
/// place in `conns`: an event finds its connection without a search.
const FIRST_CONN: usize = 2;

/// How long shutdown waits for connections to take their last frames.
const SHUTDOWN_GRACE_MS: u64 = 3_000;

/// The name of the poller's mechanism, for the log.
const REACTOR: &str = if cfg!(any(target_os = "linux", target_os = "android")) {
    "epoll"
} else if cfg!(any(
    target_vendor = "apple",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
)) {
    "kqueue"
} else {
    "poll"
};

pub struct EventLoop {
    hub: Box<Hub>,
    poller: Arc<Poller>,
    /// Set by the worker and journal threads when they have answers.
    waker: Waker,
    worker: Worker,
    /// Where the hub's changes are made durable; `None`: in memory only.
    journal: Option<JournalThread>,
    listener: Option<TcpListener>,
    signals: UnixStream,
    /// Each live connection, at its slot in the hub.
    conns: Box<[Option<Box<Connection>>]>,
    clock: Clock,
    /// Shutting down: leave by then, whoever is left.
    leave_at: Option<Instant>,
    busy_poll: BusyPoll,
    /// This turn handed the hub a whole frame: the next may follow
    /// closely. Bytes short of a frame do not count, so a peer dribbling
    /// them cannot keep the loop polling; frames other than
    /// acknowledgements come at most at the rate.
    heard_frame: bool,
}

/// What the loop needs besides the hub: its threads, sockets and clock.
pub struct Parts {
    pub poller: Arc<Poller>,
    pub waker: Waker,
    pub worker: Worker,
    pub journal: Option<JournalThread>,
    pub listener: TcpListener,
    pub signals: UnixStream,
    pub clock: Clock,
    pub busy_poll: BusyPoll,
}

impl EventLoop {
    pub fn new(hub: Box<Hub>, parts: Parts) -> io::Result<EventLoop> {
        let Parts {
            poller,
            waker,
            worker,
            journal,
            listener,
            signals,
            clock,
            busy_poll,
        } = parts;
        listener.set_nonblocking(true)?;
        signals.set_nonblocking(true)?;
        let conns = (0..hub.capacity().connections).map(|_| None).collect();
        let event_loop = EventLoop {
            hub,
            poller,
            waker,
            worker,
            journal,
            listener: Some(listener),
            signals,
            conns,
            clock,
            leave_at: None,
            busy_poll,
            heard_frame: false,
        };
        if let Some(listener) = &event_loop.listener {
            event_loop.add(listener, Readiness::readable(LISTENER))?;
        }
        event_loop.add(&event_loop.signals, Readiness::readable(SIGNALS))?;
        debug!(
            "reactor: {REACTOR} (polling); journal: {}",
            match &event_loop.journal {
                Some(journal) => format!("{}, synced on its own thread", journal.path().display()),
                None => "none".into(),
            }
        );
        Ok(event_loop)
    }

    /// Watches `source` for `interest`, level-triggered: what is not
    /// taken is reported again.
    fn add(&self, source: &impl std::os::fd::AsRawFd, interest: Readiness) -> io::Result<()> {
        // SAFETY: every source added is deleted from the poller before it
        // is dropped: a connection in `drop_conn`, the listener in
        // `signal`, all of them in `Drop for EventLoop`.
        unsafe { self.poller.add_with_mode(source, interest, PollMode::Level) }
    }

    fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Serves until SIGINT or SIGTERM, then until every connection took its
    /// goodbye (or the grace period ends), and the journal has the rest.
    pub fn run(mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(NonZeroUsize::new(64).unwrap_or(NonZeroUsize::MIN));
        loop {
            let now = self.now();
            if let Some(leave_at) = self.leave_at
                && (now >= leave_at || self.conns.iter().all(Option::is_none))
            {
                return self.finish(now);
            }
            // Read once a turn, before the wait: a deadline the turn brings
            // in or back (a worker's answer) is handled next turn, whose
            // wait then does not block.
            let hub_due = self.hub.poll_timeout();
            let timeout = self
                .next_wake(hub_due)
                .map(|at| Duration::from_millis(at.millis().saturating_sub(now.millis())));
            let busy = std::mem::take(&mut self.heard_frame);
            self.wait(&mut events, timeout, busy)?;
            let now = self.now();
            for event in events.iter() {
                match event.key {
                    LISTENER => self.accept(now),
                    SIGNALS => self.signal(now),
                    key => self.on_socket(key - FIRST_CONN, event, now),
                }
            }
            if self.waker.take() {
                self.threads_answered(now)?;
            }
            if hub_due.is_some_and(|at| at <= now) {
                self.hub.handle_timeout(now);
            }
            self.settle(now)?;
        }
    }

    /// Waits for events until `timeout` (`None`: until one comes), into
    /// `events`. After a busy turn it polls first, for as long as
    /// [`BusyPoll`] finds worth it, and tells it how long the wait was.
    fn wait(
        &mut self,
        events: &mut Events,
        timeout: Option<Duration>,
        busy: bool,
    ) -> io::Result<()> {
        events.clear();
        if self.waker.woken() {
            // An answer came since the last look: no sleeping on it.
            self.poller.wait(events, Some(Duration::ZERO))?;
            return Ok(());
        }
        if !busy || timeout == Some(Duration::ZERO) {
            self.poller.wait(events, timeout)?;
            return Ok(());
        }
        let idle_from = StdInstant::now();
        let (poller, waker) = (&self.poller, &self.waker);
        let found = self.busy_poll.spin(idle_from, timeout, || {
            // A notice this poll takes is seen through the flag.
            let ready = poller.wait(&mut *events, Some(Duration::ZERO))?;
            io::Result::Ok(ready + usize::from(waker.woken()))
        })?;
        if found > 0 {
            return Ok(());
        }
        // Polling counts against the timeout.
        let left = timeout.map(|t| t.saturating_sub(idle_from.elapsed()));
        let ready = self.poller.wait(events, left)?;
        let woke = ready > 0 || self.waker.woken();
        self.busy_poll.waited(idle_from.elapsed(), woke);
        Ok(())
    }

    /// The earliest moment something is due: `hub_due`, the journal's
    /// next batch, the end of the shutdown grace.
    fn next_wake(&self, hub_due: Option<Instant>) -> Option<Instant> {
        let journal = self.journal.as_ref().and_then(|j| j.due(&self.hub));
        [hub_due, self.leave_at, journal]
            .into_iter()
            .flatten()
            .min()
    }

    fn accept(&mut self, now: Instant) {
        loop {
            let accepted = match &self.listener {
                Some(listener) => listener.accept(),
                None => return,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return,
                Err(error) => {
                    // Out of file descriptors, say: keep serving the others.
                    debug!("accept failed: {error}");
                    return;
                }
            };
            // Frames are small and each is wanted at once: without this,
            // Nagle's algorithm and the peer's delayed ACK stall a reply by
            // ~40 ms.
            if let Err(error) = stream.set_nodelay(true).and(stream.set_nonblocking(true)) {
                debug!("{peer}: {error}");
                continue;
            }
            let id = match self.hub.connect(now, peer.ip()) {
                Ok(id) => id,
                Err(reason) => {
                    debug!("{peer}: refused: {reason:?}");
                    refuse(stream, reason);
                    continue;
                }
            };
            let slot = id.slot();
            // The hub's slot was free, so the loop's is (the loop drops a
            // connection whenever the hub does), unless the connection in
            // it made room for this one: it is told why, and closed.
            if let Some(yielded) = self.hub.made_room() {
                debug!("conn {}: made room for {peer}", yielded.slot());
                if let Some(mut conn) = self.conns.get_mut(yielded.slot()).and_then(Option::take) {
                    let _ = self.poller.delete(&conn.stream);
                    // The goodbye follows whole frames only.
                    if conn.write().is_ok() && conn.is_flushed() {
                        refuse(conn.stream, ByeReason::ServerFull);
                    } else {
                        conn.shutdown();
                    }
                }
            }
            debug_assert!(self.conns[slot].is_none(), "slot {slot} taken twice");
            self.drop_conn(slot);
            if let Err(error) = self.add(&stream, Readiness::readable(FIRST_CONN + slot)) {
                debug!("{peer}: cannot watch: {error}");
                self.hub.disconnect(id, now);
                continue;
            }
            debug!("conn {slot}: connected from {peer}");
            self.conns[slot] = Some(Connection::new(id, stream));
        }
    }

    /// The worker or the journal's thread answered: the hub hears it, and
    /// marks ready whoever waited.
    fn threads_answered(&mut self, now: Instant) -> io::Result<()> {
        for done in self.worker.take()? {
            match done {
                Done::Checked { conn, checked } => self.hub.password_checked(conn, checked, now),
                Done::Saved { conn, saved } => self.hub.account_saved(conn, saved, now),
            }
        }
        if let Some(journal) = &mut self.journal {
            journal.take_done(&mut self.hub, now)?;
        }
        Ok(())
    }

    /// SIGINT or SIGTERM: every connection gets its goodbye.
    fn signal(&mut self, now: Instant) {
        let mut bytes = [0u8; 16];
        while matches!((&self.signals).read(&mut bytes), Ok(n) if n > 0) {}
        if self.leave_at.is_some() {
            return;
        }
        debug!("signal: shutting down");
        if let Some(listener) = self.listener.take() {
            let _ = self.poller.delete(&listener);
        }
        self.hub.shutdown(now);
        self.leave_at = Some(now.after(SHUTDOWN_GRACE_MS));
    }

    /// Leaves: what changed since the last batch goes to the journal, and
    /// the server waits for it.
    fn finish(&mut self, now: Instant) -> io::Result<()> {
        if let Some(mut journal) = self.journal.take() {
            journal.flush(&mut self.hub, now)?;
            debug!("{}: {} syncs", journal.path().display(), journal.syncs);
        }
        Ok(())
    }

    /// An event for the connection at `slot`. One for a slot closed and
    /// taken again in the same turn finds the new connection, which then
    /// reads what is there, if anything (its socket is non-blocking), or
    /// writes what it has.
    fn on_socket(&mut self, slot: usize, event: Readiness, now: Instant) {
        if event.writable {
            self.flush(slot, now);
        }
        if event.readable {
            self.read(slot, now);
        }
    }

    /// One read of the connection at `slot`, and its frames to the hub. One
    /// the hub does not read is reported only if its peer hung up (the
    /// poller reports that whatever it is asked for): its bytes wait in
    /// the framer, and its hanging up is heard.
    fn read(&mut self, slot: usize, now: Instant) {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let (id, reading) = (conn.id, conn.reading);
        match conn.read() {
            ReadOutcome::Nothing => {}
            ReadOutcome::Gone => {
                debug!("conn {slot}: closed by peer");
                self.hub.disconnect(id, now);
                self.drop_conn(slot);
            }
            ReadOutcome::Bytes(_) if reading => self.take_frames(slot, now),
            ReadOutcome::Bytes(_) => {}
        }
    }

    /// Hands the hub the frames read from the connection at `slot`, while
    /// it takes them; when it stops, the connection is not read until the
    /// hub marks it ready again.
    fn take_frames(&mut self, slot: usize, now: Instant) {
        // Each frame is decoded into this one, in place.
        let mut frame = ClientFrame::Logout {};
        loop {
            let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
                return;
            };
            let id = conn.id;
            let may = self.hub.may_read(id, now);
            let payload = if may {
                conn.framer.next_payload()
            } else {
                None
            };
            let Some(payload) = payload else {
                // All taken (read on), or the hub would rather wait.
                if conn.reading != may {
                    conn.reading = may;
                    debug!(
                        "conn {slot}: {}",
                        if may {
                            "read again"
                        } else {
                            "not read for now"
                        }
                    );
                    self.rewatch(slot);
                }
                return;
            };
            self.heard_frame = true;
            let decoded = payload.and_then(|line| {
                protocol::decode_client_into(line, &mut frame).map_err(BadFrame::Malformed)
            });
            match decoded {
                Ok(()) => self.hub.receive(id, &frame, now),
                Err(bad) => {
                    debug!("conn {slot}: not a frame: {bad:?}");
                    self.hub.reject(id, bad.error(), now);
                }
            }
        }
    }

    /// Registers the connection at `slot` for what it waits for now.
    fn rewatch(&self, slot: usize) {
        let Some(conn) = self.conns.get(slot).and_then(Option::as_ref) else {
            return;
        };
        let interest = Readiness::new(FIRST_CONN + slot, conn.reading, conn.waiting_to_write);
        if let Err(error) = self
            .poller
            .modify_with_mode(&conn.stream, interest, PollMode::Level)
        {
            debug!("conn {slot}: cannot watch: {error}");
        }
    }

    /// Does what the hub asks, writes every ready connection's bytes and
    /// reads on those it stopped, and hands the journal what changed.
    fn settle(&mut self, now: Instant) -> io::Result<()> {
        loop {
            if self.hub.wants_entropy() {
                self.hub.add_entropy(random());
            }
            match self.hub.poll_event() {
                Some(Event::SaveAccount {
                    conn,
                    name,
                    password,
                }) => {
                    self.worker.send(Job::Save {
                        conn,
                        name,
                        password,
                    })?;
                    continue;
                }
                Some(Event::CheckPassword {
                    conn,
                    name,
                    secret,
                    password,
                }) => {
                    self.worker.send(Job::Check {
                        conn,
                        name,
                        secret,
                        password,
                    })?;
                    continue;
                }
                Some(notice) => {
                    crate::log::notice(&notice);
                    continue;
                }
                None => {}
            }
            if let Some(id) = self.hub.poll_ready() {
                let slot = id.slot();
                if self
                    .conns
                    .get(slot)
                    .and_then(Option::as_ref)
                    .is_some_and(|c| c.id == id)
                {
                    self.flush(slot, now);
                    self.take_frames(slot, now);
                }
                continue;
            }
            // Group commit: what changed since the last batch goes to the
            // journal's thread if it is free; meanwhile it gathers.
            let settled_at_once = match &mut self.journal {
                Some(journal) => journal.commit(&mut self.hub, now),
                None => false,
            };
            if !settled_at_once {
                return Ok(());
            }
        }
    }

    /// Writes the bytes of the connection at `slot` until the hub has no
    /// more or the socket takes no more; closes it once the hub let it go
    /// and everything is out, or drops it if the hub gave up on that.
    fn flush(&mut self, slot: usize, now: Instant) {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let id = conn.id;
        if !self.hub.knows(id) {
            debug!("conn {slot}: its last bytes not taken in time, dropped");
            self.drop_conn(slot);
            return;
        }
        let was_waiting = conn.waiting_to_write;
        loop {
            if conn.is_flushed() {
                let sent = self.hub.poll_transmit(id, now, conn.out_buffer());
                conn.give(sent.len);
                if sent.len == 0 && sent.close {
                    debug!("conn {slot}: closing");
                    conn.shutdown();
                    self.hub.disconnect(id, now);
                    self.drop_conn(slot);
                    return;
                }
                if sent.len == 0 {
                    conn.waiting_to_write = false;
                    break;
                }
            }
            if conn.write().is_err() {
                self.hub.disconnect(id, now);
                self.drop_conn(slot);
                return;
            }
            if !conn.is_flushed() {
                // The socket is full: on with the others, back when it drains.
                conn.waiting_to_write = true;
                break;
            }
        }
        if conn.waiting_to_write != was_waiting {
            self.rewatch(slot);
        }
    }

    /// Forgets the connection at `slot`, if any, and closes its socket.
    fn drop_conn(&mut self, slot: usize) {
        if let Some(conn) = self.conns.get_mut(slot).and_then(Option::take) {
            let _ = self.poller.delete(&conn.stream);
        }
    }
}

impl Drop for EventLoop {
    /// Every source leaves the poller before its socket closes.
    fn drop(&mut self) {
        for slot in 0..self.conns.len() {
            self.drop_conn(slot);
        }
        if let Some(listener) = &self.listener {
            let _ = self.poller.delete(listener);
        }
        let _ = self.poller.delete(&self.signals);
    }
}

/// Tells a connection why it goes, then closes it: a new one not let in,
/// or one at the prompts that made room for a newcomer. Its socket's
/// buffer is empty (new, or flushed), so it takes one small frame.
fn refuse(mut stream: TcpStream, reason: ByeReason) {
    // What it sent is not wanted, but left unread, closing would reset
    // the connection, and the goodbye could be lost before it is read.
    let mut sink = [0u8; 1024];
    for _ in 0..64 {
        if !matches!(stream.read(&mut sink), Ok(n) if n > 0) {
            break;
        }
    }
    let mut buf = [0u8; 64];
    let bye = ServerFrame::Bye { reason };
    if let Ok(n) = protocol::encode(&bye, &mut buf) {
        let _ = stream.write_all(&buf[..n]);
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// 16 bytes from the kernel's generator.
fn random() -> [u8; 16] {
    let mut bytes = [0; 16];
    if let Err(error) = getrandom::fill(&mut bytes) {
        // The kernel's generator does not fail once booted; if it ever
        // did, a predictable secret must not be handed out.
        eprintln!("natter-server: no random numbers from the system: {error}");
        std::process::exit(1);
    }
    bytes
}

/// The hub's clock: milliseconds since the Unix epoch as of the start,
/// then counted on the monotonic clock, so a clock set while the server
/// runs moves no deadline, and the instants in the journal (when a letter
/// was posted, when a block ends) mean the same after a restart.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    started: StdInstant,
    epoch_ms: u64,
}

impl Clock {
    pub fn start() -> Clock {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Clock {
            started: StdInstant::now(),
            epoch_ms: millis(since_epoch),
        }
    }

    pub fn now(&self) -> Instant {
        Instant(self.epoch_ms).after(millis(self.started.elapsed()))
    }
}

/// How long a duration is in the hub's milliseconds, saturating.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
