//! One connection to the server, ready for the store: connected within the connect
//! timeout, its schema known, its tables at this binary's version.

use std::sync::mpsc;
use std::time::Duration;

use pflow_store::StoreError;
use postgres::NoTls;

use crate::error::{PgError, PgErrorKind};
use crate::schema;
use crate::uri::StoreUri;

/// Why something failed, before it is told as a [`StoreError`] naming the store.
#[derive(Debug)]
pub(crate) enum Fail {
    /// The client library or the server (its text is scrubbed when it is told).
    Pg(postgres::Error),
    /// Found by this crate: a newer schema, no schema, a failed connect.
    Found(PgError),
    /// A store error to pass on as it is (not found, exists, corrupt).
    Store(StoreError),
}

impl From<postgres::Error> for Fail {
    fn from(error: postgres::Error) -> Fail {
        Fail::Pg(error)
    }
}

impl From<StoreError> for Fail {
    fn from(error: StoreError) -> Fail {
        Fail::Store(error)
    }
}

/// A connection with what the store needs to know about it.
pub(crate) struct Session {
    pub(crate) client: postgres::Client,
    /// The schema the tables live in (the connection's current schema).
    pub(crate) schema: String,
    /// The second key of the library's advisory lock.
    pub(crate) lock_key: i32,
    /// The schema version of the tables, as found on connecting.
    pub(crate) version: u32,
}

impl Session {
    /// Connects, finds the current schema, and creates or upgrades the tables.
    pub(crate) fn open(uri: &StoreUri) -> Result<Session, Fail> {
        let mut client = connect(uri)?;
        let row = client.query_typed_one(
            &format!(
                "SELECT current_schema(), hashtext(current_schema()), {}",
                schema::TABLES_EXIST
            ),
            &[],
        )?;
        let schema: Option<String> = row.get(0);
        let Some(schema) = schema else {
            return Err(Fail::Found(PgError::new(
                PgErrorKind::NoSchema,
                "the connection's `search_path` names no schema that exists, so there is \
                 nowhere to keep the tables",
            )));
        };
        if is_temporary(&schema) {
            return Err(Fail::Found(PgError::new(
                PgErrorKind::NoSchema,
                format!(
                    "the connection's `search_path` puts the tables in the session's temporary \
                     schema `{schema}`, which is dropped when the connection closes, so nothing \
                     saved there would be kept"
                ),
            )));
        }
        let lock_key: i32 = row.get(1);
        let version = schema::migrate(&mut client, lock_key, row.get(2))?;
        Ok(Session { client, schema, lock_key, version })
    }
}

/// Whether `schema` is a session's temporary schema (`pg_temp` in a `search_path`): the
/// server names them `pg_temp_N`, and no role may create a schema whose name begins with
/// `pg_`, so the name tells.
fn is_temporary(schema: &str) -> bool {
    schema.starts_with("pg_temp_")
}

/// Connects within the URI's connect timeout for the whole of the handshake (TCP, TLS,
/// login) — the client library's own timeout covers only the first step, and a server
/// that accepts a connection and then says nothing would keep it waiting for ever.
///
/// The handshake runs on a thread of its own; when it does not finish in time, the thread
/// is left to end by itself (a command exits soon after).
fn connect(uri: &StoreUri) -> Result<postgres::Client, Fail> {
    let tls = crate::tls::connector(uri).map_err(Fail::Found)?;
    let config = uri.config.clone();
    let (sender, receiver) = mpsc::channel();
    let spawned =
        std::thread::Builder::new().name("pflow-pg-connect".to_owned()).spawn(move || {
            let result = match tls {
                Some(tls) => config.connect(tls),
                None => config.connect(NoTls),
            };
            let _ = sender.send(result);
        });
    if let Err(e) = spawned {
        return Err(Fail::Found(PgError::new(
            PgErrorKind::Other,
            format!("cannot start a thread to connect: {e}"),
        )));
    }
    let result = match uri.timeout {
        Some(timeout) => {
            // Each host gets the timeout; the library's own error, a moment earlier,
            // says more than ours.
            let hosts = u32::try_from(uri.host_count()).unwrap_or(u32::MAX);
            let deadline = timeout.saturating_mul(hosts) + Duration::from_millis(250);
            match receiver.recv_timeout(deadline) {
                Ok(result) => result,
                Err(_) => {
                    return Err(Fail::Found(PgError::new(
                        PgErrorKind::Unreachable,
                        format!(
                            "no answer from the server within the connect timeout of {} s",
                            timeout.as_secs()
                        ),
                    )));
                }
            }
        }
        None => receiver.recv().map_err(|_| {
            Fail::Found(PgError::new(PgErrorKind::Other, "the connecting thread died"))
        })?,
    };
    result.map_err(|e| Fail::Found(PgError::from_postgres(&e, true, uri.password())))
}
