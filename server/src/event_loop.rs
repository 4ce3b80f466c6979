//! The server's one thread: an epoll loop around the hub, as smoltcp's and
//! quinn's examples drive their state machines.
//!
//! Each turn waits for sockets, the signal pipe or the hub's next deadline
//! (after a busy turn, polling first for a moment: [`crate::busy_poll`]);
//! gives every readable connection one read (so a flood cannot starve the
//! others) and the hub its frames; then does what the hub asks (randomness
//! now; checking passwords and saving accounts on the worker thread, whose
//! answers wake the loop like a socket) and writes every ready connection's
//! bytes, as many frames per `write` as the hub has. Nothing here allocates per message:
//! the buffers are each connection's, made at accept.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant as StdInstant};

use natter_core::event::Event;
use natter_core::framer::BadFrame;
use natter_core::hub::Hub;
use natter_core::limits::MAX_CONNECTIONS;
use natter_core::protocol::{self, ByeReason, ClientFrame, ServerFrame};
use natter_core::session::ConnId;
use natter_core::time::Instant;
use rustix::event::{Timespec, epoll};

use crate::busy_poll::BusyPoll;
use crate::connection::{Connection, ReadOutcome};
use crate::debug;
use crate::journal::Journal;
use crate::worker::{Done, Job, Worker};

const LISTENER: u64 = 0;
const SIGNALS: u64 = 1;
const WORKER: u64 = 2;
/// A connection's epoll key is this plus its slot in `conns`, so an event
/// finds its connection without a search.
const FIRST_CONN: u64 = 3;

/// How long a closing connection may take to read its last frames.
const LINGER_MS: u64 = 2_000;

/// How long shutdown waits for connections to take their last frames.
const SHUTDOWN_GRACE_MS: u64 = 3_000;

/// Connections the loop holds: live ones, and as many again closing.
const SLOTS: usize = 2 * MAX_CONNECTIONS;

pub struct EventLoop {
    hub: Box<Hub>,
    worker: Worker,
    epoll: rustix::fd::OwnedFd,
    listener: Option<TcpListener>,
    signals: UnixStream,
    conns: [Option<Box<Connection>>; SLOTS],
    /// No connection's pause or linger ends before this (`None`: none is
    /// timed): brought forward whenever one is set, so the loop looks
    /// through its connections for them only when one may be due, not
    /// every turn.
    conns_due: Option<Instant>,
    /// Where each turn's changes are made durable; `None`: in memory only.
    journal: Option<Journal>,
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

impl EventLoop {
    pub fn new(
        hub: Box<Hub>,
        journal: Option<Journal>,
        clock: Clock,
        worker: Worker,
        listener: TcpListener,
        signals: UnixStream,
        busy_poll: BusyPoll,
    ) -> io::Result<EventLoop> {
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        listener.set_nonblocking(true)?;
        signals.set_nonblocking(true)?;
        let readable = epoll::EventFlags::IN;
        epoll::add(
            &epoll,
            &listener,
            epoll::EventData::new_u64(LISTENER),
            readable,
        )?;
        epoll::add(
            &epoll,
            &signals,
            epoll::EventData::new_u64(SIGNALS),
            readable,
        )?;
        epoll::add(
            &epoll,
            &worker.wake,
            epoll::EventData::new_u64(WORKER),
            readable,
        )?;
        Ok(EventLoop {
            hub,
            worker,
            epoll,
            listener: Some(listener),
            signals,
            conns: std::array::from_fn(|_| None),
            conns_due: None,
            journal,
            clock,
            leave_at: None,
            busy_poll,
            heard_frame: false,
        })
    }

    fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Serves until SIGINT or SIGTERM, then until every connection took its
    /// goodbye (or the grace period ends).
    pub fn run(mut self) -> io::Result<()> {
        let mut events = [epoll::Event {
            flags: epoll::EventFlags::empty(),
            data: epoll::EventData::new_u64(0),
        }; 64];
        loop {
            let now = self.now();
            if let Some(leave_at) = self.leave_at
                && (now >= leave_at || self.conns.iter().all(Option::is_none))
            {
                if let Some(journal) = &self.journal {
                    debug!("{}: {} syncs", journal.path().display(), journal.syncs);
                }
                return Ok(());
            }
            // Read once a turn, before the wait: a deadline the turn brings
            // in or back (a worker's answer) is handled next turn, whose
            // wait then does not block.
            let hub_due = self.hub.poll_timeout();
            let timeout = self
                .next_wake(hub_due)
                .map(|at| Duration::from_millis(at.millis().saturating_sub(now.millis())));
            let busy = std::mem::take(&mut self.heard_frame);
            let ready = match self.wait(&mut events, timeout, busy) {
                Ok(ready) => ready,
                Err(rustix::io::Errno::INTR) => continue,
                Err(error) => return Err(error.into()),
            };
            let now = self.now();
            for event in &events[..ready] {
                match event.data.u64() {
                    LISTENER => self.accept(now),
                    SIGNALS => self.signal(now),
                    WORKER => self.work_done(now)?,
                    key => self.on_socket((key - FIRST_CONN) as usize, event.flags, now),
                }
            }
            if hub_due.is_some_and(|at| at <= now) {
                self.hub.handle_timeout(now);
            }
            if self.conns_due.is_some_and(|at| at <= now) {
                self.wake_paused(now);
                self.drop_lingering(now);
                self.conns_due = self.conns_next_due();
            }
            // Group commit: what this turn changed is durable before any
            // of it is told. Frames let go by a sync may let more of a
            // connection's frames in, whose changes are due too.
            loop {
                if let Some(journal) = &mut self.journal {
                    journal.commit(&mut self.hub, now);
                }
                self.settle(now)?;
                let more = self
                    .journal
                    .as_ref()
                    .is_some_and(|j| j.retry_at().is_none());
                if !(more && self.hub.has_changes()) {
                    break;
                }
            }
        }
    }

    /// Waits for events until `timeout` (`None`: until one comes) and says
    /// how many are in `events`. After a busy turn it polls first, for as
    /// long as [`BusyPoll`] finds worth it, and tells it how long the wait
    /// was.
    fn wait(
        &mut self,
        events: &mut [epoll::Event],
        timeout: Option<Duration>,
        busy: bool,
    ) -> rustix::io::Result<usize> {
        // A timeout too long for a Timespec (centuries) is none.
        let timespec = |t: Duration| Timespec::try_from(t).ok();
        if !busy || timeout == Some(Duration::ZERO) {
            return epoll::wait(&self.epoll, events, timeout.and_then(timespec).as_ref());
        }
        let idle_from = StdInstant::now();
        let ready = self.busy_poll.spin(idle_from, timeout, || {
            epoll::wait(&self.epoll, &mut *events, Some(&Timespec::default()))
        })?;
        if ready > 0 {
            return Ok(ready);
        }
        // Polling counts against the timeout. epoll_pwait takes whole
        // milliseconds, rounded up, so a deadline may still slip by up to
        // the window (100 us by default), less than the loop's clock
        // rounds off anyway.
        let left = timeout.and_then(|t| timespec(t.saturating_sub(idle_from.elapsed())));
        let ready = epoll::wait(&self.epoll, &mut *events, left.as_ref())?;
        self.busy_poll.waited(idle_from.elapsed(), ready > 0);
        Ok(ready)
    }

    /// The earliest moment something is due: `hub_due`, a paused reader,
    /// a lingering close, a journal retry, the end of the shutdown grace.
    fn next_wake(&self, hub_due: Option<Instant>) -> Option<Instant> {
        let retry = self.journal.as_ref().and_then(Journal::retry_at);
        [hub_due, self.leave_at, retry, self.conns_due]
            .into_iter()
            .flatten()
            .min()
    }

    /// When the first paused reader or lingering close is due.
    fn conns_next_due(&self) -> Option<Instant> {
        self.conns
            .iter()
            .flatten()
            .flat_map(|c| [c.paused_until, c.linger_until])
            .flatten()
            // Paused until the worker answers: its answer wakes the loop.
            .filter(|&at| at != Instant::NEVER)
            .min()
    }

    fn accept(&mut self, now: Instant) {
        let Some(listener) = &self.listener else {
            return;
        };
        loop {
            let (stream, peer) = match listener.accept() {
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
            let Some(index) = self.conns.iter().position(Option::is_none) else {
                debug!("{peer}: refused, every socket slot is taken");
                refuse(stream, ByeReason::ServerFull);
                continue;
            };
            let id = match self.hub.connect(now, peer.ip()) {
                Ok(id) => id,
                Err(reason) => {
                    debug!("{peer}: refused: {reason:?}");
                    refuse(stream, reason);
                    continue;
                }
            };
            let flags = epoll::EventFlags::IN | epoll::EventFlags::RDHUP;
            let key = epoll::EventData::new_u64(FIRST_CONN + index as u64);
            if let Err(error) = epoll::add(&self.epoll, &stream, key, flags) {
                debug!("{peer}: cannot watch: {error}");
                self.hub.disconnect(id, now);
                continue;
            }
            debug!("conn {}: connected from {peer}", id.slot());
            self.conns[index] = Some(Connection::new(id, stream));
        }
    }

    /// The worker thread checked passwords or saved accounts: each of
    /// those connections, paused meanwhile, is read again.
    fn work_done(&mut self, now: Instant) -> io::Result<()> {
        for done in self.worker.take()? {
            let conn = match done {
                Done::Checked { conn, checked } => {
                    self.hub.password_checked(conn, checked, now);
                    conn
                }
                Done::Saved { conn, saved } => {
                    self.hub.account_saved(conn, saved, now);
                    conn
                }
            };
            if let Some(index) = self.index_of(conn)
                && let Some(c) = self.conns[index].as_mut()
            {
                c.paused_until = None;
                // What it sent meanwhile comes first.
                self.take_frames(index, now);
                self.watch(index);
            }
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
        self.listener = None;
        self.hub.shutdown(now);
        self.leave_at = Some(now.after(SHUTDOWN_GRACE_MS));
    }

    /// Connection `index` is ready. An event for a slot closed and taken
    /// again in the same turn finds the new connection, which then reads
    /// what is there, if anything (its socket is non-blocking), or writes
    /// what it has.
    fn on_socket(&mut self, index: usize, flags: epoll::EventFlags, now: Instant) {
        if index >= SLOTS {
            return;
        }
        if flags.contains(epoll::EventFlags::OUT) {
            self.flush(index, now);
        }
        let gone = epoll::EventFlags::HUP | epoll::EventFlags::ERR | epoll::EventFlags::RDHUP;
        if flags.intersects(gone | epoll::EventFlags::IN) {
            self.read(index, now, flags.intersects(gone));
        }
    }

    /// One read of connection `index`, and its frames to the hub. A paused
    /// reader is read only if its peer hung up (epoll reports that whatever
    /// it is asked for): what it sent last still counts.
    fn read(&mut self, index: usize, now: Instant, hung_up: bool) {
        let Some(conn) = self.conns[index].as_mut() else {
            return;
        };
        let Some(id) = conn.id else {
            // Closing: nothing it says is read any more, but a closed peer
            // ends the wait for its last bytes.
            while conn.framer.next_line().is_some() {}
            if matches!(conn.read(), ReadOutcome::Gone) {
                self.conns[index] = None;
            }
            return;
        };
        if (conn.paused_until.is_some() || conn.backlogged) && !hung_up {
            return;
        }
        match conn.read() {
            ReadOutcome::Nothing => return,
            ReadOutcome::Gone => {
                debug!("conn {}: closed by peer", id.slot());
                self.hub.disconnect(id, now);
                self.conns[index] = None;
                return;
            }
            ReadOutcome::Bytes(_) => {}
        }
        self.take_frames(index, now);
    }

    /// Hands the hub the frames read from connection `index`, until the
    /// hub would rather wait (over its rate, or its address slowed down
    /// for failed logins), or the replies queued for it fill its queue and
    /// its socket takes no more: the rest wait in the framer and the socket.
    fn take_frames(&mut self, index: usize, now: Instant) {
        // Each frame is decoded into this one, in place.
        let mut frame = ClientFrame::Logout {};
        loop {
            let Some(conn) = self.conns[index].as_mut() else {
                return;
            };
            let Some(id) = conn.id else {
                return;
            };
            if let Some(at) = self.hub.read_after(id, now) {
                conn.paused_until = Some(at);
                bring_forward(&mut self.conns_due, at);
                debug!("conn {}: paused", id.slot());
                self.watch(index);
                return;
            }
            if !self.hub.has_room(id) {
                // Its replies go out first, as far as its socket takes them.
                self.flush(index, now);
                if !self.hub.has_room(id) {
                    if let Some(conn) = self.conns[index].as_mut() {
                        debug!("conn {}: not reading its replies", id.slot());
                        conn.backlogged = true;
                    }
                    self.watch(index);
                    return;
                }
                continue;
            }
            let Some(payload) = conn.framer.next_payload() else {
                return;
            };
            self.heard_frame = true;
            let decoded = payload.and_then(|line| {
                protocol::decode_client_into(line, &mut frame).map_err(BadFrame::Malformed)
            });
            match decoded {
                Ok(()) => self.hub.receive(id, &frame, now),
                Err(bad) => {
                    debug!("conn {}: not a frame: {bad:?}", id.slot());
                    self.hub.reject(id, bad.error(), now);
                }
            }
        }
    }

    /// Registers connection `index` for what it waits for now.
    fn watch(&self, index: usize) {
        let Some(conn) = self.conns[index].as_ref() else {
            return;
        };
        let mut flags = epoll::EventFlags::empty();
        if conn.paused_until.is_none() && !conn.backlogged {
            flags |= epoll::EventFlags::IN | epoll::EventFlags::RDHUP;
        }
        if conn.waiting_to_write {
            flags |= epoll::EventFlags::OUT;
        }
        let key = epoll::EventData::new_u64(FIRST_CONN + index as u64);
        if let Err(error) = epoll::modify(&self.epoll, &conn.stream, key, flags) {
            debug!("cannot watch a connection: {error}");
        }
    }

    /// Readers paused for their rate whose time has come read again.
    fn wake_paused(&mut self, now: Instant) {
        for index in 0..SLOTS {
            let Some(conn) = self.conns[index].as_mut() else {
                continue;
            };
            if conn.paused_until.is_some_and(|at| at <= now) {
                conn.paused_until = None;
                // Frames read before the pause come first.
                self.take_frames(index, now);
                self.watch(index);
            }
        }
    }

    /// Closing connections that did not take their last bytes in time.
    fn drop_lingering(&mut self, now: Instant) {
        for (index, conn) in self.conns.iter_mut().enumerate() {
            if conn
                .as_ref()
                .and_then(|c| c.linger_until)
                .is_some_and(|at| at <= now)
            {
                debug!(
                    "closing connection {index}: its last bytes not taken in {LINGER_MS} ms, dropped"
                );
                *conn = None;
            }
        }
    }

    /// Does what the hub asks, and writes every ready connection's bytes.
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
            let Some(id) = self.hub.poll_ready() else {
                return Ok(());
            };
            if let Some(index) = self.index_of(id) {
                self.flush(index, now);
            }
        }
    }

    fn index_of(&self, id: ConnId) -> Option<usize> {
        self.conns
            .iter()
            .position(|c| c.as_ref().is_some_and(|c| c.id == Some(id)))
    }

    /// Writes connection `index`'s bytes until the hub has no more or the
    /// socket takes no more; closes it once the hub let it go and
    /// everything is out.
    fn flush(&mut self, index: usize, now: Instant) {
        let Some(conn) = self.conns[index].as_mut() else {
            return;
        };
        let was_waiting = conn.waiting_to_write;
        if let Some(id) = conn.id
            && !self.hub.knows(id)
        {
            // The hub let it go while its socket was full: its last bytes
            // get the linger time, no more.
            let_go(conn, &mut self.conns_due, now);
        }
        loop {
            if conn.is_flushed() {
                let Some(id) = conn.id else {
                    // The hub let it go and everything is out.
                    conn.shutdown();
                    self.conns[index] = None;
                    return;
                };
                let sent = self.hub.poll_transmit(id, now, conn.out_buffer());
                conn.give(sent.len);
                if sent.close {
                    debug!("conn {}: closing", id.slot());
                    let_go(conn, &mut self.conns_due, now);
                } else if sent.len == 0 {
                    conn.waiting_to_write = false;
                    break;
                }
            }
            if conn.write().is_err() {
                if let Some(id) = conn.id {
                    self.hub.disconnect(id, now);
                }
                self.conns[index] = None;
                return;
            }
            if !conn.is_flushed() {
                // The socket is full: on with the others, back when it drains.
                conn.waiting_to_write = true;
                break;
            }
        }
        let changed = conn.waiting_to_write != was_waiting;
        if conn.backlogged && !conn.waiting_to_write {
            // Everything queued is out: on with what it sent meanwhile.
            conn.backlogged = false;
            self.take_frames(index, now);
            self.watch(index);
        } else if changed {
            self.watch(index);
        }
    }
}

/// The hub let `conn` go: its last bytes get the linger time, no more.
fn let_go(conn: &mut Connection, conns_due: &mut Option<Instant>, now: Instant) {
    let until = now.after(LINGER_MS);
    conn.id = None;
    conn.linger_until = Some(until);
    bring_forward(conns_due, until);
}

/// Brings `due` forward to `at`, unless `at` is a wait for the worker
/// (whose answer wakes the loop by itself).
fn bring_forward(due: &mut Option<Instant>, at: Instant) {
    if at != Instant::NEVER {
        *due = Some(due.map_or(at, |due| due.min(at)));
    }
}

/// Tells a new connection why it is not let in, then closes it. A new
/// socket's buffer always takes one small frame.
fn refuse(mut stream: TcpStream, reason: ByeReason) {
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
