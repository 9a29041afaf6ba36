//! The hub's own TLS certificate: made with rcgen on first start (ECDSA P-256, self-signed, the names it is reached at), kept in `<data_dir>/hub-tls/`, and the rustls server configuration around it.
//!
//! Nobody has to trust this certificate through a CA: a device pins its SHA-256 at
//! enrollment (the enrollment code names it, see [`super::code`]), and a browser shows the
//! fingerprint the hub logs. It is kept for good once made, since every enrolled device
//! pins it; deleting `hub-tls/` means enrolling every device again.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest as _, Sha256};

/// The directory under the data directory.
pub const DIR: &str = "hub-tls";
pub const CERT_FILE: &str = "cert.pem";
pub const KEY_FILE: &str = "key.pem";

/// The hub's certificate and key, loaded.
pub struct HubCert {
    pub cert: CertificateDer<'static>,
    pub key: PrivateKeyDer<'static>,
    /// SHA-256 of the certificate's DER: what devices pin.
    pub fingerprint: [u8; 32],
    pub cert_path: PathBuf,
    /// True when this start made it.
    pub created: bool,
}

/// SHA-256 of a certificate's DER.
pub fn fingerprint(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// `AB:CD:...`, as browsers and `openssl x509 -fingerprint -sha256` show it.
pub fn fingerprint_text(fp: &[u8; 32]) -> String {
    fp.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The names a new certificate carries: the machine's host name (and its `.local` mDNS
/// name), `localhost`, 127.0.0.1, ::1 and `extra` (the `--san` names and addresses).
pub fn default_names(extra: &[String]) -> Vec<String> {
    let mut names = Vec::new();
    if let Some(h) = hostname() {
        names.push(h.clone());
        if !h.contains('.') {
            names.push(format!("{h}.local"));
        }
    }
    names.extend(["localhost", "127.0.0.1", "::1"].map(str::to_owned));
    for e in extra {
        if !names.contains(e) {
            names.push(e.clone());
        }
    }
    names
}

/// The kernel's host name, when it is a usable DNS name.
fn hostname() -> Option<String> {
    let h = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let h = h.trim().to_ascii_lowercase();
    let ok = !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    ok.then_some(h)
}

/// Loads the certificate from `<data_dir>/hub-tls/`, or makes one there on first start with
/// `names` as its subject alternative names.
pub fn load_or_create(data_dir: &Path, names: &[String]) -> anyhow::Result<HubCert> {
    let dir = data_dir.join(DIR);
    let cert_path = dir.join(CERT_FILE);
    let key_path = dir.join(KEY_FILE);
    let created = match (cert_path.exists(), key_path.exists()) {
        (true, true) => false,
        (false, false) => {
            create(&dir, &cert_path, &key_path, names)?;
            true
        }
        _ => anyhow::bail!(
            "{} holds only one of {CERT_FILE} and {KEY_FILE}: restore the missing one from a \
             backup, or remove the directory to make a new certificate (every device must \
             then be enrolled again)",
            dir.display()
        ),
    };
    let cert_pem = std::fs::read(&cert_path)
        .with_context(|| format!("reading the hub certificate {}", cert_path.display()))?;
    let cert = CertificateDer::from_pem_slice(&cert_pem)
        .with_context(|| format!("{} is not a PEM certificate", cert_path.display()))?;
    let key_pem = std::fs::read(&key_path)
        .with_context(|| format!("reading the hub key {}", key_path.display()))?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .with_context(|| format!("{} is not a PEM private key", key_path.display()))?;
    Ok(HubCert {
        fingerprint: fingerprint(&cert),
        cert,
        key,
        cert_path,
        created,
    })
}

fn create(dir: &Path, cert_path: &Path, key_path: &Path, names: &[String]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .context("making the hub's key")?;
    let mut params = rcgen::CertificateParams::new(names.to_vec())
        .with_context(|| format!("the certificate names {names:?}"))?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(
        rcgen::DnType::CommonName,
        format!(
            "PiWardrive hub {}",
            names.first().map_or("", String::as_str)
        ),
    );
    params.distinguished_name = dn;
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    // A random serial, so two hubs' certificates never share issuer and serial.
    let serial = crate::accounts::random_bytes::<16>()?;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    let cert = params
        .self_signed(&key)
        .context("signing the hub's certificate")?;
    // The key first: a certificate without its key would be refused at the next start.
    write_atomically(key_path, key.serialize_pem().as_bytes(), 0o600)?;
    write_atomically(cert_path, cert.pem().as_bytes(), 0o644)?;
    Ok(())
}

/// Writes `bytes` to `path` whole or not at all: a temporary file beside it created with
/// `mode`, fsync, rename over, fsync of the directory.
pub fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.tmp"));
    let _ = std::fs::remove_file(&tmp);
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        // The umask may have narrowed the mode; the mode asked for is what is meant.
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow::Error::new(e).context(format!("writing {}", path.display()))
    })
}

/// The ring provider: every TLS configuration here is built with it explicitly, never from
/// a process-wide default.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The server configuration: TLS 1.2 and 1.3 with rustls' safe defaults, HTTP/1.1 only.
pub fn server_config(cert: &HubCert) -> anyhow::Result<rustls::ServerConfig> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .context("the TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.clone()], cert.key.clone_key())
        .context("the hub's certificate and key do not go together")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_with_a_private_key_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let names = default_names(&["hub.example.org".into(), "192.0.2.7".into()]);
        assert!(names.contains(&"127.0.0.1".to_owned()));
        let a = load_or_create(dir.path(), &names).unwrap();
        assert!(a.created);
        let key = dir.path().join(DIR).join(KEY_FILE);
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let b = load_or_create(dir.path(), &names).unwrap();
        assert!(!b.created);
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(fingerprint_text(&a.fingerprint).len(), 32 * 3 - 1);
        server_config(&b).unwrap();
        // Half a certificate is refused with a message, not silently replaced.
        std::fs::remove_file(&key).unwrap();
        let e = load_or_create(dir.path(), &names)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("only one of"), "{e}");
    }
}
