//! `natter-server <server_port> <block_duration> <timeout>` (R1).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

/// natter chat server: accounts, messages and presence for a small LAN.
///
/// Prints nothing unless -d is given. Stops cleanly on SIGINT or SIGTERM.
/// Reads and appends to credentials.txt (one `username password` a line).
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Args {
    /// TCP port to listen on (0 picks a free one; see -d for which)
    server_port: u16,
    /// Seconds a username stays blocked after three wrong passwords
    block_duration: u64,
    /// Seconds without a command after which a user is logged out
    #[arg(value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// Address or host name to listen on; 0.0.0.0 reaches the LAN
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Accounts file, one `username password` per line
    #[arg(long, default_value = "credentials.txt")]
    credentials: PathBuf,
    /// Log connections and events to stderr
    #[arg(short, long)]
    debug: bool,
    /// Commands per second a connection may send, on average, before the
    /// server reads it more slowly (bursts of 400 pass); 0: no limit
    #[arg(long, value_name = "N", default_value_t = natter_core::limits::COMMANDS_PER_SECOND)]
    rate: u32,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = natter_server::Config {
        port: args.server_port,
        block_duration: Duration::from_secs(args.block_duration),
        timeout: Duration::from_secs(args.timeout),
        bind: args.bind,
        credentials: args.credentials,
        debug: args.debug,
        commands_per_second: Some(args.rate),
    };
    match natter_server::run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("natter-server: {error}");
            ExitCode::FAILURE
        }
    }
}
