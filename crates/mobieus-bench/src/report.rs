//! Figures and targets: a table per scenario (PASS/MISS beside each target), a summary
//! when several ran, and the JSON document `--json` writes.

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
    scenarios: Vec<(&'static str, Outcome)>,
}

fn fmt(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

impl Report {
    pub fn new(scale: f64) -> Self {
        Self {
            scale,
            scenarios: Vec::new(),
        }
    }

    pub fn add(&mut self, name: &'static str, outcome: Outcome) {
        println!("{}", table(name, &outcome));
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
        if self.scenarios.len() > 1 {
            println!("\nsummary");
            for (name, o) in &self.scenarios {
                for t in &o.targets {
                    println!(
                        "  {:<4} {name:<12} {}",
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
                .map(|t| json!({ "name": t.name, "value": t.value, "limit": t.limit, "pass": t.pass() }))
                .collect();
            doc.insert(
                (*name).to_owned(),
                json!({ "figures": figures, "targets": targets }),
            );
        }
        let mut machine = crate::sys::machine();
        machine["quick"] = json!(self.scale < 1.0);
        doc.insert("machine".to_owned(), machine);
        serde_json::to_string_pretty(&Value::Object(doc)).unwrap_or_default()
    }
}

fn table(name: &str, o: &Outcome) -> String {
    let mut out = format!("\n== {name}\n");
    for (n, v, unit) in &o.figures {
        out.push_str(&format!("  {n:<44} {:>12} {unit}\n", fmt(*v)));
    }
    for t in &o.targets {
        out.push_str(&format!(
            "  {:<4} {:<39} {:>12} {} (target {} {})\n",
            if t.pass() { "PASS" } else { "MISS" },
            t.name,
            fmt(t.value),
            t.unit,
            if t.at_most { "≤" } else { "≥" },
            fmt(t.limit),
        ));
    }
    out
}
