//! The durable part of the hub's state, as the changes a journal holds
//! (issue 11): letters waiting, what each user has read, blacklists and
//! password blocks. Accounts live in `credentials.txt`, so changes name
//! users rather than index them (an account removed by the owner drops
//! what was kept for it). The hub emits changes from its live state
//! (`Hub::poll_change`) and is rebuilt from them at start-up
//! (`Hub::replay`); how they reach the disk is the shell's business.

use serde::{Deserialize, Serialize};

use crate::credential::Name;
use crate::limits::{BLACKLIST_MAX, FRAME_MAX, NAME_MAX};
use crate::protocol::{self, DecodeError, Text};

/// The longest encoded change, line feed included: a letter is a message
/// frame plus its recipient's name and the time it was posted.
pub const CHANGE_MAX: usize = FRAME_MAX + NAME_MAX + 64;

/// The names on a blacklist, as a change holds them.
pub type Blocked = heapless::Vec<Name, BLACKLIST_MAX>;

/// A buffer for one encoded change.
pub type ChangeBuf = [u8; CHANGE_MAX];

/// One change of durable state. Instants are the hub's, which the server
/// keeps as milliseconds since the Unix epoch, so they mean the same after
/// a restart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Change {
    /// The last letter id given out, so ids never go back after a
    /// compaction leaves no letter to tell.
    Ids { latest: u64 },
    /// A letter posted, waiting for `to`.
    Letter {
        id: u64,
        to: Name,
        from: Name,
        text: Text,
        broadcast: bool,
        posted: u64,
        /// Kept for `to` while offline: counted in `from`'s share.
        kept: bool,
    },
    /// `user` has read every letter up to `id`.
    Read { user: Name, id: u64 },
    /// Everyone `user` has blocked now (R15, R16).
    Blacklist { user: Name, blocked: Blocked },
    /// `user` may not log in before `until` (R8); a past `until`: not blocked.
    Blocked { user: Name, until: u64 },
}

/// Decodes one change from a line without its line feed.
pub fn decode(line: &[u8]) -> Result<Change, DecodeError> {
    protocol::decode(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::TEXT_MAX;

    #[test]
    fn the_largest_change_fits_and_reads_back() {
        let text = Text::try_from("\u{1}".repeat(TEXT_MAX).as_str()).unwrap();
        let name = Name::try_from("\"".repeat(NAME_MAX).as_str()).unwrap();
        let change = Change::Letter {
            id: u64::MAX,
            to: name.clone(),
            from: name,
            text,
            broadcast: true,
            posted: u64::MAX,
            kept: true,
        };
        let mut buf = [0u8; CHANGE_MAX];
        let n = protocol::encode(&change, &mut buf).unwrap();
        assert_eq!(decode(&buf[..n - 1]).unwrap(), change);
        assert!(!buf[..n].contains(&0), "a payload never holds a zero byte");
    }
}
