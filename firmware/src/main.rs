//! The `piwardrive` command line: one binary for the appliance, the demo, ingest and queries.

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use piwardrive::ingest::{IngestOptions, ingest_files};
use piwardrive::store::Store;
use piwardrive::{demo, report};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "piwardrive",
    version,
    about = "Offline-first Wi-Fi wardriving appliance"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the appliance: capture from the Wi-Fi adapters, read gpsd, track, store, serve the
    /// UI; until Ctrl-C or SIGTERM. Without --config, the appliance defaults (docs/configuration.md).
    Run {
        /// The TOML configuration file.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Stay on this channel instead of hopping (6, 36, "6/37" for 6 GHz, or MHz): every
        /// monitor source, whatever the configuration says.
        #[arg(long, value_name = "CHANNEL")]
        lock: Option<piwardrive::capture::hopper::ChannelRef>,
    },
    /// Read pcap/pcapng captures (radiotap, Prism, PPI or bare 802.11) into the store.
    Ingest {
        /// Directory holding the store (created if missing).
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        /// Capture files to read.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Records per commit.
        #[arg(long, default_value_t = piwardrive::ingest::DEFAULT_BATCH_RECORDS, value_name = "N")]
        batch_records: u64,
        /// A GPS log (gpspipe -w JSON, NMEA, or GPX): each frame gets the position
        /// interpolated at its time, when the log covers that moment closely enough.
        #[arg(long, value_name = "FILE")]
        gps: Option<PathBuf>,
        /// Move the GPS log's dates by this many weeks (-1024 for a log dated one GPS
        /// week-rollover era late; ingest suggests it when the log and captures do not overlap).
        #[arg(long, value_name = "WEEKS", allow_negative_numbers = true)]
        gps_week_shift: Option<i64>,
        /// Print a line after each durable commit (for crash tests).
        #[arg(long, hide = true)]
        print_commits: bool,
    },
    /// Print the networks the store knows.
    Networks {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// List the clients (stations) in the store: the AP each was last seen with, what it probed for.
    Clients {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Export the store: WiGLE CSV 1.6, KML, GeoJSON, CSV of every network, or GPX of the track.
    Export {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        #[arg(long, value_enum)]
        format: piwardrive::export::Format,
        /// Only this session (see the sessions in the UI).
        #[arg(long, value_name = "ID")]
        session: Option<u64>,
        /// Output file (default: standard output).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Watch gpsd as the appliance does: print the GPS state whenever it changes (no gpsd,
    /// no device, no fix, 2D fix, 3D fix, stale), until Ctrl-C.
    Gps {
        /// gpsd's address.
        #[arg(long, default_value = piwardrive::gps::gpsd::DEFAULT_ADDR, value_name = "HOST:PORT")]
        gpsd: String,
        /// Stop at the first fix (exit 0); with --timeout, exit 1 if none comes in time.
        #[arg(long)]
        until_fix: bool,
        /// Give up after this many seconds.
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<f64>,
        /// Set the system clock from GPS time when they differ by more than 2 s (needs
        /// CAP_SYS_TIME; says so when it cannot).
        #[arg(long)]
        set_clock: bool,
    },
    /// Replay the bundled real captures (or yours, with --replay) in a loop into a temporary
    /// store and serve the UI.
    Demo {
        /// Address for the web UI.
        #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
        listen: SocketAddr,
        /// Replay speed multiplier (1 = the captures' own pace).
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// Replay these pcap/pcapng captures instead of the bundled ones (radiotap, Prism, PPI
        /// or bare 802.11; the same files `ingest` reads).
        #[arg(long, value_name = "FILE", num_args = 1..)]
        replay: Vec<PathBuf>,
        /// The admin password of the demo's UI; without it, a random one is made and printed.
        #[arg(long, value_name = "PASSWORD")]
        password: Option<String>,
    },
    /// Accounts of the web UI: set a password (the admin's by default), list the accounts.
    /// The appliance must be stopped (it holds the store); in the UI, the admin manages
    /// viewers on the Accounts page.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// API tokens for scripts (`Authorization: Bearer TOKEN`): create (printed once), list,
    /// revoke. The appliance must be stopped (it holds the store), or use the Accounts page.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Upload to wigle.net what has not been uploaded yet (the account is `[wigle] api_name`
    /// and `api_token` in the configuration or the settings page). The appliance must be
    /// stopped (it holds the store), or use the Exports page.
    Wigle {
        #[command(subcommand)]
        action: WigleAction,
    },
    /// The home server: the store and web UI without capture or GPS, served over HTTPS with
    /// its own certificate (made on first start in <data_dir>/hub-tls/), plus the endpoints
    /// devices sync to. Enroll devices from its Devices page (/hub/devices). Until Ctrl-C or
    /// SIGTERM. `hub devices` and `hub revoke` work while it is stopped.
    #[command(args_conflicts_with_subcommands = true)]
    Hub {
        #[command(subcommand)]
        action: Option<HubAction>,
        /// A configuration file as for `run` (its capture sources and GPS are ignored).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Directory of the hub's store and certificate (default: the configuration's
        /// data_dir, else /data).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// Address to serve HTTPS on.
        #[arg(long, default_value = piwardrive::hub::DEFAULT_LISTEN, value_name = "ADDR")]
        listen: SocketAddr,
        /// Another host name or IP address the hub is reached at, for its certificate's
        /// names (repeatable; only used when the certificate is made).
        #[arg(long, value_name = "NAME")]
        san: Vec<String>,
        /// Lifetime of enrollment codes, in seconds (for tests).
        #[arg(long, hide = true, default_value_t = piwardrive::hub::DEFAULT_CODE_TTL.as_secs())]
        enroll_code_ttl: u64,
    },
    /// The device's link to its hub: enroll with a code from the hub's Devices page, show
    /// the enrollment.
    Sync {
        #[command(subcommand)]
        action: SyncAction,
    },
    /// Set the system clock (needs CAP_SYS_TIME): the fallback when there is no GPS fix.
    #[command(hide = true)]
    SetClock {
        /// The time, in Unix seconds (UTC).
        #[arg(value_name = "UNIX_SECONDS")]
        unix_seconds: f64,
    },
    /// Write a large synthetic capture (the bundled real frames, repeated with varied
    /// addresses) for benchmarks and crash tests.
    #[command(hide = true)]
    Synth {
        /// Number of records.
        #[arg(long)]
        records: u64,
        /// Output pcapng file.
        #[arg(short, long)]
        output: PathBuf,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Set an account's password, creating the account if needed. Reads the password from
    /// the terminal (twice, not echoed) or, when standard input is not a terminal, from its
    /// first line.
    Passwd {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        /// The account.
        #[arg(long, default_value = piwardrive::accounts::ADMIN, value_name = "NAME")]
        user: String,
        /// The role of a new account (an existing account keeps its role).
        #[arg(long, value_enum, default_value_t = RoleArg::Admin)]
        role: RoleArg,
    },
    /// List the accounts.
    List {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
    /// Remove an account.
    Remove {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        #[arg(value_name = "NAME")]
        name: String,
    },
}

#[derive(Subcommand)]
enum TokenAction {
    /// Create a token and print it (the only time it is shown; the store keeps its hash).
    Create {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        /// A name to list and revoke it by.
        #[arg(long, value_name = "NAME")]
        name: String,
        /// viewer: read only; admin: may also change state.
        #[arg(long, value_enum, default_value_t = RoleArg::Viewer)]
        role: RoleArg,
    },
    /// List the tokens: name, role, created, last used.
    List {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
    /// Revoke a token: it stops working at once.
    Revoke {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        #[arg(value_name = "NAME")]
        name: String,
    },
}

#[derive(Subcommand)]
enum WigleAction {
    /// Send the observations recorded since the last upload as gzipped WiGLE CSV files; the
    /// store remembers what WiGLE accepted, so a failed upload is simply run again.
    Upload {
        /// The data directory (default: the configuration's `data_dir`, else /data).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// The configuration file holding `[wigle]` (the settings saved in the data
        /// directory apply over it, as for `run`).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Donate the rows to WiGLE (`donate=on`), whatever `[wigle] donate` says.
        #[arg(long)]
        donate: bool,
        /// Build the files and say what would be sent; send and record nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum HubAction {
    /// List the enrolled devices: id, name, enrolled, last seen, revoked.
    Devices {
        #[arg(long, value_name = "DIR", default_value = piwardrive::config::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
    /// Revoke a device's token (the hub must be stopped; or use the Devices page): its
    /// requests are refused until it enrolls again.
    Revoke {
        #[arg(long, value_name = "DIR", default_value = piwardrive::config::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        /// The device's id (32 hex digits, or a unique prefix of at least 4) or its name.
        #[arg(value_name = "DEVICE")]
        device: String,
    },
}

#[derive(Subcommand)]
enum SyncAction {
    /// Enroll this device with a hub: URL of the hub (https://host:8443) and the code its
    /// Devices page shows. Saves <data_dir>/upstream.toml. The appliance must be stopped
    /// (it holds the store); while it runs, use the sync section of the settings page.
    Enroll {
        #[arg(value_name = "URL")]
        url: String,
        #[arg(value_name = "CODE")]
        code: String,
        #[arg(long, value_name = "DIR", default_value = piwardrive::config::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        /// The name the hub lists this device under (default: the host name).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },
    /// Sync with the enrolled hub now, until it lacks nothing (the appliance does this by
    /// itself while it runs; it must be stopped for this command, as it holds the store).
    /// Prints what was sent; exits 2 when the hub is unreachable, 1 on any other failure.
    Now {
        #[arg(long, value_name = "DIR", default_value = piwardrive::config::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
    /// Show the hub this device is enrolled with (never the token).
    Status {
        #[arg(long, value_name = "DIR", default_value = piwardrive::config::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        /// Also ask the hub who it takes this device for (GET /sync/v1/whoami).
        #[arg(long)]
        check: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Admin,
    Viewer,
}

impl From<RoleArg> for piwardrive::accounts::Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Admin => piwardrive::accounts::Role::Admin,
            RoleArg::Viewer => piwardrive::accounts::Role::Viewer,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
    Tsv,
}

fn store_path(data_dir: &Path) -> PathBuf {
    data_dir.join("piwardrive.redb")
}

fn open_store(data_dir: &Path) -> anyhow::Result<Store> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
    Ok(Store::open(&store_path(data_dir))?)
}

/// Opens the store of a data directory that must already have one.
fn open_existing_store(data_dir: &Path) -> anyhow::Result<Store> {
    let path = store_path(data_dir);
    anyhow::ensure!(
        path.exists(),
        "no store at {}: run `piwardrive ingest --data-dir {} FILE...` first",
        path.display(),
        data_dir.display()
    );
    Ok(Store::open(&path)?)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run { config, lock } => {
            // The configuration is read (file, then the settings overlay over it) before
            // anything starts, and again after a restart asked for on the settings page.
            let load = || -> anyhow::Result<_> {
                let (mut config, layers) = piwardrive::config::load_layers(config.as_deref())?;
                if let Some(channel) = lock {
                    anyhow::ensure!(
                        config.lock_channel(channel) > 0,
                        "--lock {channel}: no source can be locked (every source is mode = \"scan\")"
                    );
                }
                Ok((config, layers))
            };
            let mut loaded = load()?;
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async {
                let shutdown = tokio_util::sync::CancellationToken::new();
                let on_signal = shutdown.clone();
                let mut sigterm =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .context("installing the SIGTERM handler")?;
                tokio::spawn(async move {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: shutting down"),
                        _ = sigterm.recv() => tracing::info!("SIGTERM: shutting down"),
                    }
                    on_signal.cancel();
                });
                loop {
                    let (config, layers) = loaded;
                    match piwardrive::appliance::run(config, layers, shutdown.clone()).await? {
                        piwardrive::appliance::Stopped::Shutdown => return anyhow::Ok(()),
                        piwardrive::appliance::Stopped::Restart => {
                            tracing::info!("restarting with the saved settings");
                            loaded = load()?;
                        }
                    }
                }
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ingest {
            data_dir,
            files,
            batch_records,
            print_commits,
            gps,
            gps_week_shift,
        } => {
            let store = open_store(&data_dir)?;
            let opts = IngestOptions {
                batch_records: batch_records.max(1),
                print_commits,
                progress: true,
                gps,
                gps_week_shift,
            };
            let report = ingest_files(&store, &files, &opts)?;
            let mut failed = 0;
            if let Some(g) = &report.gps {
                eprintln!("{}", g.report.trim_end());
                eprintln!(
                    "GPS: {} of {} records got a position",
                    g.positioned, g.looked_up
                );
                if let Some(w) = g.suggested_week_shift {
                    eprintln!(
                        "GPS: the log and the captures do not overlap in time; moved by {w} weeks \
                         they would (a GPS week-rollover date): run again with --gps-week-shift {w} \
                         if that is the case"
                    );
                }
            }
            for r in &report.files {
                let s = r.stats;
                eprintln!(
                    "{}: {} records, {} decoded ({} with damaged elements), {} bad FCS dropped, {} malformed, {} unsupported (link type or header version)",
                    r.path.display(),
                    r.records,
                    s.decoded,
                    s.damaged_elements,
                    s.bad_fcs,
                    s.malformed,
                    s.unsupported
                );
                if let Some(e) = &r.error {
                    failed += 1;
                    eprintln!(
                        "{}: error: {e}; the {} records before it were kept",
                        r.path.display(),
                        r.records
                    );
                }
            }
            let st = store.stats()?;
            eprintln!(
                "store {}: {} networks, {} clients, {} observations",
                store.path().display(),
                st.aps,
                st.clients,
                st.observations
            );
            Ok(if failed > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Export {
            data_dir,
            format,
            session,
            output,
        } => {
            use piwardrive::export::{ExportOptions, WigleDevice, export_with};
            let store = open_existing_store(&data_dir)?;
            let options = ExportOptions {
                session,
                wigle_device: WigleDevice::detect(),
            };
            let stats = match &output {
                Some(p) => {
                    let mut f = std::fs::File::create(p)
                        .with_context(|| format!("creating {}", p.display()))?;
                    export_with(&store, format, &options, &mut f)?
                }
                None => export_with(&store, format, &options, &mut std::io::stdout().lock())?,
            };
            eprintln!(
                "exported {} {} (left out: {} without a fix, {} with an unusable fix, {} client observations, {} in a home zone)",
                stats.written,
                if matches!(format, piwardrive::export::Format::Wigle) {
                    "rows"
                } else {
                    "items"
                },
                stats.skipped_no_fix,
                stats.skipped_bad_fix,
                stats.skipped_client,
                stats.skipped_home_zone
            );
            if stats.signal_floored > 0 {
                eprintln!(
                    "{} rows had no signal reading (capture without a radio header) and carry RSSI {}",
                    stats.signal_floored,
                    piwardrive::export::MISSING_SIGNAL_DBM
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Networks { data_dir, format } => {
            let store = open_existing_store(&data_dir)?;
            let aps = store.all_aps()?;
            print_stdout(&match format {
                Format::Tsv => report::tsv(&aps),
                Format::Json => serde_json::to_string_pretty(&report::json(&aps))? + "\n",
                Format::Table => report::table(&aps),
            })
        }
        Command::Clients { data_dir, format } => {
            let store = open_existing_store(&data_dir)?;
            let clients = store.all_clients()?;
            print_stdout(&match format {
                Format::Tsv => report::clients_tsv(&clients),
                Format::Json => {
                    serde_json::to_string_pretty(&report::clients_json(&clients))? + "\n"
                }
                Format::Table => report::clients_table(&clients),
            })
        }
        Command::SetClock { unix_seconds } => {
            anyhow::ensure!(
                unix_seconds.is_finite() && unix_seconds >= 0.0,
                "the time must be a number of seconds since 1970-01-01 UTC"
            );
            piwardrive::clock::set_system_clock((unix_seconds * 1e6) as i64)?;
            eprintln!("system clock set");
            Ok(ExitCode::SUCCESS)
        }
        Command::Synth { records, output } => {
            let file = std::fs::File::create(&output)
                .with_context(|| format!("creating {}", output.display()))?;
            let mut w = std::io::BufWriter::new(file);
            // A fixed start time keeps the file identical from run to run.
            let st = piwardrive::synth::synthesize(records, 1_700_000_000_000_000, &mut w)?;
            use std::io::Write;
            w.flush()?;
            eprintln!(
                "{}: {} records, {} bytes, {} copies of the bundled captures",
                output.display(),
                st.records,
                st.bytes,
                st.copies
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Gps {
            gpsd,
            until_fix,
            timeout,
            set_clock,
        } => {
            use piwardrive::gps::watch::{WatchOptions, watch_gps};
            let opts = WatchOptions {
                gpsd: piwardrive::gps::gpsd::GpsdConfig {
                    addr: gpsd,
                    ..Default::default()
                },
                until_fix,
                timeout: timeout
                    .filter(|t| t.is_finite() && *t >= 0.0)
                    .map(std::time::Duration::from_secs_f64),
                set_clock,
            };
            let rt = tokio::runtime::Runtime::new()?;
            let saw_fix = rt.block_on(async {
                let shutdown = tokio_util::sync::CancellationToken::new();
                let on_ctrl_c = shutdown.clone();
                tokio::spawn(async move {
                    let _ = tokio::signal::ctrl_c().await;
                    on_ctrl_c.cancel();
                });
                watch_gps(opts, shutdown).await
            })?;
            Ok(if until_fix && !saw_fix {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Demo {
            listen,
            speed,
            replay,
            password,
        } => {
            let captures = if replay.is_empty() {
                demo::bundled()
            } else {
                demo::load(&replay)?
            };
            demo::run(listen, speed, captures, password)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Hub {
            action: Some(action),
            ..
        } => hub_command(action),
        Command::Hub {
            action: None,
            config,
            data_dir,
            listen,
            san,
            enroll_code_ttl,
        } => {
            let opts = piwardrive::hub::HubOptions {
                listen,
                extra_names: san,
                code_ttl: std::time::Duration::from_secs(enroll_code_ttl.max(1)),
            };
            let load = || -> anyhow::Result<_> {
                Ok(piwardrive::config::load_layers_in(
                    config.as_deref(),
                    data_dir.as_deref(),
                )?)
            };
            let mut loaded = load()?;
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async {
                let shutdown = signal_token()?;
                loop {
                    let (config, layers) = loaded;
                    let run = piwardrive::appliance::run_hub(
                        config,
                        layers,
                        opts.clone(),
                        shutdown.clone(),
                    );
                    match run.await? {
                        piwardrive::appliance::Stopped::Shutdown => return anyhow::Ok(()),
                        piwardrive::appliance::Stopped::Restart => {
                            tracing::info!("restarting with the saved settings");
                            loaded = load()?;
                        }
                    }
                }
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sync { action } => sync_command(action),
        Command::User { action } => user_command(action),
        Command::Wigle { action } => wigle_command(action),
        Command::Token { action } => token_command(action),
    }
}

/// A token cancelled by SIGINT or SIGTERM.
fn signal_token() -> anyhow::Result<tokio_util::sync::CancellationToken> {
    let shutdown = tokio_util::sync::CancellationToken::new();
    let on_signal = shutdown.clone();
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::spawn(async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: shutting down"),
            _ = sigterm.recv() => tracing::info!("SIGTERM: shutting down"),
        }
        on_signal.cancel();
    });
    Ok(shutdown)
}

fn hub_command(action: HubAction) -> anyhow::Result<ExitCode> {
    use piwardrive::accounts::to_hex;
    match action {
        HubAction::Devices { data_dir } => {
            let store = open_existing_store(&data_dir)?;
            let mut out = String::new();
            for d in store.hub_devices()? {
                out += &format!(
                    "{}\t{}\tenrolled {}\tlast seen {}{}\n",
                    to_hex(&d.id),
                    d.name.replace(|c: char| c.is_control(), " "),
                    time_text(d.enrolled_us),
                    d.last_seen_us.map_or_else(|| "never".to_owned(), time_text),
                    d.revoked_us
                        .map_or_else(String::new, |t| format!("\trevoked {}", time_text(t)))
                );
            }
            print_stdout(&out)
        }
        HubAction::Revoke { data_dir, device } => {
            let store = open_existing_store(&data_dir)?;
            let devices = store.hub_devices()?;
            let wanted = device.to_ascii_lowercase();
            let matches: Vec<_> = devices
                .iter()
                .filter(|d| {
                    d.name == device || (wanted.len() >= 4 && to_hex(&d.id).starts_with(&wanted))
                })
                .collect();
            let d = match matches.as_slice() {
                [d] => *d,
                [] => anyhow::bail!(
                    "no enrolled device has the id or name {device:?} (see `piwardrive hub devices`)"
                ),
                _ => anyhow::bail!(
                    "{device:?} names {} devices: give the full id (see `piwardrive hub devices`)",
                    matches.len()
                ),
            };
            anyhow::ensure!(
                store.revoke_hub_device(&d.id, piwardrive::accounts::now_us())?,
                "device {} ({}) is revoked already",
                to_hex(&d.id),
                d.name
            );
            eprintln!(
                "device {} ({}) revoked: its requests are refused until it enrolls again",
                to_hex(&d.id),
                d.name
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn sync_command(action: SyncAction) -> anyhow::Result<ExitCode> {
    use piwardrive::upstream::{self, Upstream};
    match action {
        SyncAction::Enroll {
            url,
            code,
            data_dir,
            name,
        } => {
            let store = open_store(&data_dir).context(
                "opening the store for the device id (if `piwardrive run` is running, stop it \
                 or enroll from the sync section of its settings page)",
            )?;
            let device_id = store.device_id();
            drop(store);
            let name = name.unwrap_or_else(upstream::default_name);
            let rt = tokio::runtime::Runtime::new()?;
            let up = rt.block_on(async {
                let up = upstream::enroll(&url, &code, device_id, &name).await?;
                // The token works through the pinned client before it is saved.
                let me = upstream::Client::new(&up)?.whoami().await?;
                anyhow::ensure!(
                    me.device_id == up.device_id,
                    "the hub takes the new token for device {}, not this one",
                    me.device_id
                );
                anyhow::Ok(up)
            })?;
            up.save(&data_dir)?;
            eprintln!(
                "enrolled with the hub at {} (hub id {}) as {:?} (device id {}); its                  certificate is pinned: SHA-256 {}. Saved to {}",
                up.hub_url,
                up.hub_id,
                up.device_name,
                up.device_id,
                up.pin_text(),
                Upstream::path(&data_dir).display()
            );
            Ok(ExitCode::SUCCESS)
        }
        SyncAction::Now { data_dir } => {
            use piwardrive::replication::device::{RoundError, TransportError};
            let Some(up) = Upstream::load(&data_dir)? else {
                eprintln!(
                    "not enrolled with a hub (no {}): run `piwardrive sync enroll URL CODE`",
                    Upstream::path(&data_dir).display()
                );
                return Ok(ExitCode::from(1));
            };
            let store = open_existing_store(&data_dir)?;
            let client = upstream::Client::new(&up)?;
            let rt = tokio::runtime::Runtime::new()?;
            let started = std::time::Instant::now();
            let result = rt.block_on(piwardrive::replication::device::round(
                &store,
                &client,
                piwardrive_sync::Limits::default(),
            ));
            match result {
                Ok(r) => {
                    let mut out = format!(
                        "requests\t{}\nobservations_sent\t{}\nnetworks_sent\t{}\nedits_received\t{}\nedits_sent\t{}\npending\t{}\nseconds\t{:.3}\n",
                        r.requests,
                        r.observations_sent,
                        r.networks_sent,
                        r.edits_received,
                        r.edits_sent,
                        r.pending,
                        started.elapsed().as_secs_f64()
                    );
                    if !r.unreadable.is_empty() {
                        out += &format!("unreadable\t{:?}\n", r.unreadable);
                    }
                    print_stdout(&out)
                }
                Err(RoundError::Transport(TransportError::Unreachable(m))) => {
                    eprintln!("sync: hub unreachable: {m}");
                    Ok(ExitCode::from(2))
                }
                Err(e) => {
                    eprintln!("sync: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        SyncAction::Status { data_dir, check } => {
            let Some(up) = Upstream::load(&data_dir)? else {
                eprintln!(
                    "not enrolled with a hub (no {}): run `piwardrive sync enroll URL CODE`",
                    Upstream::path(&data_dir).display()
                );
                return Ok(ExitCode::from(1));
            };
            let mut out = format!(
                "hub_url\t{}\nhub_id\t{}\npin_sha256\t{}\ndevice_id\t{}\ndevice_name\t{}\nenrolled_at\t{}\n",
                up.hub_url,
                up.hub_id,
                up.pin_text(),
                up.device_id,
                up.device_name,
                up.enrolled_at
            );
            if check {
                let rt = tokio::runtime::Runtime::new()?;
                let me = rt.block_on(async {
                    upstream::Client::with_timeout(&up, std::time::Duration::from_secs(15))?
                        .whoami()
                        .await
                })?;
                out += &format!("check\tok: the hub knows this device as {:?}\n", me.name);
            }
            print_stdout(&out)
        }
    }
}

fn user_command(action: UserAction) -> anyhow::Result<ExitCode> {
    use piwardrive::accounts::{self, UserRecord};
    match action {
        UserAction::Passwd {
            data_dir,
            user,
            role,
        } => {
            anyhow::ensure!(
                piwardrive::accounts::valid_name(&user),
                "{user:?}: account names are 1 to 32 letters, digits, dots, dashes or underscores"
            );
            let store = open_store(&data_dir)?;
            let password = read_password(&format!("New password for {user}: "))?;
            let phc = accounts::hash_password(&password)?;
            let now = accounts::now_us();
            let existing = store.user(&user)?;
            let record = UserRecord {
                name: user.clone(),
                role: existing.as_ref().map_or(role.into(), |u| u.role),
                password_hash: phc,
                created_us: existing.as_ref().map_or(now, |u| u.created_us),
                updated_us: now,
            };
            store.put_user(&record)?;
            eprintln!(
                "password of {user} ({}) {}",
                record.role.label(),
                if existing.is_some() {
                    "changed"
                } else {
                    "set; account created"
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        UserAction::List { data_dir } => {
            let store = open_existing_store(&data_dir)?;
            let mut out = String::new();
            for u in store.users()? {
                out += &format!(
                    "{}\t{}\t{}\n",
                    u.name,
                    u.role.label(),
                    time_text(u.created_us)
                );
            }
            print_stdout(&out)
        }
        UserAction::Remove { data_dir, name } => {
            let store = open_existing_store(&data_dir)?;
            anyhow::ensure!(
                store.remove_user(&name)?,
                "there is no account named {name:?}"
            );
            eprintln!("account {name} removed");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn token_command(action: TokenAction) -> anyhow::Result<ExitCode> {
    use piwardrive::accounts::{self, TokenRecord};
    match action {
        TokenAction::Create {
            data_dir,
            name,
            role,
        } => {
            anyhow::ensure!(
                piwardrive::accounts::valid_name(&name),
                "{name:?}: token names are 1 to 32 letters, digits, dots, dashes or underscores"
            );
            let store = open_store(&data_dir)?;
            let (token, hash) = accounts::new_token()?;
            let record = TokenRecord {
                name: name.clone(),
                role: role.into(),
                created_us: accounts::now_us(),
                last_used_us: None,
            };
            store.add_token(&hash, &record)?;
            eprintln!(
                "token {name} ({}) created; it is printed once, below: keep it, the store only \
                 holds its hash",
                record.role.label()
            );
            print_stdout(&format!("{token}\n"))
        }
        TokenAction::List { data_dir } => {
            let store = open_existing_store(&data_dir)?;
            let mut out = String::new();
            for t in store.tokens()? {
                out += &format!(
                    "{}\t{}\tcreated {}\tlast used {}\n",
                    t.name,
                    t.role.label(),
                    time_text(t.created_us),
                    t.last_used_us.map_or_else(|| "never".to_owned(), time_text)
                );
            }
            print_stdout(&out)
        }
        TokenAction::Revoke { data_dir, name } => {
            let store = open_existing_store(&data_dir)?;
            anyhow::ensure!(
                store.revoke_token(&name)?,
                "there is no token named {name:?} (see `piwardrive token list`)"
            );
            eprintln!("token {name} revoked");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn wigle_command(action: WigleAction) -> anyhow::Result<ExitCode> {
    let WigleAction::Upload {
        data_dir,
        config,
        donate,
        dry_run,
    } = action;
    let (config, _) = piwardrive::config::load_layers_in(config.as_deref(), data_dir.as_deref())?;
    let settings = config.validate()?;
    let store = open_existing_store(&settings.data_dir)?;
    let mut options = match piwardrive::wigle::UploadOptions::from_config(&settings.wigle) {
        Ok(o) => o,
        // A dry run needs no account.
        Err(piwardrive::wigle::UploadError::NoCredentials) if dry_run => {
            piwardrive::wigle::UploadOptions::from_config(&piwardrive::config::WigleConfig {
                api_name: Some("dry-run".into()),
                api_token: Some(piwardrive::config::Secret::new("dry-run")),
                ..settings.wigle.clone()
            })?
        }
        Err(e) => return Err(e.into()),
    };
    options.donate |= donate;
    options.dry_run = dry_run;
    let before = store.wigle_watermark()?;
    let rt = tokio::runtime::Runtime::new()?;
    let result = rt.block_on(piwardrive::wigle::upload(&store, &options));
    let (sent, error) = match result {
        Ok(o) => {
            let s = &o.skipped;
            if s.skipped_client + s.skipped_no_fix + s.skipped_bad_fix > 0 {
                eprintln!(
                    "left out: {} client observations, {} without a position, {} with an unusable one",
                    s.skipped_client, s.skipped_no_fix, s.skipped_bad_fix
                );
            }
            if o.nothing_to_send {
                eprintln!(
                    "nothing to upload: no observation with a position since the last upload                      (observations up to #{before} were uploaded before); no request was made"
                );
                return Ok(ExitCode::SUCCESS);
            }
            (o.sent, None)
        }
        Err(f) => (f.sent, Some(f.error)),
    };
    for f in &sent {
        if dry_run {
            eprintln!(
                "would upload {}: {} rows, {} bytes gzipped (observations #{}..=#{})",
                f.file_name,
                f.rows,
                f.bytes,
                f.after_seq + 1,
                f.last_seq
            );
        } else {
            eprintln!(
                "uploaded {}: {} rows, {} bytes gzipped; WiGLE transaction {}",
                f.file_name,
                f.rows,
                f.bytes,
                f.trans_id.as_deref().unwrap_or("(none given)")
            );
        }
    }
    match error {
        None => {
            if dry_run {
                eprintln!("dry run: nothing was sent or recorded");
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(e) if sent.is_empty() => Err(e.into()),
        Some(e) => Err(anyhow::anyhow!(
            "{e} (the {} file(s) above were uploaded and recorded)",
            sent.len()
        )),
    }
}

/// RFC 3339 UTC, seconds.
fn time_text(us: i64) -> String {
    piwardrive::web::time_iso(us)
}

/// Reads a password: from the terminal without echo, twice; else the first line of stdin.
fn read_password(prompt: &str) -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal, Write};
    let stdin = std::io::stdin();
    let read_line = || -> anyhow::Result<String> {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        Ok(line.trim_end_matches(['\n', '\r']).to_owned())
    };
    if !stdin.is_terminal() {
        let p = read_line()?;
        anyhow::ensure!(!p.is_empty(), "no password on standard input");
        return Ok(p);
    }
    let ask = |prompt: &str| -> anyhow::Result<String> {
        eprint!("{prompt}");
        std::io::stderr().flush()?;
        let _echo_off = EchoOff::new();
        let p = read_line();
        eprintln!();
        p
    };
    let first = ask(prompt)?;
    let second = ask("Again: ")?;
    anyhow::ensure!(
        first == second,
        "the two passwords differ; nothing was changed"
    );
    Ok(first)
}

/// Turns the terminal's echo off until dropped.
struct EchoOff(Option<libc::termios>);

impl EchoOff {
    fn new() -> EchoOff {
        // SAFETY: tcgetattr/tcsetattr on fd 0 with a termios we own; on failure nothing is
        // changed and the password is merely echoed.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) != 0 {
                return EchoOff(None);
            }
            let saved = t;
            t.c_lflag &= !libc::ECHO;
            if libc::tcsetattr(0, libc::TCSANOW, &t) != 0 {
                return EchoOff(None);
            }
            EchoOff(Some(saved))
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            // SAFETY: restores the attributes read in `new`.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, saved);
            }
        }
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Writes a report to standard output; a closed pipe (`| head`) is not an error worth a message.
fn print_stdout(out: &str) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(out.as_bytes())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(e.into());
    }
    Ok(ExitCode::SUCCESS)
}
