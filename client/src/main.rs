//! `natter-client <server_port> [--host HOST]`: parses the command line and
//! hands over to [`natter_client::run`].

use std::process::ExitCode;

use clap::Parser;

/// natter's terminal client: log in to a natter server and chat.
///
/// The server asks for a username and a password (an unknown username
/// creates an account). After the welcome line, type commands:
///
///   message <user> <message>    whoelse              block <user>
///   broadcast <message>         whoelsesince <secs>  unblock <user>
///   startprivate <user>         private <user> <message>
///   stopprivate <user>          logout
///
/// End of input (Ctrl-D) logs out; Ctrl-C drops the line being typed.
/// `help` lists the commands; Tab completes commands and usernames.
///
/// Exit status: 0 logged out, 1 refused by the server (blocked, full,
/// login timed out), 2 cannot connect, 3 connection lost, server shutting
/// down, or not a natter server.
#[derive(Parser, Debug)]
#[command(name = "natter-client", version, verbatim_doc_comment)]
struct Args {
    /// TCP port the server listens on
    server_port: u16,

    /// Server host name or address
    #[arg(long, value_name = "HOST", default_value = "127.0.0.1")]
    host: String,

    /// Start every line with the time it was shown (HH:MM)
    #[arg(long)]
    timestamps: bool,

    /// Show every frame sent and received on stderr
    #[arg(short, long)]
    debug: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    natter_client::run(natter_client::Config {
        host: args.host,
        port: args.server_port,
        debug: args.debug,
        timestamps: args.timestamps,
    })
}
