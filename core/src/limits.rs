//! Every limit of natter in one place (R26).
//!
//! How many accounts and connections a server takes, and how much room
//! its messages have, is its owner's choice at start (`capacity.rs`); the
//! defaults here fit the ten sample accounts of `credentials.txt` with
//! room to spare. The rest are fixed. Every limit that a user can hit has
//! a user-visible error (see `text.rs`).

/// Accounts a server holds by default (`--max-accounts`): the sample
/// file's ten, plus new ones.
pub const DEFAULT_ACCOUNTS: usize = 32;

/// TCP connections at once by default (`--max-connections`), logged in or
/// still at the login prompts.
pub const DEFAULT_CONNECTIONS: usize = 24;

/// Of those, how many only connections for an existing account may use:
/// once the others are all at the login prompts, a new connection may
/// log in but not sign up, so strangers cannot keep the known users out.
pub const RESERVED_CONNECTIONS: usize = 8;

/// Connections from one address that may be at the login prompts at once
/// (`--per-address`); 0: no limit. Logged-in users do not count, so many
/// users behind one address can still be online together.
pub const PROMPTS_PER_ADDRESS: u8 = 4;

/// How long a connection may take to finish the login prompts
/// (`--login-timeout`), however busy it keeps them: a slot cannot be held
/// by answering slowly.
pub const LOGIN_MS: u64 = 20_000;

/// Failed logins from one address, whatever the usernames, before its
/// login prompts are read more slowly (`suspects.rs`): R8's three, so a
/// person who mistypes is never slowed.
pub const FREE_FAILURES: u16 = 3;

/// The longest wait between two login attempts from a slowed address.
pub const MAX_WAIT_MS: u64 = 30_000;

/// Failed logins from one address that block it.
pub const ADDRESS_FAILURES: u16 = 10;

/// How long an address is first blocked for; twice as long each time
/// after.
pub const ADDRESS_BLOCK_MS: u64 = 10 * 60_000;

/// An address without a failed login for this long starts afresh.
pub const FORGET_MS: u64 = 15 * 60_000;

/// Addresses whose failed logins are remembered at once; when full, the
/// one quiet the longest is forgotten.
pub const SUSPECTS: usize = 16;

/// New accounts one address may make per hour while sign-up is open
/// (`--signups-per-hour`); 0: no limit.
pub const SIGNUPS_PER_HOUR: u8 = 3;

/// The window those are counted in.
pub const SIGNUP_WINDOW_MS: u64 = 60 * 60_000;

/// Addresses whose sign-ups are counted at once.
pub const SIGNUP_ADDRESSES: usize = 16;

/// Users one user may block at once (R15): as many as a server of the
/// default size has others.
pub const BLACKLIST_MAX: usize = DEFAULT_ACCOUNTS;

/// Names in one `Users` frame: a longer answer to `whoelse` comes in
/// pages (`output.rs`).
pub const NAMES_PER_FRAME: usize = 32;

/// Longest username, in bytes (usernames are ASCII, R3).
pub const NAME_MAX: usize = 32;

/// Longest password, in bytes (passwords are ASCII, R3).
pub const PASSWORD_MAX: usize = 64;

/// Longest password hash (a PHC string) kept for an account, in bytes;
/// natter's are 97.
pub const HASH_MAX: usize = 128;

/// Longest message text, in bytes of UTF-8.
pub const TEXT_MAX: usize = 512;

/// Bytes of messages waiting for all users together (the store that every
/// mailbox draws from, `store.rs`), by default, for each account: letters
/// kept while they are offline. A message takes what it needs, in chunks
/// of `CHUNK_BYTES`: a 26-byte header, the sender's name and the text, so
/// a short message takes 64 bytes and the longest 576.
pub const STORE_BYTES_PER_ACCOUNT: usize = 1024;

/// And for each connection: letters on their way to a user online. With
/// the default accounts and connections, a store of 128 KiB.
pub const STORE_BYTES_PER_CONNECTION: usize = 4096;

/// Bytes of messages one user may have waiting: stored while offline, or
/// sent and not yet acknowledged by their client (R17, R26, R27). 256
/// short messages, or 28 of the longest: a sender with 32 in flight stays
/// well inside it.
pub const MAILBOX_BYTES: usize = 16 * 1024;

/// Bytes of messages one user may have kept in the store for users who
/// are offline: a share of it, so one sender cannot fill it for everyone.
/// Messages to users online do not count (their mailboxes bound them).
pub const SENDER_BYTES: usize = 32 * 1024;

/// Bytes of messages that may be kept for all the accounts together that
/// were created since the server started and have not logged in again:
/// accounts made only to be messaged cannot take the store.
pub const NEWCOMER_BYTES: usize = 8 * 1024;

/// The store's unit of space.
pub const CHUNK_BYTES: usize = 64;

/// Longest frame on the wire, in bytes, not counting the line feed. A
/// message of `TEXT_MAX` bytes escapes to at most six bytes per byte
/// (`\u001b`), so the largest legal frame stays well below this.
pub const FRAME_MAX: usize = 4096;

/// Consecutive bad frames (malformed, too long, out of place) after which
/// the server closes a connection instead of answering each one.
pub const MAX_BAD_FRAMES: u8 = 8;

/// Wrong passwords in a row that block a username (R8).
pub const MAX_PASSWORD_FAILURES: u8 = 3;

/// How long before an idle logout (R9) the user is warned, at most: a
/// tenth of the timeout when that is shorter.
pub const IDLE_WARNING_MS: u64 = 10_000;

/// How long a private messaging request waits for its answer (R19).
pub const PRIVATE_ANSWER_MS: u64 = 60_000;

/// Bytes of frames other than messages (prompts, replies, notices) the
/// hub holds for one connection until the shell takes them
/// (`output.rs`). Messages are not copied there: they are read from the
/// store as the shell takes them. A client that leaves this much unread
/// on top of what its socket buffers hold has stopped reading, and is
/// dropped.
pub const CONTROL_BYTES: usize = 2048;
/// Room a connection's queue must have before another of its commands is
/// taken: more than the longest reply to one command (a `whoelse` answer
/// is written as the shell takes it, a page at a time). Less, and the shell
/// writes the queue out first, or stops reading a client that does not
/// read its replies, rather than drop it.
pub const REPLY_ROOM: usize = 1200;
/// How long a closing connection may take to read its last frames before
/// the hub frees its slot.
pub const CLOSING_MS: u64 = 2_000;
/// How long the journal gathers changes that nobody waits to see (letters
/// to users online, read marks) before it takes them: a letter read
/// meanwhile needs no record and no sync. Changes someone waits for
/// (`Stored`, a block) are taken at once.
pub const JOURNAL_GATHER_MS: u64 = 20;
/// Commands a connection may send per second, on average, before the
/// server reads it more slowly (`rate.rs`); 0: no limit.
pub const COMMANDS_PER_SECOND: u32 = 200;
/// Commands it may send at once above that rate: a paste of this many
/// lines goes through at full speed.
pub const COMMAND_BURST: u32 = 400;
/// The most memory the whole hub may take at the default capacity:
/// checked by `core/tests/size.rs` on every target CI builds. Most of it
/// is the message store (128 KiB, and a 4-byte link per chunk); other
/// capacities cost what `Capacity::table_bytes` says.
pub const HUB_BUDGET_BYTES: usize = 216 * 1024;
