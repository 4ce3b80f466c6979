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
    /// Log each failed login and each block to stderr, with the address
    /// (for fail2ban; the systemd unit sets it)
    #[arg(long)]
    log_logins: bool,
    /// Commands per second a connection may send, on average, before the
    /// server reads it more slowly (bursts of 400 pass); 0: no limit
    #[arg(long, value_name = "N", default_value_t = natter_core::limits::COMMANDS_PER_SECOND)]
    rate: u32,
    /// Seconds a connection has to finish the login prompts, however busy
    /// it keeps them (at most the timeout)
    #[arg(long, value_name = "SECS", default_value_t = natter_core::limits::LOGIN_MS / 1000,
          value_parser = clap::value_parser!(u64).range(1..))]
    login_timeout: u64,
    /// Connections from one address that may be at the login prompts at
    /// once; logged-in users do not count; 0: no limit
    #[arg(long, value_name = "N", default_value_t = natter_core::limits::PROMPTS_PER_ADDRESS)]
    per_address: u8,
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
        log_logins: args.log_logins,
        commands_per_second: Some(args.rate),
        login_timeout: Duration::from_secs(args.login_timeout),
        per_address: args.per_address,
    };
    match natter_server::run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("natter-server: {error}");
            ExitCode::FAILURE
        }
    }
}
