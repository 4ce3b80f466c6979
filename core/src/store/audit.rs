//! The store checked whole, for the simulator (issue 25): every chunk is
//! in exactly one letter, one shared body or the free list, every count
//! and share agrees with the letters there are, and every body is counted
//! by the letters that link to it.

use std::collections::BTreeMap;
use std::format;
use std::string::String;
use std::vec;
use std::vec::Vec;

use super::{
    FLAGS, KEPT, Link, NAME_LEN, NIL, SENDER, SHARED, Store, TEXT_LEN, at, body_chunks, charge, le,
};

/// Who holds a chunk (read through `Debug`, in an error).
#[derive(Clone, Copy, Debug)]
#[allow(dead_code)]
enum Owner {
    Free,
    /// The letter of this id.
    Letter(u64),
    /// The body starting in this chunk.
    Body(Link),
}

/// Who holds each chunk, so that none is held twice.
struct Owners {
    owner: Vec<Option<Owner>>,
    claimed: usize,
}

impl Owners {
    /// `chunk` and the rest of its chain are `by`'s; how many chunks.
    fn claim_chain(&mut self, store: &Store, mut chunk: Link, by: Owner) -> Result<usize, String> {
        let mut count = 0;
        while chunk != NIL {
            self.claim(chunk, by)?;
            count += 1;
            chunk = store.links[at(chunk)];
        }
        Ok(count)
    }

    fn claim(&mut self, chunk: Link, by: Owner) -> Result<(), String> {
        let slot = self
            .owner
            .get_mut(at(chunk))
            .ok_or_else(|| format!("link to chunk {chunk}, past the arena"))?;
        if let Some(held) = slot {
            return Err(format!("chunk {chunk} is held twice ({held:?} and {by:?})"));
        }
        *slot = Some(by);
        self.claimed += 1;
        Ok(())
    }
}

/// A shared body as its sender's list has it.
struct Body {
    sender: usize,
    refs: u32,
    posted: u64,
    lengths: (usize, usize),
    /// Letters found linking to it.
    linked: u32,
}

impl Store {
    /// Every chunk accounted for; the first inconsistency found, if any.
    pub fn audit(&self) -> Result<(), String> {
        let chunk_count = self.capacity();
        let mut owners = Owners {
            owner: vec![None; chunk_count],
            claimed: 0,
        };
        let free = owners.claim_chain(self, self.free, Owner::Free)?;
        if free != self.free_chunks {
            return Err(format!("{free} chunks free, counted {}", self.free_chunks));
        }
        let mut bodies = self.audit_bodies(&mut owners)?;
        let mut kept = vec![0u16; self.boxes.len()];
        let mut newcomer_chunks = 0;
        for (to, mailbox) in self.boxes.iter().enumerate() {
            let (mut letters, mut chunks, mut last_id, mut last) = (0, 0, 0, NIL);
            let mut head = mailbox.first;
            while head != NIL {
                let id = self.id_of(head);
                if id <= last_id || id >= self.next_id {
                    return Err(format!("mailbox {to}: id {id} after {last_id}"));
                }
                let header = self.chunk(head);
                let sender = usize::from(u16::from_le_bytes(le(&header[SENDER..])));
                let lengths = (
                    usize::from(header[NAME_LEN]),
                    usize::from(u16::from_le_bytes(le(&header[TEXT_LEN..]))),
                );
                let size = charge(lengths.0, lengths.1);
                let by = Owner::Letter(id);
                if header[FLAGS] & SHARED != 0 {
                    owners.claim(head, by)?;
                    if self.links[at(head)] != NIL {
                        return Err(format!("shared letter {id} is more than a chunk"));
                    }
                    let link = self.body_of(head);
                    let body = bodies
                        .get_mut(&link)
                        .ok_or_else(|| format!("letter {id} links to {link}, no body"))?;
                    let posted = u64::from_le_bytes(le(&header[8..16]));
                    if (body.sender, body.posted, body.lengths) != (sender, posted, lengths) {
                        return Err(format!("letter {id} and its body {link} disagree"));
                    }
                    body.linked += 1;
                } else {
                    let chain = owners.claim_chain(self, head, by)?;
                    if chain != size {
                        return Err(format!("letter {id} takes {chain} chunks, not {size}"));
                    }
                }
                if header[FLAGS] & KEPT != 0 {
                    let share = kept
                        .get_mut(sender)
                        .ok_or_else(|| format!("letter {id} from sender {sender}"))?;
                    *share += size as u16;
                }
                letters += 1;
                chunks += size as u16;
                last_id = id;
                last = head;
                head = self.next_letter(head);
            }
            if mailbox.newcomer {
                newcomer_chunks += usize::from(chunks);
            }
            if (letters, chunks, last) != (mailbox.letters, mailbox.chunks, mailbox.last) {
                return Err(format!(
                    "mailbox {to}: {letters} letters in {chunks} chunks, counted {} in {}",
                    mailbox.letters, mailbox.chunks
                ));
            }
        }
        for (link, body) in &bodies {
            if body.linked != body.refs {
                return Err(format!(
                    "body {link} counts {} letters, {} link to it",
                    body.refs, body.linked
                ));
            }
        }
        // Each chunk claimed at most once: all claimed if as many as there
        // are.
        if owners.claimed != chunk_count {
            return Err(format!(
                "{} chunks free, in letters or in bodies, of {chunk_count}",
                owners.claimed
            ));
        }
        for (user, (&kept, mailbox)) in kept.iter().zip(self.boxes.iter()).enumerate() {
            if kept != mailbox.kept {
                return Err(format!(
                    "user {user} keeps {kept} chunks, counted {}",
                    mailbox.kept
                ));
            }
        }
        if newcomer_chunks != self.newcomer_chunks {
            return Err(format!(
                "newcomers' letters take {newcomer_chunks} chunks, counted {}",
                self.newcomer_chunks
            ));
        }
        Ok(())
    }

    /// Every sender's list of bodies, linked both ways, each body claimed.
    fn audit_bodies(&self, owners: &mut Owners) -> Result<BTreeMap<Link, Body>, String> {
        let mut bodies = BTreeMap::new();
        for (sender, mailbox) in self.boxes.iter().enumerate() {
            let (mut newer, mut link) = (NIL, mailbox.bodies);
            while link != NIL {
                let header = self.body_header(link);
                if header.newer != newer {
                    return Err(format!("body {link} of {sender}: newer {}", header.newer));
                }
                if header.refs == 0 {
                    return Err(format!("body {link} of {sender} is linked to by none"));
                }
                let chain = owners.claim_chain(self, link, Owner::Body(link))?;
                let lengths = (header.name_len, header.text_len);
                if chain != body_chunks(lengths.0, lengths.1) {
                    return Err(format!("body {link} of {sender} takes {chain} chunks"));
                }
                let body = Body {
                    sender,
                    refs: header.refs,
                    posted: header.posted,
                    lengths,
                    linked: 0,
                };
                bodies.insert(link, body);
                newer = link;
                link = header.older;
            }
        }
        Ok(bodies)
    }
}
