//! The open-files limit, raised at start as far as the hard limit allows:
//! every connection is a descriptor, and the soft limit most systems start
//! a process with (1,024) is less than a large `--max-connections` needs.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Descriptors the server holds besides its connections: the listener,
/// the poller and its waker, the signal pipe, the journal and the
/// credentials file, standard streams, with room to spare.
pub const OTHER_FILES: u64 = 32;

/// Raises the soft limit to the hard one; returns a line to print if the
/// limit is still too low for `connections`.
pub fn raise_for(connections: usize) -> Option<String> {
    let limit = getrlimit(Resource::Nofile);
    let raised = Rlimit {
        current: limit.maximum,
        maximum: limit.maximum,
    };
    // None is no limit at all.
    let now = match setrlimit(Resource::Nofile, raised) {
        Ok(()) => limit.maximum,
        Err(_) => limit.current,
    };
    let needed = connections as u64 + OTHER_FILES;
    match now {
        Some(now) if now < needed => Some(format!(
            "the open-files limit is {now}, too low for --max-connections {connections} \
             (it needs about {needed}): connections past it wait unanswered until \
             it is raised (ulimit -Hn, or LimitNOFILE= in the systemd unit)"
        )),
        _ => None,
    }
}
