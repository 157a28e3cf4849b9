//! The store's connection URI: libpq's URI form parsed into a client configuration, the
//! TLS it asks for, and [`redact`], the one function that hides its password.
//!
//! The client library (`tokio-postgres`, under the synchronous `postgres` crate) parses
//! the URI itself, but knows neither `sslmode=verify-ca`/`verify-full` nor `sslrootcert`:
//! those are taken out here and handled by the TLS connector (`tls.rs`).

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::error::{PgError, PgErrorKind};

/// How long connecting may take when the URI does not say (`connect_timeout`).
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where libpq looks for a server when the URI names no host: Debian's socket directory,
/// then the upstream default.
const DEFAULT_SOCKET_DIRS: [&str; 2] = ["/var/run/postgresql", "/tmp"];

/// Whether `text` is a PostgreSQL connection URI (`postgres://…` or `postgresql://…`)
/// rather than a directory.
pub fn is_postgres_uri(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

/// `uri` with its password hidden: `postgres://alice:***@db/pflow`.
///
/// The password of the user part and a `password=` (or `sslpassword=`) parameter become
/// `***`. It errs on the side of hiding: when the text is too odd to tell where the user
/// part ends, more than the password may be hidden, never less. Text that is not a URI
/// comes back as it is.
pub fn redact(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else { return uri.to_owned() };
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    // The user part ends at the last `@` before the parameters; a password holding a
    // `/` (unencoded) still lies before it.
    let authority_and_path = match before_query.rsplit_once('@') {
        Some((userinfo, hosts)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{hosts}"),
            None => format!("{userinfo}@{hosts}"),
        },
        None => before_query.to_owned(),
    };
    let mut out = format!("{scheme}://{authority_and_path}");
    if let Some(query) = query {
        // An `@` after the `?` cannot tell where a user part ends: hide the lot.
        if query.contains('@') && query.contains(':') && !before_query.contains('@') {
            out.push_str("?***");
            return out;
        }
        out.push('?');
        let params: Vec<String> = query
            .split('&')
            .map(|param| match param.split_once('=') {
                Some((key, _)) if is_secret_param(&percent_decode(key)) => format!("{key}=***"),
                _ => param.to_owned(),
            })
            .collect();
        out.push_str(&params.join("&"));
    }
    out
}

fn is_secret_param(key: &str) -> bool {
    matches!(key, "password" | "sslpassword")
}

/// What `sslmode` asks for (libpq's meanings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    /// Never TLS.
    Disable,
    /// TLS when the server offers it, without checking its certificate (`allow` and
    /// `prefer`, the default). Never over a Unix socket.
    Prefer,
    /// TLS or no connection; the certificate is checked only when `sslrootcert` names a
    /// CA (then as `verify-ca`, as libpq does).
    Require,
    /// TLS, with a certificate signed by the CA of `sslrootcert`, for any host name.
    VerifyCa,
    /// TLS, with a certificate signed by the CA of `sslrootcert` for the host connected to.
    VerifyFull,
}

/// A parsed store URI: the client configuration and the TLS it needs.
#[derive(Clone)]
pub(crate) struct StoreUri {
    /// The URI as given, with its password hidden.
    pub(crate) redacted: String,
    pub(crate) config: postgres::Config,
    pub(crate) ssl: SslMode,
    /// The CA certificates (PEM) that `verify-*` check the server's certificate against.
    pub(crate) root_cert: Option<PathBuf>,
    /// How long connecting may take; `None` to wait as long as it takes
    /// (`connect_timeout=0`).
    pub(crate) timeout: Option<Duration>,
    password: Option<String>,
}

// The configuration holds the password: never print it.
impl std::fmt::Debug for StoreUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreUri").field("uri", &self.redacted).field("ssl", &self.ssl).finish()
    }
}

impl StoreUri {
    /// Parses a libpq URI: user, password, host (a Unix-socket directory as `?host=/dir`
    /// or a percent-encoded host), port, database, and the parameters `sslmode`,
    /// `sslrootcert`, `connect_timeout`, `options` and the others libpq's URIs take that
    /// the client library knows.
    pub(crate) fn parse(uri: &str) -> Result<StoreUri, PgError> {
        let redacted = redact(uri);
        if !is_postgres_uri(uri) {
            return Err(invalid("a store URI starts with `postgres://` or `postgresql://`"));
        }
        let (base, query) = match uri.split_once('?') {
            Some((base, query)) => (base, query),
            None => (uri, ""),
        };
        let mut ssl = SslMode::Prefer;
        let mut root_cert = None;
        let mut timeout = Some(DEFAULT_CONNECT_TIMEOUT);
        let mut passed = Vec::new();
        for param in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = param.split_once('=').unwrap_or((param, ""));
            let (key, value) = (percent_decode(key), percent_decode(value));
            match key.as_str() {
                "sslmode" => ssl = ssl_mode(&value)?,
                "sslrootcert" => root_cert = Some(PathBuf::from(value)),
                "connect_timeout" => {
                    let seconds: i64 = value.trim().parse().map_err(|_| {
                        invalid(&format!(
                            "`connect_timeout` must be a number of seconds, not `{value}`"
                        ))
                    })?;
                    // libpq: zero or less waits as long as it takes.
                    timeout = u64::try_from(seconds)
                        .ok()
                        .filter(|s| *s > 0)
                        .map(|s| Duration::from_secs(s.max(2)));
                    passed.push(param);
                }
                _ => passed.push(param),
            }
        }
        let rebuilt = if passed.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", passed.join("&"))
        };
        let mut config = postgres::Config::from_str(&rebuilt).map_err(|e| {
            let error = PgError::from_postgres(&e, true, None);
            PgError::new(PgErrorKind::InvalidUri, error.to_string())
        })?;
        let password = config.get_password().map(|p| String::from_utf8_lossy(p).into_owned());
        if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
            for dir in DEFAULT_SOCKET_DIRS {
                config.host_path(dir);
            }
        }
        // The client library takes `connect_timeout=0` as unset already.
        if let Some(timeout) = timeout {
            config.connect_timeout(timeout);
        }
        if config.get_application_name().is_none() {
            config.application_name("pflow");
        }
        // The TLS connector decides about certificates; the client library only needs to
        // know whether to ask for TLS at all. Over a Unix socket it is never offered.
        let all_sockets =
            config.get_hosts().iter().all(|h| matches!(h, postgres::config::Host::Unix(_)))
                && config.get_hostaddrs().is_empty();
        config.ssl_mode(match ssl {
            SslMode::Disable => postgres::config::SslMode::Disable,
            SslMode::Prefer if all_sockets => postgres::config::SslMode::Disable,
            SslMode::Prefer => postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                postgres::config::SslMode::Require
            }
        });
        if ssl == SslMode::Require && root_cert.is_some() {
            ssl = SslMode::VerifyCa;
        }
        if matches!(ssl, SslMode::VerifyCa | SslMode::VerifyFull) && root_cert.is_none() {
            root_cert = default_root_cert();
        }
        Ok(StoreUri { redacted, config, ssl, root_cert, timeout, password })
    }

    /// The password, for scrubbing it from what the server and the library say.
    pub(crate) fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// How many hosts connecting may try, one after the other.
    pub(crate) fn host_count(&self) -> usize {
        self.config.get_hosts().len().max(self.config.get_hostaddrs().len()).max(1)
    }
}

fn ssl_mode(value: &str) -> Result<SslMode, PgError> {
    Ok(match value {
        "disable" => SslMode::Disable,
        "allow" | "prefer" => SslMode::Prefer,
        "require" => SslMode::Require,
        "verify-ca" => SslMode::VerifyCa,
        "verify-full" => SslMode::VerifyFull,
        other => {
            return Err(invalid(&format!(
                "`sslmode` must be `disable`, `allow`, `prefer`, `require`, `verify-ca` or \
                 `verify-full`, not `{other}`"
            )));
        }
    })
}

/// libpq's default CA file, `~/.postgresql/root.crt`, when it exists.
fn default_root_cert() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    let path = PathBuf::from(home).join(".postgresql/root.crt");
    path.is_file().then_some(path)
}

fn invalid(text: &str) -> PgError {
    PgError::new(PgErrorKind::InvalidUri, text)
}

/// `%XX` sequences decoded; anything else kept (lossily, as UTF-8).
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) =
                (bytes.get(i + 1).and_then(|b| hex(*b)), bytes.get(i + 2).and_then(|b| hex(*b)))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every byte but RFC 3986's unreserved characters as `%XX`.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_redact(uri: &str, expected: &str) {
        assert_eq!(redact(uri), expected);
    }

    #[test]
    fn redact_hides_every_password() {
        check_redact(
            "postgres://alice:s3cret@db.example/pflow",
            "postgres://alice:***@db.example/pflow",
        );
        check_redact("postgresql://alice@db/pflow", "postgresql://alice@db/pflow");
        check_redact("postgres://db/pflow", "postgres://db/pflow");
        check_redact("postgres://alice:p/a@ss@db:5432/pflow", "postgres://alice:***@db:5432/pflow");
        check_redact(
            "postgres:///pflow?host=/run/pg&password=s3cret&sslmode=require",
            "postgres:///pflow?host=/run/pg&password=***&sslmode=require",
        );
        check_redact("postgres://db/x?pass%77ord=s3cret", "postgres://db/x?pass%77ord=***");
        check_redact("postgres://alice:@db/x", "postgres://alice:***@db/x");
        check_redact("postgres://host/db?application_name=a:b@c", "postgres://host/db?***");
        check_redact("/a/directory", "/a/directory");
    }

    #[test]
    fn uri_forms_parse() {
        let uri = StoreUri::parse(
            "postgresql://alice:s%40cret@db.example:6543/pflow?sslmode=verify-full&sslrootcert=/ca.pem&connect_timeout=3&options=-csearch_path%3Dteam_a",
        )
        .unwrap();
        assert_eq!(uri.config.get_user(), Some("alice"));
        assert_eq!(uri.password(), Some("s@cret"));
        assert_eq!(uri.config.get_dbname(), Some("pflow"));
        assert_eq!(uri.config.get_ports(), [6543]);
        assert_eq!(uri.config.get_options(), Some("-csearch_path=team_a"));
        assert_eq!(uri.ssl, SslMode::VerifyFull);
        assert_eq!(uri.root_cert, Some(PathBuf::from("/ca.pem")));
        assert_eq!(uri.timeout, Some(Duration::from_secs(3)));
        assert_eq!(
            uri.redacted,
            redact(
                "postgresql://alice:s%40cret@db.example:6543/pflow?sslmode=verify-full&sslrootcert=/ca.pem&connect_timeout=3&options=-csearch_path%3Dteam_a"
            )
        );

        let socket = StoreUri::parse("postgres:///pflow?host=/run/pg").unwrap();
        assert!(matches!(
            socket.config.get_hosts(),
            [postgres::config::Host::Unix(dir)] if dir == std::path::Path::new("/run/pg")
        ));
        assert_eq!(socket.timeout, Some(DEFAULT_CONNECT_TIMEOUT));
        assert_eq!(socket.config.get_ssl_mode(), postgres::config::SslMode::Disable);
        let encoded = StoreUri::parse("postgres://%2Frun%2Fpg/pflow").unwrap();
        assert_eq!(encoded.config.get_hosts(), socket.config.get_hosts());

        let default = StoreUri::parse("postgres:///pflow").unwrap();
        assert_eq!(default.config.get_hosts().len(), 2);
        let forever = StoreUri::parse("postgres://db/pflow?connect_timeout=0").unwrap();
        assert_eq!(forever.timeout, None);
        assert_eq!(forever.config.get_connect_timeout(), None);
    }

    #[test]
    fn bad_uris_are_refused_without_their_password() {
        for bad in [
            "mysql://alice:s3cret@db/x",
            "postgres://alice:s3cret@db/x?sslmode=sometimes",
            "postgres://alice:s3cret@db/x?connect_timeout=soon",
            "postgres://alice:s3cret@db/x?unknown=1",
            "postgres://alice:s3cret@db:port/x",
        ] {
            let err = StoreUri::parse(bad).unwrap_err();
            assert_eq!(err.kind(), PgErrorKind::InvalidUri, "{bad}: {err}");
            assert!(!err.to_string().contains("s3cret"), "{bad}: {err}");
        }
    }

    #[test]
    fn percent_coding_round_trips() {
        assert_eq!(percent_decode("a%2Fb%3d%zz"), "a/b=%zz");
        assert_eq!(percent_encode("p@ss w/rd"), "p%40ss%20w%2Frd");
        assert_eq!(percent_decode(&percent_encode("p@ss w/rd")), "p@ss w/rd");
    }
}
