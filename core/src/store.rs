//! Messages waiting for their reader (R17, R27), in a fixed arena of bytes.
//!
//! Every message to a user is posted here first. If the user is online it
//! is also sent at once, and stays until their client acknowledges it; if
//! not, it waits for their next login. So a message is never lost between
//! the hub and the screen: a receiver that stops reading, or whose
//! connection breaks mid-send, gets it again at its next login, and a
//! mailbox that fills up is an error the sender sees.
//!
//! A letter takes the bytes it needs: a 26-byte header, the sender's name
//! and the text, in chunks of [`CHUNK_BYTES`] chained through a table of
//! links, so letters of any size share one arena (`Capacity::store_bytes`)
//! without fragmenting it. Each recipient's letters form a queue in the
//! order posted, within a quota of [`MAILBOX_BYTES`]; an acknowledgement
//! takes every letter up to an id off the front (cumulative, as TCP).
//!
//! A broadcast's name and text longer than a chunk are stored once, in a
//! body its recipients' letters link to (`shared.rs`): each recipient's
//! letter is then one chunk however long the text.
//!
//! Letters kept for a recipient who is offline are shared out too, so
//! that no one fills the store for everyone: each sender's within
//! [`SENDER_BYTES`], and those for newcomers (accounts created since the
//! start that have not logged in again) within [`NEWCOMER_BYTES`] all
//! together.

use crate::copy::copy_short;
use crate::credential::Name;
use crate::limits::{CHUNK_BYTES, MAILBOX_BYTES, NAME_MAX, NEWCOMER_BYTES, SENDER_BYTES, TEXT_MAX};
use crate::protocol::{LetterFrame, Text};
use crate::table::Table;
use crate::time::Instant;
use crate::user::UserId;

/// Chunks one recipient's letters may take.
const MAILBOX_CHUNKS: usize = MAILBOX_BYTES / CHUNK_BYTES;

/// Chunks one sender's kept letters may take.
const SENDER_CHUNKS: usize = SENDER_BYTES / CHUNK_BYTES;

/// Chunks the letters kept for newcomers may take together.
const NEWCOMER_CHUNKS: usize = NEWCOMER_BYTES / CHUNK_BYTES;

/// A chunk's index in the arena.
type Link = u32;

/// The end of a chain.
const NIL: Link = Link::MAX;

/// The letter header: id, posted, next letter, text length, name length,
/// flags, sender, in that order, little-endian.
const HEADER: usize = 8 + 8 + 4 + 2 + 1 + 1 + 2;
/// Where the header's fields after the id and time start.
const NEXT: usize = 16;
const TEXT_LEN: usize = 20;
const NAME_LEN: usize = 22;
const FLAGS: usize = 23;
const SENDER: usize = 24;

/// Flag bits: sent to everyone online; kept for a recipient who was
/// offline (it counts against its sender's share); its name and text are
/// in a shared body, linked to after the header (`shared.rs`).
const BROADCAST: u8 = 1;
const KEPT: u8 = 2;
const SHARED: u8 = 4;

/// Where a shared letter's link to its body is.
const BODY: usize = HEADER;

const _: () = assert!(CHUNK_BYTES >= BODY + 4);

/// A letter read back from the store, its name and text borrowed from
/// the caller's [`LetterBytes`]: read once, encoded from there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Letter<'a> {
    /// Unique and increasing: the order of posting, and the id the client
    /// acknowledges.
    pub id: u64,
    pub from: &'a str,
    pub text: &'a str,
    /// Sent to everyone online, not to one user alone.
    pub broadcast: bool,
    /// When it was stored: the client shows when it was sent.
    pub posted: Instant,
    /// Kept for a user who was offline: it counts in its sender's share.
    pub kept: bool,
}

/// Room for a letter's name and text as they are read back.
pub type LetterBytes = [u8; NAME_MAX + TEXT_MAX];

impl<'a> Letter<'a> {
    /// The frame that shows this letter to its reader at `now`.
    pub fn frame(&self, now: Instant) -> LetterFrame<'a> {
        LetterFrame::Message {
            id: self.id,
            from: self.from,
            text: self.text,
            broadcast: self.broadcast,
            age: now.millis().saturating_sub(self.posted.millis()) / 1000,
        }
    }
}

/// A letter to be posted.
#[derive(Clone, Copy, Debug)]
pub struct Post<'a> {
    pub to: UserId,
    pub sender: UserId,
    /// The sender's name, as the reader sees it.
    pub from: &'a Name,
    pub text: &'a Text,
    pub broadcast: bool,
    /// The recipient is offline: the letter waits for their next login,
    /// within the sender's share.
    pub kept: bool,
    pub now: Instant,
}

/// Why a letter was not posted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostError {
    /// The recipient's letters already take their quota.
    MailboxFull,
    /// The arena has no room left.
    StoreFull,
    /// The sender's letters kept for users offline take their share.
    SenderFull,
}

/// Why a letter from a journal was not restored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestoreError {
    /// It is in its mailbox already (a journal rewritten whole after a
    /// failed write holds letters twice).
    Again,
    /// It does not fit any more (the limits shrank since).
    Full(PostError),
}

/// One user's row: the queue of letters to them, by the chunk each starts
/// in, and what they keep for others.
#[derive(Clone, Copy, Debug)]
pub struct Mailbox {
    first: Link,
    last: Link,
    letters: u16,
    chunks: u16,
    /// Chunks the letters this user sent and that are kept for users
    /// offline take: their share (`SENDER_BYTES`).
    kept: u16,
    /// An account made since the start that has not logged in again.
    newcomer: bool,
    /// The bodies of this user's broadcasts still linked to, newest first
    /// (`shared.rs`).
    bodies: Link,
}

impl Default for Mailbox {
    fn default() -> Self {
        Mailbox {
            first: NIL,
            last: NIL,
            letters: 0,
            chunks: 0,
            kept: 0,
            newcomer: false,
            bodies: NIL,
        }
    }
}

/// Every user's letters.
#[derive(Debug)]
pub struct Store {
    /// The arena: chunk `i` is bytes `i * CHUNK_BYTES` on. Bytes, not an
    /// array per chunk: a table of zero bytes is allocated untouched, so
    /// the store takes memory only as letters fill it.
    chunks: Table<u8>,
    /// Each chunk's next: in its letter, or in the free list.
    links: Table<Link>,
    free: Link,
    free_chunks: usize,
    /// A row per account.
    boxes: Table<Mailbox>,
    /// Chunks the letters of every newcomer take.
    newcomer_chunks: usize,
    next_id: u64,
}

impl Store {
    /// An empty store in `chunks` (bytes, `CHUNK_BYTES` a chunk), with a
    /// link for each chunk in `links`, and a mailbox per account in
    /// `boxes`. At most `u32::MAX - 1` chunks (`Capacity::check`).
    pub fn new(chunks: Table<u8>, mut links: Table<Link>, boxes: Table<Mailbox>) -> Store {
        debug_assert_eq!(chunks.len(), links.len() * CHUNK_BYTES);
        let count = links.len();
        for (i, link) in links.iter_mut().enumerate() {
            *link = if i + 1 < count { (i + 1) as Link } else { NIL };
        }
        Store {
            chunks,
            links,
            free: if count > 0 { 0 } else { NIL },
            free_chunks: count,
            boxes,
            newcomer_chunks: 0,
            next_id: 1,
        }
    }

    /// Chunks in the arena.
    pub fn capacity(&self) -> usize {
        self.links.len()
    }

    /// The bytes of chunk `link`.
    fn chunk(&self, link: Link) -> &[u8] {
        let start = at(link) * CHUNK_BYTES;
        &self.chunks[start..start + CHUNK_BYTES]
    }

    fn chunk_mut(&mut self, link: Link) -> &mut [u8] {
        let start = at(link) * CHUNK_BYTES;
        &mut self.chunks[start..start + CHUNK_BYTES]
    }

    /// Stores a letter; returns its id.
    pub fn post(&mut self, post: Post<'_>) -> Result<u64, PostError> {
        let id = self.next_id;
        self.post_as(post, id, Posting::Now)?;
        self.next_id += 1;
        Ok(id)
    }

    /// Stores a letter a journal kept, under the id it had (issue 11), so
    /// acknowledgements replayed after it mean the same letters. A letter
    /// whose id is not above the last in its mailbox was restored already.
    /// It was within its sender's share when posted: it is counted in the
    /// share again, never refused for it.
    pub fn restore(&mut self, post: Post<'_>, id: u64) -> Result<(), RestoreError> {
        let last = self.boxes[post.to.index()].last;
        if last != NIL && self.id_of(last) >= id {
            return Err(RestoreError::Again);
        }
        self.post_as(post, id, Posting::Restored)
            .map_err(RestoreError::Full)?;
        self.resume_after(id);
        Ok(())
    }

    fn post_as(&mut self, post: Post<'_>, id: u64, posting: Posting) -> Result<(), PostError> {
        // What the letter counts against its mailbox and shares: what it
        // would take whole, shared body or not.
        let needed = charge(post.from.len(), post.text.len());
        let mailbox = self.boxes[post.to.index()];
        if usize::from(mailbox.chunks) + needed > MAILBOX_CHUNKS {
            return Err(PostError::MailboxFull);
        }
        let sender = post.sender.index();
        if post.kept && posting == Posting::Now {
            if usize::from(self.boxes[sender].kept) + needed > SENDER_CHUNKS {
                return Err(PostError::SenderFull);
            }
            // A newcomer's mailbox is as small as what newcomers have left.
            if mailbox.newcomer && self.newcomer_chunks + needed > NEWCOMER_CHUNKS {
                return Err(PostError::MailboxFull);
            }
        }
        // A broadcast to users online longer than a chunk shares its body
        // with the other recipients' letters. Posted now, the body is the
        // sender's newest if it is this broadcast's; restored, it may be
        // any of the sender's (a journal lists letters by mailbox too).
        let shares = post.broadcast && !post.kept && needed > 1;
        let found = match posting {
            _ if !shares => None,
            Posting::Now => self.find_body(&post, 1),
            Posting::Restored => self.find_body(&post, usize::MAX),
        };
        let taken = match (shares, found) {
            (false, _) => needed,
            (true, Some(_)) => 1,
            (true, None) => 1 + body_chunks(post.from.len(), post.text.len()),
        };
        if self.free_chunks < taken {
            return Err(PostError::StoreFull);
        }
        let body = match found {
            Some(body) => Some(self.add_ref(body)),
            None if shares => Some(self.new_body(&post)),
            None => None,
        };
        let head = self.take_chunks(if body.is_some() { 1 } else { needed });

        let mut header = [0u8; HEADER];
        header[..8].copy_from_slice(&id.to_le_bytes());
        header[8..NEXT].copy_from_slice(&post.now.millis().to_le_bytes());
        header[NEXT..TEXT_LEN].copy_from_slice(&NIL.to_le_bytes());
        header[TEXT_LEN..NAME_LEN].copy_from_slice(&(post.text.len() as u16).to_le_bytes());
        header[NAME_LEN] = post.from.len() as u8;
        header[FLAGS] = (u8::from(post.broadcast) * BROADCAST)
            | (u8::from(post.kept) * KEPT)
            | (u8::from(body.is_some()) * SHARED);
        // Account tables are at most `capacity::CEILING` long.
        header[SENDER..].copy_from_slice(&(sender as u16).to_le_bytes());
        if post.kept {
            self.boxes[sender].kept += needed as u16;
        }
        let mut writer = ChainWriter::new(self, head);
        writer.write(&header);
        match body {
            Some(body) => writer.write(&body.to_le_bytes()),
            None => {
                writer.write(post.from.as_bytes());
                writer.write(post.text.as_bytes());
            }
        }

        let mailbox = &mut self.boxes[post.to.index()];
        if mailbox.last == NIL {
            mailbox.first = head;
        } else {
            let last = mailbox.last;
            self.chunk_mut(last)[NEXT..TEXT_LEN].copy_from_slice(&head.to_le_bytes());
        }
        let mailbox = &mut self.boxes[post.to.index()];
        mailbox.last = head;
        mailbox.letters += 1;
        mailbox.chunks += needed as u16;
        if mailbox.newcomer {
            self.newcomer_chunks += needed;
        }
        Ok(())
    }

    /// Takes `count` chunks (at least one, and no more than are free) off
    /// the free list, still chained; the first.
    fn take_chunks(&mut self, count: usize) -> Link {
        let head = self.free;
        let mut tail = head;
        for _ in 1..count {
            tail = self.links[at(tail)];
        }
        self.free = self.links[at(tail)];
        self.links[at(tail)] = NIL;
        self.free_chunks -= count;
        head
    }

    /// Forgets every letter of `to` up to and including `id`, once shown
    /// (cumulative, R17, R27); returns how many.
    pub fn acknowledge(&mut self, to: UserId, id: u64) -> usize {
        let mut freed = 0;
        loop {
            let first = self.boxes[to.index()].first;
            if first == NIL || self.id_of(first) > id {
                return freed;
            }
            let next = self.next_letter(first);
            let (flags, sender, chunks) = {
                let chunk = self.chunk(first);
                let text_len = usize::from(u16::from_le_bytes(le(&chunk[TEXT_LEN..])));
                (
                    chunk[FLAGS],
                    usize::from(u16::from_le_bytes(le(&chunk[SENDER..]))),
                    charge(usize::from(chunk[NAME_LEN]), text_len),
                )
            };
            if flags & SHARED != 0 {
                let body = self.body_of(first);
                self.release(first);
                self.drop_ref(body, sender);
            } else {
                self.release(first);
            }
            if flags & KEPT != 0 {
                self.boxes[sender].kept -= chunks as u16;
            }
            let mailbox = &mut self.boxes[to.index()];
            mailbox.first = next;
            if next == NIL {
                mailbox.last = NIL;
            }
            mailbox.letters -= 1;
            mailbox.chunks -= chunks as u16;
            if mailbox.newcomer {
                self.newcomer_chunks -= chunks;
            }
            freed += 1;
        }
    }

    /// Whether `to` is a newcomer: an account made since the start that has
    /// not logged in again. Letters kept for newcomers share
    /// [`NEWCOMER_BYTES`].
    pub fn set_newcomer(&mut self, to: UserId, newcomer: bool) {
        let mailbox = &mut self.boxes[to.index()];
        if mailbox.newcomer != newcomer {
            mailbox.newcomer = newcomer;
            let chunks = usize::from(mailbox.chunks);
            if newcomer {
                self.newcomer_chunks += chunks;
            } else {
                self.newcomer_chunks -= chunks;
            }
        }
    }

    /// The bytes `sender`'s letters kept for users offline take.
    pub fn kept_by(&self, sender: UserId) -> usize {
        usize::from(self.boxes[sender.index()].kept) * CHUNK_BYTES
    }

    /// Ids given from now on follow `latest` (as replayed from a journal):
    /// never lower than those already given.
    pub fn resume_after(&mut self, latest: u64) {
        self.next_id = self.next_id.max(latest.saturating_add(1));
    }

    /// The id of the last letter posted to anyone; 0 before the first.
    pub fn latest(&self) -> u64 {
        self.next_id - 1
    }

    /// How many letters `to` has waiting.
    pub fn waiting(&self, to: UserId) -> usize {
        usize::from(self.boxes[to.index()].letters)
    }

    /// The bytes `to`'s letters take, in whole chunks.
    pub fn bytes(&self, to: UserId) -> usize {
        usize::from(self.boxes[to.index()].chunks) * CHUNK_BYTES
    }

    /// `to`'s oldest letter with an id above `id`, read into `bytes`.
    pub fn letter_after<'b>(
        &self,
        to: UserId,
        id: u64,
        bytes: &'b mut LetterBytes,
    ) -> Option<Letter<'b>> {
        self.letters_after(to, id).read_next(bytes)
    }

    /// `to`'s letters with an id above `id`, oldest first: one walk of the
    /// mailbox for a whole batch, not one a letter (issue 9).
    pub fn letters_after(&self, to: UserId, id: u64) -> MailboxCursor<'_> {
        let mut at = self.boxes[to.index()].first;
        while at != NIL && self.id_of(at) <= id {
            at = self.next_letter(at);
        }
        MailboxCursor { store: self, at }
    }

    fn id_of(&self, head: Link) -> u64 {
        let chunk = self.chunk(head);
        u64::from_le_bytes(le(&chunk[..8]))
    }

    fn next_letter(&self, head: Link) -> Link {
        Link::from_le_bytes(le(&self.chunk(head)[NEXT..]))
    }

    /// The letter starting at chunk `head`. Written from a `Name` and a
    /// `Text`, it always reads back.
    fn read<'b>(&self, head: Link, bytes: &'b mut LetterBytes) -> Option<Letter<'b>> {
        let chunk = self.chunk(head);
        let text_len = usize::from(u16::from_le_bytes(le(&chunk[TEXT_LEN..])));
        let name_len = usize::from(chunk[NAME_LEN]);
        let body = bytes.get_mut(..name_len + text_len)?;
        let mut reader = match chunk[FLAGS] & SHARED {
            0 => ChainReader {
                store: self,
                chunk: head,
                offset: HEADER,
            },
            _ => self.body_reader(self.body_of(head)),
        };
        reader.read(body);
        let (name, text) = body.split_at(name_len);
        Some(Letter {
            id: self.id_of(head),
            from: core::str::from_utf8(name).ok()?,
            text: core::str::from_utf8(text).ok()?,
            broadcast: chunk[FLAGS] & BROADCAST != 0,
            posted: Instant(u64::from_le_bytes(le(&chunk[8..NEXT]))),
            kept: chunk[FLAGS] & KEPT != 0,
        })
    }

    /// Returns the chain starting at `head` to the free list; its length.
    fn release(&mut self, head: Link) -> usize {
        let mut tail = head;
        let mut count = 1;
        while self.links[at(tail)] != NIL {
            tail = self.links[at(tail)];
            count += 1;
        }
        self.links[at(tail)] = self.free;
        self.free = head;
        self.free_chunks += count;
        count
    }
}

#[cfg(feature = "alloc")]
impl Store {
    /// A store of `chunks` chunks for `accounts` accounts, allocated now.
    pub fn allocate(chunks: usize, accounts: usize) -> Store {
        Store::new(
            Table::filled(0, chunks * CHUNK_BYTES),
            Table::filled(NIL, chunks),
            Table::filled(Mailbox::default(), accounts),
        )
    }
}

/// How a letter is posted: now, within the shares; or restored from a
/// journal, as it was posted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Posting {
    Now,
    Restored,
}

/// The chunks a letter of this name and text takes whole, and counts
/// against its mailbox and shares whether its body is shared or not.
fn charge(name_len: usize, text_len: usize) -> usize {
    (HEADER + name_len + text_len).div_ceil(CHUNK_BYTES)
}

/// A link as an index: links are 32 bits, and so is the smallest `usize`
/// natter runs on.
fn at(link: Link) -> usize {
    link as usize
}

/// `bytes`, which is exactly `N` long, as an array.
fn le<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut array = [0; N];
    array.copy_from_slice(&bytes[..N]);
    array
}

/// Writes bytes along a chain of chunks, from the start of its first.
struct ChainWriter<'a> {
    store: &'a mut Store,
    chunk: Link,
    offset: usize,
}

impl<'a> ChainWriter<'a> {
    fn new(store: &'a mut Store, head: Link) -> Self {
        ChainWriter {
            store,
            chunk: head,
            offset: 0,
        }
    }

    fn write(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() && self.chunk != NIL {
            if self.offset == CHUNK_BYTES {
                self.chunk = self.store.links[at(self.chunk)];
                self.offset = 0;
                continue;
            }
            let room = CHUNK_BYTES - self.offset;
            let n = room.min(bytes.len());
            let chunk = self.store.chunk_mut(self.chunk);
            copy_short(&mut chunk[self.offset..], &bytes[..n]);
            self.offset += n;
            bytes = &bytes[n..];
        }
    }
}

/// A mailbox read in order from some letter on: [`Store::letters_after`].
/// It borrows the store, so no letter goes while it is read.
pub struct MailboxCursor<'s> {
    store: &'s Store,
    /// The next letter's first chunk, or `NIL`.
    at: Link,
}

impl MailboxCursor<'_> {
    /// The next letter's id, without reading it.
    pub fn next_id(&self) -> Option<u64> {
        (self.at != NIL).then(|| self.store.id_of(self.at))
    }

    /// The next letter, read into `bytes`. The cursor moves past it even
    /// if it cannot be read back (`Store::read` says it always can).
    pub fn read_next<'b>(&mut self, bytes: &'b mut LetterBytes) -> Option<Letter<'b>> {
        if self.at == NIL {
            return None;
        }
        let at = self.at;
        self.at = self.store.next_letter(at);
        self.store.read(at, bytes)
    }
}

/// Reads bytes along a chain, from an offset in its first chunk.
struct ChainReader<'a> {
    store: &'a Store,
    chunk: Link,
    offset: usize,
}

impl ChainReader<'_> {
    fn read(&mut self, mut into: &mut [u8]) {
        while !into.is_empty() && self.chunk != NIL {
            if self.offset == CHUNK_BYTES {
                self.chunk = self.store.links[at(self.chunk)];
                self.offset = 0;
                continue;
            }
            let n = (CHUNK_BYTES - self.offset).min(into.len());
            let chunk = self.store.chunk(self.chunk);
            copy_short(into, &chunk[self.offset..self.offset + n]);
            self.offset += n;
            into = &mut into[n..];
        }
    }
}

mod shared;

use shared::body_chunks;

#[cfg(any(test, feature = "testing"))]
mod audit;

#[cfg(test)]
mod tests;
