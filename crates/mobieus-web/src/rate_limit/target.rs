//! Where the shared rate limits' Redis is: a `redis://` or `rediss://` (TLS) URL, and for
//! TLS the CA to trust when it is not one of the system's. Read once at start into the
//! redis crate's client, so a bad URL or CA file is refused before the node serves.

use redis::{ConnectionAddr, IntoConnectionInfo as _, RedisConnectionInfo, TlsCertificates};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use std::fmt;

/// Where Redis is, from `redis[s]://[[USER]:PASSWORD@]HOST[:PORT][/DB]`. Its `Debug` and
/// `Display` never show the credentials.
#[derive(Clone)]
pub struct RedisTarget {
    tls: bool,
    host: String,
    port: u16,
    db: u32,
    user: Option<String>,
    password: Option<String>,
    /// What connects: the parts above, and the trusted CA when one was given.
    client: redis::Client,
}

const EXPECTED: &str =
    "expected a URL like redis://[:PASSWORD@]HOST[:PORT][/DB] (rediss:// for TLS)";

impl RedisTarget {
    /// Parses a `redis://` or `rediss://` URL; the error never repeats it (it may hold a
    /// password). Over TLS the server's certificate is checked against the system's
    /// roots, or those of [`RedisTarget::trusting`].
    pub fn parse(s: &str) -> Result<Self, String> {
        let tls = s.starts_with("rediss://");
        if !tls && !s.starts_with("redis://") {
            return Err(EXPECTED.to_owned());
        }
        let url = url::Url::parse(s).map_err(|e| format!("not a valid redis:// URL ({e})"))?;
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_owned(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => a.to_string(),
            _ => return Err("the redis:// URL names no host".to_owned()),
        };
        let db = match url.path().trim_start_matches('/') {
            "" => 0,
            n => n.parse::<u32>().map_err(|_| {
                "the redis:// URL's path must be a database number, like /0".to_owned()
            })?,
        };
        if url.query().is_some() || url.fragment().is_some() {
            return Err("the redis:// URL takes no query or fragment".to_owned());
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| "the redis:// URL's user or password is not UTF-8".to_owned())
        };
        let password = url.password().map(decode).transpose()?;
        let user = match url.username() {
            "" => None,
            u => Some(decode(u)?),
        };
        let port = url.port().unwrap_or(6379);
        let client = client(
            tls,
            &host,
            port,
            db,
            user.as_deref(),
            password.as_deref(),
            None,
        )?;
        Ok(Self {
            tls,
            host,
            port,
            db,
            user,
            password,
            client,
        })
    }

    /// Trusts the CA certificates of `pem` (PEM), and only them, for the server's
    /// certificate: a Redis whose certificate a private CA issued. Needs `rediss://`.
    pub fn trusting(mut self, pem: Vec<u8>) -> Result<Self, String> {
        if !self.tls {
            return Err("a CA file is for TLS: the URL must be rediss://".to_owned());
        }
        // An empty store would refuse every server: say so now, not at each connect.
        if CertificateDer::pem_slice_iter(&pem).next().is_none() {
            return Err("the CA file holds no PEM certificate".to_owned());
        }
        self.client = client(
            self.tls,
            &self.host,
            self.port,
            self.db,
            self.user.as_deref(),
            self.password.as_deref(),
            Some(pem),
        )?;
        Ok(self)
    }

    /// The redis crate's client for this target (it connects nothing yet).
    pub(super) fn redis_client(&self) -> &redis::Client {
        &self.client
    }
}

/// The redis crate's client for these parts; `ca_pem`, when given, is the only trust
/// for TLS.
fn client(
    tls: bool,
    host: &str,
    port: u16,
    db: u32,
    user: Option<&str>,
    password: Option<&str>,
    ca_pem: Option<Vec<u8>>,
) -> Result<redis::Client, String> {
    let addr = if tls {
        // rustls picks its provider from its features when none is installed: install
        // ring, the one this program builds, so a crate that brought aws-lc-rs in could
        // not make that choice ambiguous (a panic at the first TLS connection).
        let _ = rustls::crypto::ring::default_provider().install_default();
        ConnectionAddr::TcpTls {
            host: host.to_owned(),
            port,
            insecure: false,
            tls_params: None,
        }
    } else {
        ConnectionAddr::Tcp(host.to_owned(), port)
    };
    // No `CLIENT SETINFO` at connect: a round trip for nothing we read, and a Redis
    // before 7.2 refuses it.
    let mut settings = RedisConnectionInfo::default()
        .set_db(i64::from(db))
        .set_skip_set_lib_name();
    if let Some(user) = user {
        settings = settings.set_username(user);
    }
    if let Some(password) = password {
        settings = settings.set_password(password);
    }
    let info = addr
        .into_connection_info()
        .map_err(|e| format!("the redis:// URL cannot be used ({:?})", e.kind()))?
        .set_redis_settings(settings);
    match ca_pem {
        None => redis::Client::open(info)
            .map_err(|e| format!("the redis:// URL cannot be used ({:?})", e.kind())),
        // The CA's own text is no secret: its parse error may be shown.
        Some(pem) => redis::Client::build_with_tls(
            info,
            TlsCertificates {
                client_tls: None,
                root_cert: Some(pem),
            },
        )
        .map_err(|e| format!("the CA file cannot be used ({e})")),
    }
}

impl fmt::Display for RedisTarget {
    /// `redis://HOST:PORT/DB`, without the credentials: what logs may show.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "rediss" } else { "redis" };
        let auth = if self.password.is_some() { "***@" } else { "" };
        if self.host.contains(':') {
            write!(
                f,
                "{scheme}://{auth}[{}]:{}/{}",
                self.host, self.port, self.db
            )
        } else {
            write!(
                f,
                "{scheme}://{auth}{}:{}/{}",
                self.host, self.port, self.db
            )
        }
    }
}

impl fmt::Debug for RedisTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisTarget({self})")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;

    #[test]
    fn urls_parse_and_never_show_the_password() {
        let t = RedisTarget::parse("redis://app:s%40cret@10.0.0.5:6380/3").unwrap();
        assert_eq!(
            (
                t.host.as_str(),
                t.port,
                t.db,
                t.user.as_deref(),
                t.password.as_deref()
            ),
            ("10.0.0.5", 6380, 3, Some("app"), Some("s@cret"))
        );
        let settings = t.client.get_connection_info().redis_settings();
        assert_eq!(
            (settings.db(), settings.username(), settings.password()),
            (3, Some("app"), Some("s@cret"))
        );
        assert_eq!(t.to_string(), "redis://***@10.0.0.5:6380/3");
        assert!(!format!("{t:?}").contains("cret"));
        // What the connection's own Debug shows (a limiter's Debug holds it) hides it too.
        assert!(!format!("{:?}", t.client).contains("cret"));
        let t = RedisTarget::parse("redis://[::1]").unwrap();
        assert_eq!(t.to_string(), "redis://[::1]:6379/0");
        let t = RedisTarget::parse("redis://:pw@localhost/").unwrap();
        assert_eq!((t.user, t.password.as_deref(), t.db), (None, Some("pw"), 0));
        let t = RedisTarget::parse("rediss://:pw@cache.example:6390/2").unwrap();
        assert_eq!(t.to_string(), "rediss://***@cache.example:6390/2");
        assert!(matches!(
            t.client.get_connection_info().addr(),
            ConnectionAddr::TcpTls {
                insecure: false,
                ..
            }
        ));
        for bad in [
            "http://:secret@host",
            "redis://:secret@host/x",
            "redis://:secret@host/1?db=2",
            "redis://:secret@",
            "secret",
        ] {
            let e = RedisTarget::parse(bad).unwrap_err();
            assert!(!e.contains("secret"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_ca_is_taken_for_tls_only_and_must_be_pem() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = params.self_signed(&key).unwrap().pem().into_bytes();
        let tls = RedisTarget::parse("rediss://127.0.0.1:6390").unwrap();
        assert!(tls.clone().trusting(ca.clone()).is_ok());
        let e = tls
            .clone()
            .trusting(b"not a certificate".to_vec())
            .unwrap_err();
        assert!(e.contains("no PEM certificate"), "{e}");
        let e = RedisTarget::parse("redis://127.0.0.1")
            .unwrap()
            .trusting(ca)
            .unwrap_err();
        assert!(e.contains("rediss://"), "{e}");
    }
}
