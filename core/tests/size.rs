//! How much memory natter-core's fixed tables take, against the documented
//! budget (`limits::HUB_BUDGET_BYTES`). Run with `--nocapture` to see the
//! figures; CI does, on x86_64, aarch64 and armv7.

use std::mem::size_of;

use natter_core::Hub;
use natter_core::framer::LineFramer;
use natter_core::limits::HUB_BUDGET_BYTES;
use natter_core::protocol::{ClientFrame, ServerFrame};
use natter_core::session::Sessions;
use natter_core::store::{Letter, Store};
use natter_core::user::{User, Users};

#[test]
fn the_hub_fits_its_budget() {
    let rows = [
        ("Hub", size_of::<Hub>()),
        ("  Store", size_of::<Store>()),
        ("    Letter (as read back)", size_of::<Letter>()),
        ("  Users", size_of::<Users>()),
        ("    User", size_of::<User>()),
        ("  Sessions", size_of::<Sessions>()),
        ("LineFramer (per connection)", size_of::<LineFramer>()),
        ("ServerFrame", size_of::<ServerFrame>()),
        ("ClientFrame", size_of::<ClientFrame>()),
    ];
    println!("natter-core sizes on {}:", std::env::consts::ARCH);
    for (what, bytes) in rows {
        println!("  {what:<30} {bytes:>7} bytes");
    }
    println!("  budget for Hub                 {HUB_BUDGET_BYTES:>7} bytes");
    assert!(
        size_of::<Hub>() <= HUB_BUDGET_BYTES,
        "the hub takes {} bytes, over its budget of {HUB_BUDGET_BYTES}: \
         shrink a limit or raise the budget in core/src/limits.rs",
        size_of::<Hub>()
    );
}
