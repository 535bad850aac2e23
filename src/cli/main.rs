//! `callseal`: seal call recordings to supervisors' keys, and open, inspect
//! and recover them. Every subcommand is a thin shell over the library.

mod audio;
mod commands;
mod demo;
mod files;
mod keys;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Seal call recordings as they are captured, to supervisors' age keys.
#[derive(Parser)]
#[command(name = "callseal", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make a throwaway key, seal a synthetic call, inspect, open and compare it.
    Demo {
        /// Directory for the demo files (default: a new temporary directory).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Generate a supervisor identity file (age-keygen format, mode 0600).
    Keygen {
        /// Where to write the identity; refuses to overwrite. Default: stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Print the public recipients (age1...) of an identity file.
    Recipient {
        /// Identity file (may be passphrase-protected).
        #[arg(short, long)]
        identity: PathBuf,
    },
    /// Seal a recording to one or more recipients.
    Seal {
        /// Recipient public key (age1...); repeat for several.
        #[arg(short, long = "recipient")]
        recipients: Vec<String>,
        /// File of recipients, one per line; repeatable.
        #[arg(short = 'R', long = "recipients-file")]
        recipients_files: Vec<PathBuf>,
        /// Output file (written under a temporary name, renamed on success). Default: stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Threads for sealing. Default: all cores for input files above
        /// 4 MB, else 1 (live capture from a pipe stays chunk by chunk).
        #[arg(long)]
        threads: Option<usize>,
        /// Input file. Default: stdin.
        input: Option<PathBuf>,
        #[command(flatten)]
        audio: audio::SealAudioArgs,
    },
    /// Open (decrypt) a sealed recording.
    Open {
        /// Identity file; repeatable.
        #[arg(short, long = "identity")]
        identities: Vec<PathBuf>,
        /// The file is passphrase-protected (age -p): ask for the passphrase.
        #[arg(short, long, conflicts_with = "identities")]
        passphrase: bool,
        /// Output file (written under a temporary name, renamed only if the
        /// whole file authenticates). Default: stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Threads for decryption. Default: all cores for input files above
        /// 4 MB, else 1.
        #[arg(long)]
        threads: Option<usize>,
        /// Input file. Default: stdin.
        input: Option<PathBuf>,
        #[command(flatten)]
        audio: audio::OpenAudioArgs,
    },
    /// Describe a sealed file without any key.
    Inspect {
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
        /// Identity file: also decrypt the first chunk and show the
        /// recording's format and sealed metadata; repeatable.
        #[arg(short, long = "identity")]
        identities: Vec<PathBuf>,
        /// The sealed file.
        file: PathBuf,
    },
    /// Salvage every authenticated chunk of a recording whose writer died.
    Recover {
        /// Identity file; repeatable.
        #[arg(short, long = "identity", required = true)]
        identities: Vec<PathBuf>,
        /// Where to write the recovered plaintext.
        #[arg(short, long)]
        output: PathBuf,
        /// The damaged sealed file.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo { dir } => demo::run(dir),
        Command::Keygen { output } => keys::keygen(output),
        Command::Recipient { identity } => keys::print_recipients(&identity),
        Command::Seal {
            recipients,
            recipients_files,
            output,
            threads,
            input,
            audio,
        } => commands::seal(
            &recipients,
            &recipients_files,
            output,
            threads,
            input,
            &audio,
        ),
        Command::Open {
            identities,
            passphrase,
            output,
            threads,
            input,
            audio,
        } => commands::open(&identities, passphrase, output, threads, input, &audio),
        Command::Inspect {
            json,
            identities,
            file,
        } => commands::inspect(&file, json, &identities),
        Command::Recover {
            identities,
            output,
            file,
        } => commands::recover(&identities, &output, &file),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("callseal: error: {e}");
            ExitCode::FAILURE
        }
    }
}
