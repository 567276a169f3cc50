//! Figures and targets: a table per scenario (PASS/MISS beside each target), a summary
//! when several ran, and the JSON document `--json` writes. On Postgres the targets (set
//! for SQLite) are shown for reference, and every table says which backend it is.

use crate::engine::Backend;
use serde_json::{Map, Value, json};

/// One target: a figure and its limit.
#[derive(Debug)]
pub struct Target {
    pub name: String,
    pub value: f64,
    pub limit: f64,
    /// `true`: the value must be at most the limit; `false`: at least.
    pub at_most: bool,
    pub unit: &'static str,
}

impl Target {
    pub fn at_most(name: &str, value: f64, limit: f64, unit: &'static str) -> Self {
        Self {
            name: name.to_owned(),
            value,
            limit,
            at_most: true,
            unit,
        }
    }

    pub fn at_least(name: &str, value: f64, limit: f64, unit: &'static str) -> Self {
        Self {
            name: name.to_owned(),
            value,
            limit,
            at_most: false,
            unit,
        }
    }

    pub fn pass(&self) -> bool {
        if self.at_most {
            self.value <= self.limit
        } else {
            self.value >= self.limit
        }
    }
}

/// What one scenario measured.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Every figure, in the order measured: (name, value, unit).
    pub figures: Vec<(String, f64, &'static str)>,
    pub targets: Vec<Target>,
}

impl Outcome {
    pub fn figure(&mut self, name: &str, value: f64, unit: &'static str) {
        self.figures.push((name.to_owned(), value, unit));
    }

    pub fn target(&mut self, t: Target) {
        self.targets.push(t);
    }
}

#[derive(Debug)]
pub struct Report {
    scale: f64,
    /// Postgres: the server's version and address; `None`: SQLite.
    postgres: Option<(String, String)>,
    scenarios: Vec<(String, Outcome)>,
}

fn fmt(v: f64) -> String {
    if v.is_nan() {
        // A figure this backend cannot measure.
        "n/a".to_owned()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

impl Report {
    pub fn new(scale: f64, backend: &Backend) -> Self {
        Self {
            scale,
            postgres: match backend {
                Backend::Sqlite => None,
                Backend::Postgres(server) => Some((server.version.clone(), server.address.clone())),
            },
            scenarios: Vec::new(),
        }
    }

    pub fn add(&mut self, name: impl Into<String>, outcome: Outcome) {
        let name = name.into();
        println!("{}", table(&name, &outcome, self.postgres.is_some()));
        self.scenarios.push((name, outcome));
    }

    /// The summary of every target (the tables were printed as each scenario ended).
    pub fn print(&self) {
        let machine = crate::sys::machine();
        println!(
            "machine: {} cores, {}, {:.1} GiB{}",
            machine["cores"],
            machine["cpu"].as_str().unwrap_or("?"),
            machine["memory_gib"].as_f64().unwrap_or(0.0),
            if self.scale < 1.0 {
                "  (--quick: a tenth of each size)"
            } else {
                ""
            }
        );
        if let Some((version, address)) = &self.postgres {
            println!(
                "backend: PostgreSQL {version} at {address}, a fresh database per engine (the targets are set for SQLite: shown for reference)"
            );
        }
        if self.scenarios.len() > 1 {
            if self.postgres.is_some() {
                println!("\nsummary (postgres; targets set for SQLite)");
            } else {
                println!("\nsummary");
            }
            // 12 wide, or wider for the names of worker-process runs.
            let width = self
                .scenarios
                .iter()
                .map(|(name, _)| name.chars().count() + 1)
                .max()
                .unwrap_or(0)
                .max(12);
            for (name, o) in &self.scenarios {
                for t in &o.targets {
                    println!(
                        "  {:<4} {name:<width$} {}",
                        if t.pass() { "PASS" } else { "MISS" },
                        t.name
                    );
                }
            }
        }
    }

    pub fn to_json(&self) -> String {
        let mut doc = Map::new();
        for (name, o) in &self.scenarios {
            let figures: Map<String, Value> = o
                .figures
                .iter()
                .map(|(n, v, _)| (n.clone(), json!(v)))
                .collect();
            let targets: Vec<Value> = o
                .targets
                .iter()
                .map(|t| {
                    let mut target = json!({ "name": t.name, "value": t.value, "limit": t.limit, "pass": t.pass() });
                    if self.postgres.is_some() {
                        // The limit is the SQLite target, for reference.
                        target["limit_for"] = json!("sqlite");
                    }
                    target
                })
                .collect();
            doc.insert(
                name.clone(),
                json!({ "figures": figures, "targets": targets }),
            );
        }
        let mut machine = crate::sys::machine();
        machine["quick"] = json!(self.scale < 1.0);
        if let Some((version, address)) = &self.postgres {
            machine["backend"] = json!("postgres");
            machine["postgres_version"] = json!(version);
            machine["postgres_server"] = json!(address);
        }
        doc.insert("machine".to_owned(), machine);
        serde_json::to_string_pretty(&Value::Object(doc)).unwrap_or_default()
    }
}

fn table(name: &str, o: &Outcome, postgres: bool) -> String {
    let mut out = if postgres {
        format!("\n== {name} [postgres]\n")
    } else {
        format!("\n== {name}\n")
    };
    for (n, v, unit) in &o.figures {
        out.push_str(&format!("  {n:<44} {:>12} {unit}\n", fmt(*v)));
    }
    for t in &o.targets {
        out.push_str(&format!(
            "  {:<4} {:<39} {:>12} {} ({}target {} {})\n",
            if t.pass() { "PASS" } else { "MISS" },
            t.name,
            fmt(t.value),
            t.unit,
            if postgres { "SQLite " } else { "" },
            if t.at_most { "≤" } else { "≥" },
            fmt(t.limit),
        ));
    }
    out
}
