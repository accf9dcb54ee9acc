//! The command line: clap types only, no behaviour.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use selfos::vault::{Answer, CardKind, KdfParams, Namespace, Policy, ReplicaId, Status};

use crate::exit;

/// selfos: your encrypted vault of micro-training answers.
#[derive(Debug, Parser)]
#[command(name = "selfos", version, after_help = exit::HELP)]
pub(crate) struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub(crate) global: Global,
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Where the vault is, how to unlock it, and how to print.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// The vault folder.
    #[arg(long, global = true, env = "SELFOS_VAULT", value_name = "DIR")]
    pub(crate) vault: Option<PathBuf>,
    /// Read the passphrase from the first line of FILE (otherwise from the SELFOS_PASSPHRASE
    /// environment variable, otherwise from a prompt on the terminal).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) passphrase_file: Option<PathBuf>,
    /// Print machine-readable JSON on stdout.
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

/// Where a new device gets the vault secret from.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("from").required(true).args(["recovery_kit", "code"])))]
pub(crate) struct JoinArgs {
    /// The recovery kit printed by `selfos recovery-kit` on another device: a file, or `-` to
    /// read it from standard input.
    #[arg(long, value_name = "FILE")]
    pub(crate) recovery_kit: Option<PathBuf>,
    /// The one-time code `selfos pair` shows on a device of the vault that is online now.
    #[arg(long, value_name = "CODE", requires = "relay")]
    pub(crate) code: Option<String>,
    /// The relay both devices reach, for --code (wss://, or ws:// to a relay on this machine).
    #[arg(long, env = "SELFOS_RELAY", value_name = "URL")]
    pub(crate) relay: Option<String>,
    /// Also trust this certificate authority (PEM or DER) for the relay's wss:// certificate.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca_cert: Option<PathBuf>,
    /// How long to wait for the device that shows the code to answer.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub(crate) offer_wait: u64,
    #[command(flatten)]
    pub(crate) kdf: KdfArgs,
}

/// Where `selfos pair` meets the new device.
#[derive(Debug, Args)]
pub(crate) struct PairArgs {
    /// The relay both devices reach (wss://, or ws:// to a relay on this machine).
    #[arg(long, env = "SELFOS_RELAY", value_name = "URL")]
    pub(crate) relay: String,
    /// Also trust this certificate authority (PEM or DER) for the relay's wss:// certificate.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca_cert: Option<PathBuf>,
    /// How long the code stays usable.
    #[arg(long, default_value_t = 600, value_name = "SECS")]
    pub(crate) expiry: u64,
}

/// The new passphrase of `selfos passphrase`.
#[derive(Debug, Args)]
pub(crate) struct PassphraseArgs {
    /// Read the new passphrase from the first line of FILE (otherwise from the
    /// SELFOS_NEW_PASSPHRASE environment variable, otherwise from a prompt, twice).
    #[arg(long, value_name = "FILE")]
    pub(crate) new_passphrase_file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) kdf: KdfArgs,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create a new vault in the --vault folder.
    Init(InitArgs),
    /// Print the recovery kit: the vault secret as 24 words. Whoever holds them can restore a
    /// device of this vault; keep them offline.
    RecoveryKit,
    /// Add a device: show a one-time code and hand the vault secret to the device that enters
    /// it (`selfos join --code`), through the relay. The code allows one attempt.
    Pair(PairArgs),
    /// Create a new replica of an existing vault in the --vault folder, from a pairing code or
    /// the recovery kit.
    Join(JoinArgs),
    /// Change this device's passphrase (the other devices keep theirs; nothing is synced).
    Passphrase(PassphraseArgs),
    /// List the vault's named devices; with --name, rename this device first. Names sync.
    Devices {
        /// The new name (1 to 64 bytes, no control characters).
        #[arg(long)]
        name: Option<String>,
        /// Rename this other device of the vault instead (its replica id).
        #[arg(long, requires = "name")]
        replica: Option<ReplicaId>,
    },
    /// Record a new answer; prints its id.
    Record(RecordArgs),
    /// List responses, oldest first.
    List {
        /// Only this agent's responses.
        #[arg(long)]
        agent: Option<Namespace>,
    },
    /// Show one response.
    Show {
        /// The response id, or a unique prefix of it (`chatgpt/3f2a`).
        id: String,
    },
    /// Change a response's answer and/or status.
    Edit(EditArgs),
    /// Delete a response for good.
    Delete {
        /// The response id, or a unique prefix of it.
        id: String,
    },
    /// List every response that holds concurrent values.
    Conflicts,
    /// Settle a conflict by keeping one value or writing a new answer.
    Resolve(ResolveArgs),
    /// Show or set an agent's conflict policy.
    Policy {
        /// The agent (namespace).
        agent: Namespace,
        /// The new policy: last-write-wins or user-merge.
        policy: Option<Policy>,
    },
    /// Export every readable response.
    Export {
        /// json round-trips through `import`; markdown is for reading; instructions are the
        /// custom-instruction snippets for --agent.
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
        /// With --format instructions: the agent (chatgpt: two custom-instruction fields;
        /// claude: profile preferences; any other: a generic system prompt).
        #[arg(long, required_if_eq("format", "instructions"))]
        agent: Option<Namespace>,
        /// Write to FILE instead of stdout.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// The micro-training card to show now, while waiting for an agent.
    NextCard {
        /// The agent the user is waiting for.
        #[arg(long)]
        agent: Namespace,
        /// How long the answer is expected to take, in seconds.
        #[arg(long, default_value_t = 15, value_name = "SECS")]
        wait_secs: u64,
        /// How long ago the prompt was sent, in seconds (intent cards are favoured right after).
        #[arg(long, default_value_t = 0, value_name = "SECS")]
        since_secs: u64,
    },
    /// The knowledge graph built from the answers (--json: the dashboard's D3 format).
    Graph,
    /// Alignment metrics per agent: ratings, their trend, intent agreement, preference
    /// adherence, consistency.
    Metrics,
    /// Add the responses of a JSON export of this vault (from any of its devices). Policies
    /// in it are taken only where they were set later than here.
    Import {
        /// A file written by `selfos export --format json`.
        file: PathBuf,
        /// Also accept an export of another vault (its answers join this vault's). Without it,
        /// such an export is refused, naming both vaults.
        #[arg(long)]
        from_other_vault: bool,
    },
    /// Merge another replica's folder into this one (same passphrase); the other is only read.
    MergeFrom {
        /// The other replica's vault folder.
        dir: PathBuf,
    },
    /// Sync with the vault's other devices through a relay: until the vault and the relay's store
    /// agree and the devices online are quiet (or, with --watch, until interrupted). A relay
    /// without a store only forwards: devices then sync while both are online.
    Sync(SyncArgs),
}

/// `sync`'s settings.
#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    /// The relay, e.g. wss://relay.example (plain ws:// only to this machine: ws://127.0.0.1:8787).
    #[arg(long, env = "SELFOS_RELAY", value_name = "URL")]
    pub(crate) relay: String,
    /// Stay connected and keep syncing (reconnecting as needed) until Ctrl-C.
    #[arg(long)]
    pub(crate) watch: bool,
    /// Seconds to wait for another device to come online, when the relay keeps no store.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub(crate) peer_wait: u64,
    /// Seconds after which a sync that never goes quiet gives up.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub(crate) timeout: u64,
    /// Also trust this certificate authority (PEM or DER) for wss://, for a relay with a
    /// private certificate.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca_cert: Option<PathBuf>,
}

/// `init`'s Argon2id cost; real vaults keep the defaults.
#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Make up a passphrase of seven random words and print it once (instead of reading one).
    #[arg(long, conflicts_with = "passphrase_file")]
    pub(crate) generate_passphrase: bool,
    #[command(flatten)]
    pub(crate) kdf: KdfArgs,
}

/// Argon2id's cost for this device's passphrase (between a floor of 19 MiB and 2 passes and a
/// ceiling of 256 MiB, 16 passes and 16 lanes).
#[derive(Debug, Args)]
pub(crate) struct KdfArgs {
    /// Argon2id memory in KiB.
    #[arg(long, default_value_t = KdfParams::DEFAULT.memory_kib)]
    pub(crate) kdf_memory_kib: u32,
    /// Argon2id passes.
    #[arg(long, default_value_t = KdfParams::DEFAULT.iterations)]
    pub(crate) kdf_iterations: u32,
    /// Argon2id lanes.
    #[arg(long, default_value_t = KdfParams::DEFAULT.parallelism)]
    pub(crate) kdf_parallelism: u32,
}

/// A new answer.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("given").required(true).args(["answer", "choice", "rating", "skipped"])))]
pub(crate) struct RecordArgs {
    /// The AI agent you were waiting for; it names the namespace (`profile` for cross-agent
    /// preferences).
    #[arg(long)]
    pub(crate) agent: Namespace,
    /// The card's id in the catalog.
    #[arg(long)]
    pub(crate) card: String,
    /// The card's kind [default: rating with --rating, else intent].
    #[arg(long, value_enum)]
    pub(crate) kind: Option<Kind>,
    /// The answer.
    #[command(flatten)]
    pub(crate) value: AnswerArgs,
    /// The card was skipped.
    #[arg(long, conflicts_with = "value")]
    pub(crate) skipped: bool,
    /// Where it was captured.
    #[arg(long, default_value = "cli")]
    pub(crate) origin: String,
    /// How long you had been waiting for the AI when you answered, in ms.
    #[arg(long, default_value_t = 0)]
    pub(crate) wait_ms: u64,
}

/// A change to a response.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("change").required(true).multiple(true).args(["answer", "choice", "rating", "status"])))]
pub(crate) struct EditArgs {
    /// The response id, or a unique prefix of it.
    pub(crate) id: String,
    /// The new answer.
    #[command(flatten)]
    pub(crate) value: AnswerArgs,
    /// The new status.
    #[arg(long, value_enum)]
    pub(crate) status: Option<StatusArg>,
}

/// How to settle a conflict.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("how").required(true).args(["keep", "answer", "choice", "rating"])))]
pub(crate) struct ResolveArgs {
    /// The conflicted response's id, or a unique prefix of it.
    pub(crate) id: String,
    /// Keep the value with this number (as `selfos conflicts` lists them, latest first).
    #[arg(long, value_name = "N", conflicts_with = "value")]
    pub(crate) keep: Option<usize>,
    /// Or write a new answer.
    #[command(flatten)]
    pub(crate) value: AnswerArgs,
}

/// One answer, given as text, a choice or a rating.
#[derive(Debug, Args)]
#[group(id = "value", multiple = false)]
pub(crate) struct AnswerArgs {
    /// A free-text answer.
    #[arg(long, value_name = "TEXT")]
    pub(crate) answer: Option<String>,
    /// One of the card's choices.
    #[arg(long, value_name = "TEXT")]
    pub(crate) choice: Option<String>,
    /// A rating from 1 to 5.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=5))]
    pub(crate) rating: Option<u8>,
}

impl AnswerArgs {
    /// The answer given, if any.
    pub(crate) fn into_answer(self) -> Option<Answer> {
        let Self {
            answer,
            choice,
            rating,
        } = self;
        answer
            .map(Answer::Text)
            .or(choice.map(Answer::Choice))
            .or(rating.map(Answer::Rating))
    }
}

/// A card kind on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Kind {
    /// "What should this answer include?"
    Intent,
    /// A rating of the last answer.
    Rating,
    /// A preference probe.
    Preference,
    /// Spaced recall of a concept.
    Recall,
    /// Re-confirmation of a stale preference.
    Reconfirm,
}

impl From<Kind> for CardKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Intent => Self::Intent,
            Kind::Rating => Self::Rating,
            Kind::Preference => Self::Preference,
            Kind::Recall => Self::Recall,
            Kind::Reconfirm => Self::Reconfirm,
        }
    }
}

/// A response status on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum StatusArg {
    /// Answered.
    Answered,
    /// Skipped.
    Skipped,
    /// Ask again later.
    Retry,
}

impl From<StatusArg> for Status {
    fn from(status: StatusArg) -> Self {
        match status {
            StatusArg::Answered => Self::Answered,
            StatusArg::Skipped => Self::Skipped,
            StatusArg::Retry => Self::Retry,
        }
    }
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportFormat {
    /// JSON that `selfos import` reads back.
    Json,
    /// Markdown for people.
    Markdown,
    /// Custom-instruction snippets for one agent, each line traceable to its answers.
    Instructions,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
