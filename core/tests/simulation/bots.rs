//! The simulated clients: each a person at natter's client, who logs in
//! (now and then with a wrong password, or as someone new), chats, blocks,
//! asks for private chats, stops reading and hangs up.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr};

use natter_core::ConnId;

use crate::model::Expect;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prompt {
    /// Connected, no prompt seen yet, or an answer being checked.
    None,
    Username,
    Password,
    NewPassword,
    Online,
    /// Said goodbye to; waiting to be closed.
    Closing,
}

pub struct Bot {
    pub addr: IpAddr,
    pub conn: Option<ConnId>,
    /// Which connection of this bot: letters' senders are told apart by it.
    pub generation: u64,
    pub prompt: Prompt,
    /// The name typed at the last username prompt.
    pub name: String,
    /// When it typed its answer to the last password prompt.
    pub password_at: Option<u64>,
    /// Reads what the server sends; if not, it stays in the hub.
    pub reading: bool,
    /// The last letter shown on this connection, and the last acknowledged.
    pub shown: u64,
    pub acked: u64,
    /// Replies owed to this connection, in order.
    pub owed: VecDeque<Expect>,
    /// A private request waiting for this bot's answer, from whom.
    pub question: Option<String>,
    /// Peers this bot was told to admit, with their secrets.
    pub expects: Vec<(String, String)>,
    /// Whom this bot said yes to, and on which port.
    pub answered: Vec<(String, u16)>,
    /// How often, in a hundred turns, it acknowledges what it was shown:
    /// some readers are slow.
    pub acks: u64,
    /// How often, in a hundred, it types a wrong password.
    pub typos: u64,
}

impl Bot {
    pub fn new(index: usize, acks: u64, typos: u64) -> Bot {
        Bot {
            addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, index as u8 + 1)),
            conn: None,
            generation: 0,
            prompt: Prompt::None,
            name: String::new(),
            password_at: None,
            reading: true,
            shown: 0,
            acked: 0,
            owed: VecDeque::new(),
            question: None,
            expects: Vec::new(),
            answered: Vec::new(),
            acks,
            typos,
        }
    }

    /// A new connection.
    pub fn connected(&mut self, conn: ConnId) {
        self.gone();
        self.conn = Some(conn);
        self.generation += 1;
    }

    /// The connection is gone: what was owed to it is lost with it.
    pub fn gone(&mut self) {
        self.conn = None;
        self.prompt = Prompt::None;
        self.reading = true;
        self.shown = 0;
        self.acked = 0;
        self.owed.clear();
        self.question = None;
        self.expects.clear();
        self.answered.clear();
    }

    /// The port this bot listens on for private chats: one per bot and
    /// connection, so an introduction names the session that said yes.
    pub fn port(&self) -> u16 {
        let index = match self.addr {
            IpAddr::V4(v4) => u16::from(v4.octets()[3]),
            IpAddr::V6(_) => 0,
        };
        20_000 + index * 1_000 + (self.generation % 1_000) as u16
    }
}
