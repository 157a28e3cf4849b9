//! TLS as `sslmode` asks, against a test server on 127.0.0.1 with a certificate the test
//! makes (signed by a CA it makes): `require` and `prefer` encrypt, `verify-ca` checks
//! the CA, `verify-full` the CA and the host name.

use pflow_store::StoreError;
use pflow_store_postgres::testing::{ServerOptions, TestServer};
use pflow_store_postgres::{PgError, PgErrorKind, PgStore};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

/// The host name the server's certificate is for (reached at 127.0.0.1 by `hostaddr`).
const HOST: &str = "db.pflow.test";

/// A CA, and a certificate it signs for `names`: `(ca, chain, key)` in PEM.
fn certificates(names: &[&str]) -> (String, String, String) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "pflow test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    params.distinguished_name.push(DnType::CommonName, HOST);
    let cert = params.signed_by(&key, &ca).unwrap();
    (ca.pem(), cert.pem(), key.serialize_pem())
}

/// What connecting to `uri` gives: `Ok`, or the kind of failure.
fn connect(uri: &str) -> Result<(), (PgErrorKind, String)> {
    match PgStore::open(uri).and_then(|store| store.connect()) {
        Ok(()) => Ok(()),
        Err(StoreError::Backend { source, message }) => {
            let pg = source.downcast_ref::<PgError>().expect("a PgError");
            Err((pg.kind(), format!("{message}: {pg}")))
        }
        Err(other) => panic!("{uri}: {other}"),
    }
}

#[test]
fn tls_as_sslmode_asks() {
    let (ca, chain, key) = certificates(&[HOST]);
    let (other_ca, _, _) = certificates(&[HOST]);
    let dir = tempfile::tempdir().unwrap();
    let (ca_file, other_file) = (dir.path().join("ca.pem"), dir.path().join("other-ca.pem"));
    std::fs::write(&ca_file, ca).unwrap();
    std::fs::write(&other_file, other_ca).unwrap();
    // Over TCP only TLS gets in: a connection that is not encrypted is turned away.
    let hba = "local all all trust\n\
               hostssl all all 127.0.0.1/32 trust\n\
               host all all 127.0.0.1/32 reject\n";
    let server = TestServer::start(&ServerOptions {
        tcp: true,
        tls: Some((chain, key)),
        hba: Some(hba.to_owned()),
    });
    let port = server.tcp_port().expect("listens on TCP");
    let at =
        |host: &str, params: &str| format!("postgres://postgres@{host}:{port}/postgres?{params}");
    let by_name = |params: &str| at(HOST, &format!("hostaddr=127.0.0.1&{params}"));
    let (ca, other) = (ca_file.display(), other_file.display());

    let cases: Vec<(String, Result<(), PgErrorKind>)> = vec![
        // Encryption without checking the certificate.
        (at("127.0.0.1", "sslmode=require"), Ok(())),
        (at("127.0.0.1", "sslmode=prefer"), Ok(())),
        (at("127.0.0.1", ""), Ok(())),
        // The certificate's CA and name.
        (by_name(&format!("sslmode=verify-full&sslrootcert={ca}")), Ok(())),
        (at("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={ca}")), Ok(())),
        (at("127.0.0.1", &format!("sslmode=require&sslrootcert={ca}")), Ok(())),
        // The wrong name, the wrong CA, no CA.
        (at("127.0.0.1", &format!("sslmode=verify-full&sslrootcert={ca}")), Err(PgErrorKind::Tls)),
        (
            at(
                "other.pflow.test",
                &format!("hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={ca}"),
            ),
            Err(PgErrorKind::Tls),
        ),
        (by_name(&format!("sslmode=verify-full&sslrootcert={other}")), Err(PgErrorKind::Tls)),
        (at("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={other}")), Err(PgErrorKind::Tls)),
        (at("127.0.0.1", &format!("sslmode=require&sslrootcert={other}")), Err(PgErrorKind::Tls)),
        (by_name("sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"), Err(PgErrorKind::Tls)),
        // Without TLS the server's rules turn it away.
        (at("127.0.0.1", "sslmode=disable"), Err(PgErrorKind::LoginRefused)),
    ];
    let mut failed = Vec::new();
    for (uri, want) in &cases {
        let got = connect(uri);
        let same = match (&got, want) {
            (Ok(()), Ok(())) => true,
            (Err((kind, _)), Err(want)) => kind == want,
            _ => false,
        };
        if !same {
            failed.push(format!("{uri}: expected {want:?}, got {got:?}"));
        }
    }
    println!("TLS: {} connections as sslmode asks, {} wrong", cases.len(), failed.len());
    assert!(failed.is_empty(), "{}\nserver log:\n{}", failed.join("\n"), server.log());
}
