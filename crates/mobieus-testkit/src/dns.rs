//! A resolver for tests: names answer what the test says, and any other name does not
//! resolve, so no test ever asks a real DNS server. Answers can change mid-test (DNS
//! rebinding).

use mobieus_core::url_guard::{Lookup, Resolver};
use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::Mutex;

#[derive(Debug)]
pub struct FakeDns {
    names: Mutex<HashMap<String, Vec<IpAddr>>>,
    lookups: Mutex<Vec<String>>,
}

impl Default for FakeDns {
    /// `localhost` resolves to 127.0.0.1; nothing else resolves.
    fn default() -> Self {
        let dns = Self {
            names: Mutex::default(),
            lookups: Mutex::default(),
        };
        dns.set("localhost", &["127.0.0.1"]);
        dns
    }
}

impl FakeDns {
    /// From now on `name` resolves to `addrs`.
    pub fn set(&self, name: &str, addrs: &[&str]) {
        let addrs = addrs
            .iter()
            .map(|a| a.parse().expect("an IP address"))
            .collect();
        self.names
            .lock()
            .unwrap()
            .insert(name.to_ascii_lowercase(), addrs);
    }

    /// The names looked up so far, in order.
    pub fn lookups(&self) -> Vec<String> {
        self.lookups.lock().unwrap().clone()
    }
}

impl Resolver for FakeDns {
    fn lookup<'a>(&'a self, host: &'a str) -> Lookup<'a> {
        self.lookups.lock().unwrap().push(host.to_owned());
        let answer = self
            .names
            .lock()
            .unwrap()
            .get(&host.trim_end_matches('.').to_ascii_lowercase())
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such name (test DNS)"));
        Box::pin(async move { answer })
    }
}
