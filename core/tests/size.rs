//! How much memory a hub takes, against the documented budget
//! (`limits::HUB_BUDGET_BYTES`) at the default capacity. Run with
//! `--nocapture` to see the figures; CI does, on x86_64, aarch64 and armv7.

use std::mem::size_of;

use natter_core::framer::LineFramer;
use natter_core::hub::{BYTES_PER_ACCOUNT, BYTES_PER_CHUNK, BYTES_PER_CONNECTION};
use natter_core::limits::HUB_BUDGET_BYTES;
use natter_core::protocol::{ClientFrame, ServerFrame};
use natter_core::session::Slot;
use natter_core::store::Letter;
use natter_core::user::User;
use natter_core::{Capacity, Hub};

#[test]
fn the_hub_fits_its_budget() {
    let default = Capacity::default();
    let large = Capacity::new(20_000, 1_100);
    let rows = [
        ("Hub (its own fields)", size_of::<Hub>()),
        ("per account", BYTES_PER_ACCOUNT),
        ("  User", size_of::<User>()),
        ("per connection", BYTES_PER_CONNECTION),
        ("  Slot (a session)", size_of::<Slot>()),
        ("per 64-byte chunk of the store", BYTES_PER_CHUNK),
        ("Letter (as read back)", size_of::<Letter>()),
        (
            "LineFramer (per connection, server)",
            size_of::<LineFramer>(),
        ),
        ("ServerFrame", size_of::<ServerFrame>()),
        ("ClientFrame", size_of::<ClientFrame>()),
        ("tables, default capacity", default.table_bytes()),
        ("tables, 20,000 accounts, 1,100 conns", large.table_bytes()),
    ];
    println!("natter-core sizes on {}:", std::env::consts::ARCH);
    for (what, bytes) in rows {
        println!("  {what:<38} {bytes:>9} bytes");
    }
    let total = size_of::<Hub>() + default.table_bytes();
    println!("  hub at the default capacity           {total:>9} bytes");
    println!("  budget for it                          {HUB_BUDGET_BYTES:>9} bytes");
    assert!(
        total <= HUB_BUDGET_BYTES,
        "the hub takes {total} bytes at the default capacity, over its budget of \
         {HUB_BUDGET_BYTES}: shrink a limit or raise the budget in core/src/limits.rs"
    );
    // The formula is what a hub allocates.
    assert_eq!(
        default.table_bytes(),
        default.accounts * BYTES_PER_ACCOUNT
            + default.connections * BYTES_PER_CONNECTION
            + default.chunks() * BYTES_PER_CHUNK
    );
}
