//! `mobieus-bench SCENARIO`: runs the real engine (store, use cases, delivery worker, API)
//! in this process against a fast receiver on loopback, and prints each figure beside its
//! target (PASS/MISS). `--json FILE` writes every figure; `--quick` runs each scenario at a
//! tenth of its size. Traffic goes to 127.0.0.1 only.
//!
//! `--backend postgres` runs each engine on a fresh database of the server `--database-url`
//! names, dropped afterwards; `throughput --workers N` drains the backlog with N `mobieus
//! worker` processes instead of the in-process worker.

mod children;
mod engine;
mod pg;
mod receiver;
mod report;
mod scenarios;
mod stream_clients;
mod sys;

use clap::{Parser, ValueEnum};
use engine::Backend as EngineBackend;
use report::Report;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "mobieus-bench", version)]
struct Args {
    /// What to measure.
    scenario: Scenario,
    /// The storage backend.
    #[arg(long, value_enum, default_value_t = Backend::Sqlite)]
    backend: Backend,
    /// Also write every figure as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Run every scenario at a tenth of its size (a smoke run).
    #[arg(long)]
    quick: bool,
    /// With `--backend postgres`: the server to create the bench's databases on, as a
    /// user that may create databases (each `mobieus_bench_<random>`, dropped after).
    #[arg(
        long,
        env = "MOBIEUS_BENCH_POSTGRES_URL",
        hide_env_values = true,
        value_name = "URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// With `--backend postgres`, `throughput` (and `all`): drain the backlog with N
    /// `mobieus worker` processes (0: the worker in this process, the default of
    /// `throughput`; `all` runs the in-process worker and then 1, 2 and 4 processes).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(0..=16))]
    workers: Option<u16>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Latency,
    Throughput,
    Fanout,
    Api,
    QueueScale,
    Idle,
    Ingest,
    Stream,
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Backend {
    Sqlite,
    Postgres,
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    if std::env::var_os(stream_clients::ROLE).is_some() {
        return stream_clients::main();
    }
    let args = Args::parse();
    if args.workers.is_some_and(|n| n > 0) && args.backend != Backend::Postgres {
        eprintln!(
            "error: --workers needs --backend postgres (worker processes share a Postgres database)"
        );
        return ExitCode::from(2);
    }
    if args.workers.is_some_and(|n| n > 0)
        && !matches!(args.scenario, Scenario::Throughput | Scenario::All)
    {
        eprintln!("error: --workers applies to the throughput scenario (and all)");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let scale = if args.quick { 0.1 } else { 1.0 };
    let result = runtime.block_on(async {
        // Ctrl-C ends the run through the same path as an error: the engines' databases
        // and worker processes are dropped with the scenario that held them.
        tokio::select! {
            r = run(&args, scale) => r,
            _ = tokio::signal::ctrl_c() => Err("interrupted".to_owned()),
        }
    });
    // Whatever database an engine could not drop (or was left by a panic).
    pg::drop_leftovers();
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    report.print();
    if let Some(path) = &args.json
        && let Err(e) = std::fs::write(path, report.to_json())
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

async fn run(args: &Args, scale: f64) -> Result<Report, String> {
    mobieus_delivery::install_crypto();
    sys::prepare();
    let backend = match args.backend {
        Backend::Sqlite => EngineBackend::Sqlite,
        Backend::Postgres => EngineBackend::Postgres(std::sync::Arc::new(
            pg::PgServer::connect(&args.database_url).await?,
        )),
    };
    let b = &backend;
    let scenario = args.scenario;
    let mut report = Report::new(scale, b);
    let all = scenario == Scenario::All;
    // The worker processes' binary, before anything is measured.
    let processes: Vec<u16> = match (args.workers, all && b.is_postgres()) {
        (Some(0), _) => Vec::new(),
        (Some(n), _) => vec![n],
        (None, true) => vec![1, 2, 4],
        (None, false) => Vec::new(),
    };
    if !processes.is_empty() {
        children::binary()?;
    }
    if all || scenario == Scenario::Latency {
        report.add("latency", scenarios::latency::run(b, scale).await?);
    }
    if all || scenario == Scenario::Throughput {
        // The in-process worker (as on SQLite) unless worker processes were asked for;
        // `all` on Postgres then also drains with 1, 2 and 4 processes.
        if args.workers.is_none_or(|n| n == 0) || all {
            report.add("throughput", scenarios::throughput::run(b, scale).await?);
        }
        for n in processes {
            report.add(
                format!("throughput-workers-{n}"),
                scenarios::throughput::run_processes(b, scale, n).await?,
            );
        }
    }
    if all || scenario == Scenario::Fanout {
        report.add("fanout", scenarios::fanout::run(b, scale).await?);
    }
    if all || scenario == Scenario::Api {
        report.add("api", scenarios::api::run(b, scale).await?);
    }
    if all || scenario == Scenario::QueueScale {
        report.add("queue-scale", scenarios::queue_scale::run(b, scale).await?);
    }
    if all || scenario == Scenario::Idle {
        report.add("idle", scenarios::idle::run(b, scale).await?);
    }
    if all || scenario == Scenario::Ingest {
        report.add("ingest", scenarios::ingest::run(b, scale).await?);
    }
    if all || scenario == Scenario::Stream {
        report.add("stream", scenarios::stream::run(b, scale).await?);
    }
    Ok(report)
}
