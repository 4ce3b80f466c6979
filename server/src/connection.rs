//! One TCP connection: a reader task feeding the hub, a writer task
//! draining the connection's outbox.

use std::cell::RefCell;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use async_net::TcpStream;
use natter_core::framer::{Line, LineFramer};
use natter_core::protocol::{self, ByeReason, FrameError, ServerFrame};
use natter_core::session::ConnId;
use smol::future::FutureExt;
use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::{Async, LocalExecutor, Timer};

use crate::debug;
use crate::outbox::Outbox;
use crate::server::Server;

/// How long a closing connection may take to send its last frames.
const LINGER: Duration = Duration::from_secs(2);

/// Registers a new connection with the hub and starts its tasks.
/// `writers` is held by each writer task so shutdown can wait for them.
pub fn spawn(
    ex: &LocalExecutor<'_>,
    server: &Rc<RefCell<Server>>,
    stream: TcpStream,
    peer: SocketAddr,
    writers: smol::channel::Sender<()>,
) {
    // Frames are small and each is wanted at once: without this, Nagle's
    // algorithm and the peer's delayed ACK stall a reply by ~40 ms.
    if let Err(error) = stream.set_nodelay(true) {
        debug!("{peer}: TCP_NODELAY: {error}");
    }
    let connected = server.borrow_mut().connect(peer.ip());
    let Ok(conn) = connected else {
        debug!("{peer}: refused, every connection slot is taken");
        ex.spawn(refuse_full(stream)).detach();
        return;
    };
    debug!("conn {}: connected from {peer}", conn.slot());
    let outbox = server.borrow_mut().world.outbox(conn);
    ex.spawn(write_loop(outbox, stream.clone(), writers))
        .detach();
    ex.spawn(read_loop(server.clone(), conn, stream)).detach();
}

async fn read_loop(server: Rc<RefCell<Server>>, conn: ConnId, mut stream: TcpStream) {
    let mut framer = LineFramer::new();
    let source: Arc<Async<std::net::TcpStream>> = stream.clone().into();
    loop {
        let n = match stream.read(framer.spare()).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(error) => {
                debug!("conn {}: read error: {error}", conn.slot());
                break;
            }
        };
        framer.filled(n);
        while let Some(line) = framer.next_line() {
            let mut server = server.borrow_mut();
            match line {
                // Blank lines are ignored, as a courtesy to people typing
                // frames by hand in telnet or nc.
                Line::Complete(blank) if blank.iter().all(u8::is_ascii_whitespace) => {}
                Line::Complete(bytes) => match protocol::decode_client(bytes) {
                    Ok(frame) => server.receive(conn, frame),
                    Err(cause) => {
                        debug!("conn {}: not a frame: {cause:?}", conn.slot());
                        server.reject(conn, FrameError::Malformed);
                    }
                },
                Line::TooLong => server.reject(conn, FrameError::TooLong),
            }
        }
        // One read's frames at a time (at most the framer's buffer), then
        // wait for the reactor to say there is more, as every other reader
        // does: a read that is always ready never yields in smol, so one
        // flooding connection would hold the only thread, and readers that
        // have data at every turn would leave those the reactor wakes (the
        // acknowledgements of a busy receiver) far behind.
        if source.readable().await.is_err() {
            break;
        }
    }
    debug!("conn {}: closed by peer", conn.slot());
    server.borrow_mut().disconnect(conn);
}

async fn write_loop(
    outbox: Rc<Outbox>,
    mut stream: TcpStream,
    _writers: smol::channel::Sender<()>,
) {
    let mut chunk = [0u8; 4096];
    loop {
        let n = outbox.take(&mut chunk);
        if n == 0 {
            if outbox.wait().await {
                continue;
            }
            break;
        }
        // Once the connection is closing, a peer that does not read gets
        // LINGER to take its last frames, not forever.
        let sent = async { stream.write_all(&chunk[..n]).await.is_ok() };
        let gave_up = async {
            outbox.closed().await;
            Timer::after(LINGER).await;
            false
        };
        if !sent.or(gave_up).await {
            break;
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
}

/// Tells a connection there is no room, then closes it.
async fn refuse_full(mut stream: TcpStream) {
    let mut buf = [0u8; 64];
    let bye = ServerFrame::Bye {
        reason: ByeReason::ServerFull,
    };
    if let Ok(n) = protocol::encode(&bye, &mut buf) {
        let sent = async { stream.write_all(&buf[..n]).await.is_ok() };
        let _ = sent
            .or(async {
                Timer::after(LINGER).await;
                false
            })
            .await;
    }
    let _ = stream.shutdown(Shutdown::Both);
}
