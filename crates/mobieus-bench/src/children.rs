//! `mobieus worker` processes on the engine's Postgres database: started from the
//! `mobieus` binary beside the bench's, killed when done (or when dropped, on error).

use crate::engine::{Engine, err};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

#[derive(Debug)]
pub struct Workers {
    children: Vec<Child>,
    /// Each child's stdout and stderr.
    logs: Vec<PathBuf>,
}

/// The `mobieus` binary beside this one.
pub fn binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(err)?;
    let bin = exe
        .parent()
        .ok_or("the bench binary has no directory")?
        .join("mobieus");
    if !bin.is_file() {
        return Err(format!(
            "worker processes run the mobieus binary beside the bench's, and {} is missing: build it with `cargo build --release -p mobieus` (the same profile as the bench)",
            bin.display()
        ));
    }
    Ok(bin)
}

impl Workers {
    /// Starts `n` workers on `engine`'s database, each with a pool of `pool` connections,
    /// `concurrency` requests in flight and the bench's retry schedule, allowed to deliver
    /// to loopback.
    pub fn spawn(engine: &Engine, n: usize, pool: u32, concurrency: usize) -> Result<Self, String> {
        let pg = engine.pg.as_ref().ok_or("worker processes need Postgres")?;
        let bin = binary()?;
        let key = engine.store.master_key().to_base64();
        let mut workers = Self {
            children: Vec::with_capacity(n),
            logs: Vec::with_capacity(n),
        };
        for i in 0..n {
            let log_path = engine.dir.path().join(format!("worker-{i}.log"));
            let log = std::fs::File::create(&log_path).map_err(err)?;
            let child = Command::new(&bin)
                .arg("--data-dir")
                .arg(engine.dir.path())
                .arg("--database-url")
                .arg(pg.database.url())
                .arg("worker")
                .arg("--webhook-allow-loopback")
                .arg("--delivery-concurrency")
                .arg(concurrency.to_string())
                .arg("--retry-schedule")
                .arg("0s,1s,5s")
                .env("MOBIEUS_MASTER_KEY", &key)
                .env("MOBIEUS_PG_POOL", pool.to_string())
                .stdin(Stdio::null())
                .stdout(log.try_clone().map_err(err)?)
                .stderr(log)
                .spawn()
                .map_err(|e| format!("start {}: {e}", bin.display()))?;
            workers.children.push(child);
            workers.logs.push(log_path);
        }
        Ok(workers)
    }

    /// An error (with the end of its log) when a worker has exited.
    pub fn check(&mut self) -> Result<(), String> {
        for (child, log) in self.children.iter_mut().zip(&self.logs) {
            if let Some(status) = child.try_wait().map_err(err)? {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(10).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                return Err(format!(
                    "a mobieus worker process exited ({status}):\n{}",
                    tail.join("\n")
                ));
            }
        }
        Ok(())
    }

    /// The CPU time the workers have used so far (each since it started).
    pub fn cpu(&self) -> Duration {
        self.children
            .iter()
            .filter_map(|c| crate::sys::cpu_time_of(c.id()))
            .sum()
    }

    /// Kills every worker (SIGKILL: what they hold is leased, and the database goes next).
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.children.clear();
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.kill();
    }
}
