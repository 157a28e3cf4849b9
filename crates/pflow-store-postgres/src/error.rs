//! The error this backend attaches as the source of a `StoreError::Backend`: what the
//! server or the client library said, with any password scrubbed, and what kind of
//! failure it is, so that a front end can say what to do about it.

use std::error::Error as _;
use std::io;

use postgres::error::SqlState;

/// What kind of failure a [`PgError`] is, for a front end's hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PgErrorKind {
    /// The store URI cannot be used: not a libpq URI, an unknown parameter, a bad value.
    InvalidUri,
    /// No server answered at the address: refused, no socket there, unreachable, or no
    /// answer within the connect timeout.
    Unreachable,
    /// The server refused the login: a wrong password, an unknown role, no `pg_hba.conf`
    /// line that lets it in, or no password where the server asks for one.
    LoginRefused,
    /// The database named in the URI does not exist.
    NoDatabase,
    /// The role may not do what was asked (a read-only role writing, a role that may not
    /// create the tables on first use).
    PermissionDenied,
    /// The TLS handshake failed, or the server's certificate is not trusted.
    Tls,
    /// The connection's `search_path` names no schema that exists, or only the session's
    /// temporary one (`pg_temp`), so there is nowhere to keep the tables.
    NoSchema,
    /// The tables were made by a newer pflow; this one neither reads nor writes them.
    NewerSchema,
    /// The server closed the connection (a restart, a shutdown, an administrator); the
    /// transaction in progress was rolled back.
    ConnectionLost,
    /// The connection was lost while the server was committing: the write may or may not
    /// have been made.
    CommitUnknown,
    /// The server is starting up or shutting down, or has no connection slot left.
    Unavailable,
    /// Anything else the server or the client library reported.
    Other,
}

/// A failure of the PostgreSQL server or of the connection to it.
///
/// Its text never holds a password: what the server and the client library say is
/// scrubbed of the store URI's password before it is kept.
#[derive(Debug, thiserror::Error)]
#[error("{text}")]
pub struct PgError {
    kind: PgErrorKind,
    text: String,
    sqlstate: Option<String>,
}

impl PgError {
    /// A failure of `kind` described by `text` (already free of secrets).
    pub(crate) fn new(kind: PgErrorKind, text: impl Into<String>) -> PgError {
        PgError { kind, text: text.into(), sqlstate: None }
    }

    /// What the client library reported, while connecting (`connecting`) or afterwards,
    /// with `password` scrubbed from its text.
    pub(crate) fn from_postgres(
        error: &postgres::Error,
        connecting: bool,
        password: Option<&str>,
    ) -> PgError {
        let (kind, text) = classify(error, connecting);
        PgError {
            kind,
            text: scrub(&text, password),
            sqlstate: error.code().map(|c| c.code().to_owned()),
        }
    }

    /// The same failure as another kind (a lost connection while committing).
    pub(crate) fn with_kind(mut self, kind: PgErrorKind) -> PgError {
        self.kind = kind;
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> PgErrorKind {
        self.kind
    }

    /// The SQLSTATE code the server gave, if it gave one (`28P01` for a wrong password).
    pub fn sqlstate(&self) -> Option<&str> {
        self.sqlstate.as_deref()
    }

    /// Whether running the transaction again may succeed: a serialization failure or a
    /// deadlock the server broke.
    pub(crate) fn is_retryable(&self) -> bool {
        matches!(self.sqlstate(), Some("40001" | "40P01"))
    }

    /// A hint for a person that holds for every front end; a front end adds the ones
    /// that name its options (how to choose another store).
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self.kind {
            PgErrorKind::InvalidUri => {
                "a store URI looks like `postgres://USER:PASSWORD@HOST:PORT/DATABASE`, with \
                 `?host=/socket/dir` for a Unix socket"
            }
            PgErrorKind::Unreachable => {
                "check that the PostgreSQL server is running and that the host and port of the \
                 store URI are right"
            }
            PgErrorKind::LoginRefused => {
                "check the user and password of the store URI, and that the server's \
                 `pg_hba.conf` lets that user in"
            }
            PgErrorKind::NoDatabase => {
                "create the database (`createdb NAME`), or name one that exists in the store URI"
            }
            PgErrorKind::PermissionDenied => {
                "a role that saves workflows needs SELECT, INSERT, UPDATE and DELETE on the \
                 store's tables (and CREATE on its schema the first time); a read-only role can \
                 only list, show and run them"
            }
            PgErrorKind::Tls => {
                "check `sslmode` and `sslrootcert` in the store URI: `verify-full` needs the CA \
                 that signed the server's certificate and the host name the certificate names"
            }
            PgErrorKind::NoSchema => {
                "create the schema first (`CREATE SCHEMA name`), or fix `search_path` in the \
                 store URI's `options` (naming a schema that exists and is not `pg_temp`)"
            }
            PgErrorKind::NewerSchema => {
                "a newer pflow upgraded this store: use that version (or a newer one) here too"
            }
            PgErrorKind::ConnectionLost => {
                "the server may have been restarted; nothing of the interrupted write was kept, \
                 so run the command again"
            }
            PgErrorKind::CommitUnknown => {
                "look at the workflow to see whether the change was made before running the \
                 command again"
            }
            PgErrorKind::Unavailable => "wait for the server to be ready, then try again",
            PgErrorKind::Other => return None,
        })
    }
}

/// Replaces every occurrence of `password` (as written and percent-encoded) in `text`.
pub(crate) fn scrub(text: &str, password: Option<&str>) -> String {
    match password.filter(|p| !p.is_empty()) {
        Some(password) => {
            let encoded = crate::uri::percent_encode(password);
            text.replace(password, "***").replace(&encoded, "***")
        }
        None => text.to_owned(),
    }
}

/// The kind of `error` and a one-line description of it.
fn classify(error: &postgres::Error, connecting: bool) -> (PgErrorKind, String) {
    if let Some(db) = error.as_db_error() {
        let code = db.code();
        let kind = if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            PgErrorKind::LoginRefused
        } else if *code == SqlState::INVALID_CATALOG_NAME {
            PgErrorKind::NoDatabase
        } else if *code == SqlState::INSUFFICIENT_PRIVILEGE
            || *code == SqlState::READ_ONLY_SQL_TRANSACTION
        {
            PgErrorKind::PermissionDenied
        } else if *code == SqlState::ADMIN_SHUTDOWN || *code == SqlState::CRASH_SHUTDOWN {
            PgErrorKind::ConnectionLost
        } else if *code == SqlState::CANNOT_CONNECT_NOW || *code == SqlState::TOO_MANY_CONNECTIONS {
            PgErrorKind::Unavailable
        } else {
            PgErrorKind::Other
        };
        let mut text = db.message().to_owned();
        if let Some(detail) = db.detail() {
            text.push_str(": ");
            text.push_str(detail);
        }
        return (kind, text);
    }
    if error.is_closed() {
        return (PgErrorKind::ConnectionLost, "the server closed the connection".to_owned());
    }
    let text = chain(error);
    let described = error.to_string();
    // rustls reports through an IO error: look at what failed first.
    if described.starts_with("error performing TLS handshake") {
        return (PgErrorKind::Tls, text);
    }
    if let Some(io) = io_source(error) {
        let kind = match io.kind() {
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
                if !connecting =>
            {
                PgErrorKind::ConnectionLost
            }
            _ if connecting => PgErrorKind::Unreachable,
            _ => PgErrorKind::ConnectionLost,
        };
        return (kind, text);
    }
    let kind = if described.starts_with("authentication error") || text.contains("password missing")
    {
        PgErrorKind::LoginRefused
    } else if described.starts_with("timeout waiting for server") {
        PgErrorKind::Unreachable
    } else if described.starts_with("invalid connection string")
        || described.starts_with("invalid configuration")
    {
        PgErrorKind::InvalidUri
    } else {
        PgErrorKind::Other
    };
    (kind, text)
}

/// The error and its sources as one line, `error connecting to server: connection
/// refused (os error 111)`, each part starting in lower case.
fn chain(error: &postgres::Error) -> String {
    let mut parts = vec![lower_first(&error.to_string())];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = lower_first(&cause.to_string());
        if !parts.last().is_some_and(|last| last.ends_with(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

/// The IO error at the root of `error`, if there is one.
fn io_source(error: &postgres::Error) -> Option<&io::Error> {
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            return Some(io);
        }
        source = cause.source();
    }
    None
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first)
            if first.is_ascii_uppercase()
                && !chars.clone().next().is_some_and(|c| c.is_ascii_uppercase()) =>
        {
            first.to_ascii_lowercase().to_string() + chars.as_str()
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_hides_the_password_as_written_and_encoded() {
        assert_eq!(scrub("user s3cr&t! failed", Some("s3cr&t!")), "user *** failed");
        assert_eq!(scrub("s3cr%26t%21 in a uri", Some("s3cr&t!")), "*** in a uri");
        assert_eq!(scrub("nothing to hide", None), "nothing to hide");
        assert_eq!(scrub("nothing to hide", Some("")), "nothing to hide");
    }

    #[test]
    fn first_letters_are_lowered_but_not_acronyms() {
        assert_eq!(lower_first("Connection refused"), "connection refused");
        assert_eq!(lower_first("TLS failed"), "TLS failed");
        assert_eq!(lower_first(""), "");
    }
}
