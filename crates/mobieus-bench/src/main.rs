//! `mobieus-bench SCENARIO`: runs the real engine (store, use cases, delivery worker, API)
//! in this process against a fast receiver on loopback, and prints each figure beside its
//! target (PASS/MISS). `--json FILE` writes every figure; `--quick` runs each scenario at a
//! tenth of its size. Traffic goes to 127.0.0.1 only.

mod engine;
mod receiver;
mod report;
mod scenarios;
mod sys;

use clap::{Parser, ValueEnum};
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
    let args = Args::parse();
    if args.backend == Backend::Postgres {
        eprintln!(
            "error: the postgres backend is not built yet (see the scale-out issue); use --backend sqlite"
        );
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
    let result = runtime.block_on(run(args.scenario, scale));
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

async fn run(scenario: Scenario, scale: f64) -> Result<Report, String> {
    mobieus_delivery::install_crypto();
    sys::prepare();
    let mut report = Report::new(scale);
    let all = scenario == Scenario::All;
    if all || scenario == Scenario::Latency {
        report.add("latency", scenarios::latency::run(scale).await?);
    }
    if all || scenario == Scenario::Throughput {
        report.add("throughput", scenarios::throughput::run(scale).await?);
    }
    if all || scenario == Scenario::Fanout {
        report.add("fanout", scenarios::fanout::run(scale).await?);
    }
    if all || scenario == Scenario::Api {
        report.add("api", scenarios::api::run(scale).await?);
    }
    if all || scenario == Scenario::QueueScale {
        report.add("queue-scale", scenarios::queue_scale::run(scale).await?);
    }
    if all || scenario == Scenario::Idle {
        report.add("idle", scenarios::idle::run(scale).await?);
    }
    if all || scenario == Scenario::Ingest {
        report.add("ingest", scenarios::ingest::run(scale).await?);
    }
    Ok(report)
}
