//! What the machine is and what this process uses, from /proc (Linux).

use serde_json::{Value, json};
use std::time::Duration;

/// Reads a /proc file through a handle opened once: a scenario that opens thousands of
/// databases must not make its own measurement fail for want of a file descriptor.
fn read_proc(name: &'static str) -> Option<String> {
    use std::io::{Read, Seek};
    static FILES: std::sync::Mutex<Vec<(&'static str, std::fs::File)>> =
        std::sync::Mutex::new(Vec::new());
    let mut files = FILES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !files.iter().any(|(n, _)| *n == name) {
        files.push((name, std::fs::File::open(name).ok()?));
    }
    let (_, file) = files.iter_mut().find(|(n, _)| *n == name)?;
    file.rewind().ok()?;
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    Some(text)
}

/// Opens the /proc files measurements read, before a scenario uses up descriptors.
pub fn prepare() {
    let _ = read_proc("/proc/self/status");
    let _ = read_proc("/proc/self/stat");
    let _ = read_proc("/proc/self/io");
}

/// Bytes this process has passed to write system calls (files and sockets alike).
pub fn written_bytes() -> u64 {
    read_proc("/proc/self/io")
        .and_then(|io| {
            io.lines()
                .find_map(|l| l.strip_prefix("wchar:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

fn status_kib(field: &str) -> Option<u64> {
    kib_in(&read_proc("/proc/self/status")?, field)
}

/// A `/proc/*/status` field given in kB.
fn kib_in(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Resident memory now, MB.
pub fn rss_mb() -> f64 {
    status_kib("VmRSS:").unwrap_or(0) as f64 / 1024.0
}

/// Now, in µs since the Unix epoch: a clock two processes read alike (the stream
/// scenario's server and clients).
pub fn unix_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// Resident memory of process `pid` now, MB; `None` when it cannot be read.
pub fn rss_mb_of(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(kib_in(&status, "VmRSS:")? as f64 / 1024.0)
}

/// CPU time (user + system) this process has used.
pub fn cpu_time() -> Duration {
    read_proc("/proc/self/stat").map_or(Duration::ZERO, |stat| stat_cpu(&stat))
}

/// CPU time (user + system) process `pid` has used; `None` when it cannot be read.
pub fn cpu_time_of(pid: u32) -> Option<Duration> {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .map(|stat| stat_cpu(&stat))
}

/// utime + stime of a /proc/PID/stat line.
fn stat_cpu(stat: &str) -> Duration {
    // Fields after the command name (which is in parentheses and may hold spaces).
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    let total = ticks(11) + ticks(12);
    // The kernel's USER_HZ is 100 on every Linux this runs on.
    Duration::from_millis(total * 10)
}

pub fn machine() -> Value {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let mem_kib: u64 = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0);
    json!({
        "cores": cores,
        "cpu": cpu,
        "memory_gib": mem_kib as f64 / 1024.0 / 1024.0,
        "os": std::env::consts::OS,
        "backend": "sqlite",
    })
}

/// The p-th percentile (0-100) of sorted samples, in ms.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}
