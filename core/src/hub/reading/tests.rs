//! When the shell may read a connection (issue 24): the hub says so, and
//! marks the connection ready when a stall ends.

use std::vec::Vec;

use super::Stall;
use crate::hub::Hub;
use crate::hub::tests::{
    START, World, at_password_prompt, hub_with_sample_accounts, login_sample, message, ms, name,
    password,
};
use crate::protocol::{ClientFrame, ServerFrame};
use crate::session::ConnId;

/// Every connection the hub marked ready, in order.
fn ready(hub: &mut Hub) -> Vec<ConnId> {
    core::iter::from_fn(|| hub.poll_ready()).collect()
}

fn stall(hub: &Hub, conn: ConnId) -> Option<Stall> {
    hub.sessions.get(conn).and_then(|s| s.stall)
}

#[test]
fn over_its_rate_a_connection_is_read_again_at_its_time() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    let mut read = 0;
    while hub.may_read(hans, START) {
        world.receive(&mut hub, hans, ClientFrame::WhoElse {}, START);
        read += 1;
    }
    // The login took two commands of the burst; the bucket is read as
    // long as it is not in debt, so the last one overdraws it.
    assert_eq!(read, hub.config.rate.burst - 1);
    let at = hub.read_after(hans, START).unwrap();
    assert_eq!(stall(&hub, hans), Some(Stall::Until(at)));
    assert_eq!(hub.poll_timeout(), Some(at), "the next deadline");
    hub.handle_timeout(ms(at, 0));
    assert_eq!(ready(&mut hub), [hans]);
    assert!(hub.may_read(hans, at));
}

#[test]
fn while_its_password_is_checked_a_connection_is_not_read() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = at_password_prompt(&mut hub, &mut world, "hans", START);
    // Straight to the hub: no shell answers the check yet.
    hub.receive(hans, &password("falcon*solo"), START);
    assert!(!hub.may_read(hans, START));
    assert_eq!(stall(&hub, hans), Some(Stall::Answer));
    ready(&mut hub);
    // The shell's answer, as the test's world gives it after any call,
    // ends the stall.
    world.handle_timeout(&mut hub, START);
    assert!(
        world
            .take(hans)
            .contains(&ServerFrame::Welcome { waiting: 0 })
    );
    assert_eq!(stall(&hub, hans), None, "marked ready, to be read again");
    assert!(hub.may_read(hans, START));
}

/// The bug of issue 24: messages pipelined to a user offline while the
/// journal is slow. Their `Stored` replies wait for the sync, so the
/// sender's queue fills: the hub stops reading it (rather than let a
/// reply out early, or drop it), and reads it again once the sync lets
/// the replies out.
#[test]
fn replies_waiting_for_a_slow_journal_stop_the_reading_not_the_promise() {
    let mut hub = hub_with_sample_accounts();
    let mut world = World::default();
    let hans = login_sample(&mut hub, &mut world, "hans", START);
    world.take(hans);
    world.hold_syncs = true;
    let mut sent = 0;
    while hub.may_read(hans, START) {
        world.receive(&mut hub, hans, message("luke", "kept"), START);
        sent += 1;
        assert!(sent < 100, "never stopped reading");
    }
    assert_eq!(stall(&hub, hans), Some(Stall::Room));
    assert_eq!(world.take(hans), [], "nothing stored before it is kept");
    let mut stored = 0;
    while stored < 100 {
        world.sync_held(&mut hub);
        let replies = world.take(hans);
        assert!(
            replies
                .iter()
                .all(|r| *r == ServerFrame::Stored { user: name("luke") })
        );
        stored += replies.len();
        assert!(stored <= sent, "{stored} stored of {sent} sent");
        // Its replies are out: marked ready, to be read again.
        assert_eq!(stall(&hub, hans), None);
        while sent < 100 && hub.may_read(hans, START) {
            world.receive(&mut hub, hans, message("luke", "kept"), START);
            sent += 1;
        }
    }
    assert!(!world.is_closed(hans), "never dropped");
}
