//! A broadcast's name and text, stored once for all its recipients (issue
//! 26): each recipient's letter is one chunk, its header and a link to the
//! body; the body is a chain of chunks that counts the letters linking to
//! it and is freed with the last. A broadcast of 512 bytes to 1,000 users
//! takes 1,009 chunks instead of 9,000.
//!
//! A sender's bodies are in a list of their own, newest first: the next
//! recipient of a broadcast being posted finds its body at the front, and
//! a journal replayed (whose letters come mailbox by mailbox after a
//! rewrite) finds each body again by its time and bytes, so a restart
//! rebuilds the sharing and fits in the store that held it.
//!
//! A body's first chunk starts with its header: the count (4 bytes), the
//! newer and older bodies of its sender (4 each), when it was posted (8),
//! the text's length (2) and the name's (1); the name and text follow.

use super::{BODY, CHUNK_BYTES, ChainReader, ChainWriter, Link, NIL, Post, Store, le};
use crate::limits::{NAME_MAX, TEXT_MAX};

const REFS: usize = 0;
const NEWER: usize = 4;
const OLDER: usize = 8;
const POSTED: usize = 12;
const TEXT_LEN: usize = 20;
const NAME_LEN: usize = 22;
const BODY_HEADER: usize = 23;

const _: () = assert!(CHUNK_BYTES > BODY_HEADER);

/// Chunks a body of this name and text takes.
pub(super) fn body_chunks(name_len: usize, text_len: usize) -> usize {
    (BODY_HEADER + name_len + text_len).div_ceil(CHUNK_BYTES)
}

impl Store {
    /// The body the shared letter starting at `head` links to.
    pub(super) fn body_of(&self, head: Link) -> Link {
        self.link_at(head, BODY)
    }

    /// Reads a body's name and text, in that order.
    pub(super) fn body_reader(&self, body: Link) -> ChainReader<'_> {
        ChainReader {
            store: self,
            chunk: body,
            offset: BODY_HEADER,
        }
    }

    /// Among the first `scan` bodies of `post`'s sender, the one with its
    /// time, name and text.
    pub(super) fn find_body(&self, post: &Post<'_>, scan: usize) -> Option<Link> {
        let mut body = self.boxes[post.sender.index()].bodies;
        for _ in 0..scan {
            if body == NIL {
                return None;
            }
            if self.body_holds(body, post) {
                return Some(body);
            }
            body = self.link_at(body, OLDER);
        }
        None
    }

    fn body_holds(&self, body: Link, post: &Post<'_>) -> bool {
        let chunk = self.chunk(body);
        let (name, text) = (post.from.as_bytes(), post.text.as_bytes());
        let same_header = u64::from_le_bytes(le(&chunk[POSTED..])) == post.now.millis()
            && usize::from(u16::from_le_bytes(le(&chunk[TEXT_LEN..]))) == text.len()
            && usize::from(chunk[NAME_LEN]) == name.len();
        if !same_header {
            return false;
        }
        let mut bytes = [0; NAME_MAX + TEXT_MAX];
        let held = &mut bytes[..name.len() + text.len()];
        self.body_reader(body).read(held);
        let (held_name, held_text) = held.split_at(name.len());
        held_name == name && held_text == text
    }

    /// A new body for `post`, linked to once, at the front of its sender's
    /// list. Its chunks must be free.
    pub(super) fn new_body(&mut self, post: &Post<'_>) -> Link {
        let (name, text) = (post.from.as_bytes(), post.text.as_bytes());
        let body = self.take_chunks(body_chunks(name.len(), text.len()));
        let older = self.boxes[post.sender.index()].bodies;
        let mut header = [0u8; BODY_HEADER];
        header[REFS..NEWER].copy_from_slice(&1u32.to_le_bytes());
        header[NEWER..OLDER].copy_from_slice(&NIL.to_le_bytes());
        header[OLDER..POSTED].copy_from_slice(&older.to_le_bytes());
        header[POSTED..TEXT_LEN].copy_from_slice(&post.now.millis().to_le_bytes());
        header[TEXT_LEN..NAME_LEN].copy_from_slice(&(text.len() as u16).to_le_bytes());
        header[NAME_LEN] = name.len() as u8;
        let mut writer = ChainWriter::new(self, body);
        writer.write(&header);
        writer.write(name);
        writer.write(text);
        if older != NIL {
            self.set_link_at(older, NEWER, body);
        }
        self.boxes[post.sender.index()].bodies = body;
        body
    }

    /// One more letter links to `body`; `body`.
    pub(super) fn add_ref(&mut self, body: Link) -> Link {
        let refs = self.link_at(body, REFS);
        self.set_link_at(body, REFS, refs + 1);
        body
    }

    /// A letter of `sender`'s that linked to `body` is gone: the body goes
    /// with the last.
    pub(super) fn drop_ref(&mut self, body: Link, sender: usize) {
        let refs = self.link_at(body, REFS).saturating_sub(1);
        self.set_link_at(body, REFS, refs);
        if refs > 0 {
            return;
        }
        let (newer, older) = (self.link_at(body, NEWER), self.link_at(body, OLDER));
        match newer {
            NIL => self.boxes[sender].bodies = older,
            newer => self.set_link_at(newer, OLDER, older),
        }
        if older != NIL {
            self.set_link_at(older, NEWER, newer);
        }
        self.release(body);
    }

    /// The 4 bytes at `offset` in chunk `link` (a link or a count).
    pub(super) fn link_at(&self, link: Link, offset: usize) -> Link {
        Link::from_le_bytes(le(&self.chunk(link)[offset..]))
    }

    fn set_link_at(&mut self, link: Link, offset: usize, value: Link) {
        self.chunk_mut(link)[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
    }
}

/// What the audit reads of a body's header.
#[cfg(any(test, feature = "testing"))]
pub(super) struct BodyHeader {
    pub refs: u32,
    pub newer: Link,
    pub older: Link,
    pub posted: u64,
    pub text_len: usize,
    pub name_len: usize,
}

#[cfg(any(test, feature = "testing"))]
impl Store {
    pub(super) fn body_header(&self, body: Link) -> BodyHeader {
        let chunk = self.chunk(body);
        BodyHeader {
            refs: self.link_at(body, REFS),
            newer: self.link_at(body, NEWER),
            older: self.link_at(body, OLDER),
            posted: u64::from_le_bytes(le(&chunk[POSTED..])),
            text_len: usize::from(u16::from_le_bytes(le(&chunk[TEXT_LEN..]))),
            name_len: usize::from(chunk[NAME_LEN]),
        }
    }
}
