//! A connection's queue, turned into bytes for the shell (quinn-proto's
//! `poll_transmit`): frames as queued, letters read from the store and
//! encoded straight into the shell's buffer, several frames per call.

use super::{Hub, Stall};
use crate::event::Transmit;
use crate::limits::{FRAME_MAX, NAME_MAX, REPLY_ROOM, TEXT_MAX};
use crate::output::Next;
use crate::protocol::{self, ServerFrame};
use crate::session::{ConnId, Phase};
use crate::time::Instant;

impl Hub {
    /// Fills `buf` with whole frames for `conn`, as many as fit, and says
    /// whether to close the connection once they are written: then the
    /// shell closes it and says so with `disconnect`. `buf` must hold more
    /// than [`FRAME_MAX`] bytes, so the largest frame fits.
    ///
    /// A connection the hub no longer knows is to be closed.
    pub fn poll_transmit(&mut self, conn: ConnId, now: Instant, buf: &mut [u8]) -> Transmit {
        debug_assert!(buf.len() > FRAME_MAX, "a buffer too small for a frame");
        let (synced, settled) = self.synced();
        let Some(session) = self.sessions.get_mut(conn) else {
            return Transmit {
                len: 0,
                close: true,
            };
        };
        let mut len = 0;
        // The buffer took all it could: what is left goes next call.
        let mut full = false;
        let mut bytes = [0; NAME_MAX + TEXT_MAX];
        // The reader's unsent letters, found once for the whole batch.
        let mut unsent = None;
        while let Some(next) = session.output.next() {
            match next {
                Next::Frame(n) => {
                    let Some(into) = buf.get_mut(len..len + n) else {
                        full = true;
                        break;
                    };
                    session.output.take_frame(into);
                    len += n;
                }
                Next::Listing { asker, since, from } => {
                    let (users, next) = self.users.seen_by(asker, since, from);
                    let more = next.is_some();
                    // A page of names fits FRAME_MAX (protocol.rs tests it).
                    let Ok(n) =
                        protocol::encode(&ServerFrame::Users { users, more }, &mut buf[len..])
                    else {
                        full = true;
                        break;
                    };
                    len += n;
                    match next {
                        Some(from) => session.output.advance_listing(from),
                        None => session.output.drop_listing(),
                    }
                }
                // What promises durability waits for the journal.
                Next::Barrier(batch) if batch <= settled => session.output.drop_mark(),
                Next::Barrier(_) => break,
                Next::Letters(up_to) => {
                    // A user who left has their letters kept, not sent.
                    let letter = match session.phase {
                        Phase::Online(user) => {
                            let sent = session.output.sent;
                            let unsent =
                                unsent.get_or_insert_with(|| self.store.letters_after(user, sent));
                            match unsent.next_id() {
                                Some(id) if id <= up_to => unsent.read_next(&mut bytes),
                                _ => None,
                            }
                        }
                        _ => None,
                    };
                    let Some(letter) = letter else {
                        session.output.drop_mark();
                        continue;
                    };
                    let id = letter.id;
                    // Letters fit FRAME_MAX by construction (limits.rs).
                    match letter.frame(now).encode(&mut buf[len..]) {
                        Ok(n) => {
                            session.output.sent = id;
                            len += n;
                        }
                        Err(_) if len > 0 => {
                            full = true;
                            break;
                        }
                        Err(_) => {
                            // Not even alone: skip it rather than stall.
                            debug_assert!(len > 0, "letter {id} does not fit a frame");
                            session.output.sent = id;
                        }
                    }
                }
            }
        }
        // Letters posted that are durable now: told after what the queue let
        // out (their `Stored`, say), whatever waits behind a later barrier
        // (`durable.rs`), which is about later letters; in the next call if
        // this one is full; never after a goodbye.
        let told = !full && session.phase != Phase::Closing;
        if let Some(id) = session.output.unaccepted.due(synced).filter(|_| told)
            && let Ok(n) = protocol::encode(&ServerFrame::Accepted { id }, &mut buf[len..])
        {
            session.output.unaccepted.told(synced);
            len += n;
        }
        let close = session.phase == Phase::Closing && session.output.is_empty();
        // Room for a reply again: read on.
        if session.output.room() >= REPLY_ROOM {
            self.resume(conn, |stall| stall == Stall::Room);
        }
        Transmit { len, close }
    }

    /// Whether `conn` is a connection the hub still has, closing or not.
    pub fn knows(&self, conn: ConnId) -> bool {
        self.sessions.get(conn).is_some()
    }

    /// Whether `conn` has bytes waiting for the shell.
    pub fn has_output(&self, conn: ConnId) -> bool {
        self.sessions
            .get(conn)
            .is_some_and(|session| !session.output.is_empty())
    }
}
