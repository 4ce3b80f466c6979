//! `natter-server <server_port> <block_duration> <timeout>` (R1), and
//! `natter-server user list|add|remove|passwd` for the owner.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use natter_core::Capacity;
use natter_server::accounts::{self, Action};
use natter_server::password::{self, Hasher};

/// natter chat server: accounts, messages and presence for a small LAN.
///
/// Prints nothing unless -d is given. Stops cleanly on SIGINT or SIGTERM.
/// Reads and appends to credentials.txt (one `username password` a line);
/// `natter-server user --help` manages its accounts.
#[derive(Parser, Debug)]
#[command(
    version,
    about,
    long_about = None,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// TCP port to listen on (0 picks a free one; see -d for which)
    #[arg(required = true)]
    server_port: Option<u16>,
    /// Seconds a username stays blocked after three wrong passwords
    #[arg(required = true)]
    block_duration: Option<u64>,
    /// Seconds without a command after which a user is logged out
    #[arg(required = true, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: Option<u64>,
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
    /// Whether an unknown username may create an account
    #[arg(long, value_enum, default_value_t = SignUp::Open)]
    signup: SignUp,
    /// New accounts one address may create per hour while sign-up is
    /// open; 0: no limit
    #[arg(long, value_name = "N", default_value_t = natter_core::limits::SIGNUPS_PER_HOUR)]
    signups_per_hour: u8,
    /// Accounts the server can hold: the credentials file's and new ones
    #[arg(long, value_name = "N", default_value_t = natter_core::limits::DEFAULT_ACCOUNTS)]
    max_accounts: usize,
    /// Connections at once, logged in or at the login prompts (raise the
    /// open-files limit to match)
    #[arg(long, value_name = "N", default_value_t = natter_core::limits::DEFAULT_CONNECTIONS)]
    max_connections: usize,
    /// Room for messages waiting for their readers, all users together,
    /// in KiB [default: 1 KiB per account and 4 KiB per connection]
    #[arg(long, value_name = "KIB")]
    store_kib: Option<usize>,
    /// Threads that check and hash passwords at once: a login storm after
    /// a restart is spread over them, each taking the hash's memory while
    /// it runs [default: one per core]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    hash_threads: Option<u32>,
    /// Memory of each new password hash (argon2id), in KiB
    #[arg(long, value_name = "KIB", default_value_t = password::MEMORY_KIB)]
    hash_memory: u32,
    /// Passes of each new password hash (argon2id)
    #[arg(long, value_name = "N", default_value_t = password::PASSES)]
    hash_passes: u32,
    /// Directory of the journal, which keeps waiting messages, blacklists
    /// and blocks across restarts [default: the credentials file's]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Keep no journal: waiting messages, blacklists and blocks are lost
    /// when the server stops
    #[arg(long, conflicts_with = "data_dir")]
    no_journal: bool,
    /// Size in KiB past which the journal is rewritten to what is live
    /// (it is also rewritten at twice what the last rewrite left)
    #[arg(long, value_name = "KIB", default_value_t = natter_server::journal_thread::COMPACT_AT / 1024,
          value_parser = clap::value_parser!(u64).range(1..))]
    compact_at: u64,
    /// Microseconds the server may poll its sockets before it sleeps, while
    /// frames follow each other that closely (clients on the same board,
    /// bursts); it stops by itself when they do not, and never polls on one
    /// CPU; 0: never
    #[arg(long, value_name = "MICROS", default_value_t = natter_server::busy_poll::DEFAULT_US,
          value_parser = clap::value_parser!(u64).range(0..=natter_server::busy_poll::LIMIT_US))]
    busy_poll: u64,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum SignUp {
    Open,
    Closed,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Manage the accounts in the credentials file (stop the server first)
    User {
        /// Accounts file, one `username password` per line
        #[arg(long, default_value = "credentials.txt")]
        credentials: PathBuf,
        #[command(subcommand)]
        action: UserAction,
    },
}

#[derive(Subcommand, Debug)]
enum UserAction {
    /// Print every username, one per line
    List,
    /// Add an account; asks for its password (twice, hidden)
    Add { name: String },
    /// Remove an account
    Remove { name: String },
    /// Change an account's password; asks for it (twice, hidden)
    Passwd { name: String },
}

fn main() -> ExitCode {
    password::give_back_hash_memory();
    let args = Args::parse();
    let Some(hasher) = Hasher::new(args.hash_memory, args.hash_passes) else {
        eprintln!("natter-server: argon2 needs at least 8 KiB and one pass");
        return ExitCode::FAILURE;
    };
    if let Some(Command::User {
        credentials,
        action,
    }) = args.command
    {
        let action = match action {
            UserAction::List => Action::List,
            UserAction::Add { name } => Action::Add(name),
            UserAction::Remove { name } => Action::Remove(name),
            UserAction::Passwd { name } => Action::Passwd(name),
        };
        return match accounts::run(&action, &credentials, &hasher, &mut accounts::read_password) {
            Ok(done) => {
                print!("{done}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("natter-server: {error}");
                ExitCode::FAILURE
            }
        };
    }
    // clap requires all three without a subcommand.
    let (Some(port), Some(block), Some(timeout)) =
        (args.server_port, args.block_duration, args.timeout)
    else {
        eprintln!("natter-server: give <SERVER_PORT> <BLOCK_DURATION> <TIMEOUT>");
        return ExitCode::FAILURE;
    };
    let data_dir = (!args.no_journal).then(|| {
        args.data_dir
            .clone()
            .unwrap_or_else(|| match args.credentials.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
                _ => PathBuf::from("."),
            })
    });
    let config = natter_server::Config {
        port,
        block_duration: Duration::from_secs(block),
        timeout: Duration::from_secs(timeout),
        bind: args.bind,
        credentials: args.credentials,
        debug: args.debug,
        log_logins: args.log_logins,
        commands_per_second: Some(args.rate),
        login_timeout: Duration::from_secs(args.login_timeout),
        per_address: args.per_address,
        signup: match args.signup {
            SignUp::Open => natter_core::signup::SignUp::Open {
                per_hour: args.signups_per_hour,
            },
            SignUp::Closed => natter_core::signup::SignUp::Closed,
        },
        hasher,
        hash_threads: args.hash_threads.map_or_else(
            || std::thread::available_parallelism().map_or(1, usize::from),
            |n| n as usize,
        ),
        capacity: {
            let mut capacity = Capacity::new(args.max_accounts, args.max_connections);
            if let Some(kib) = args.store_kib {
                capacity.store_bytes = kib.saturating_mul(1024);
            }
            capacity
        },
        data_dir,
        compact_at: args.compact_at * 1024,
        busy_poll: Duration::from_micros(args.busy_poll),
    };
    match natter_server::run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("natter-server: {error}");
            ExitCode::FAILURE
        }
    }
}
