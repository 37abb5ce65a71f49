"""A self-signed certificate for 127.0.0.1/localhost, so clients that insist on https (e.g.
simple-salesforce builds `https://{instance}` URLs) can talk to a sandbox. Clients trust it by
pointing their CA bundle at `ca_file` (requests: `session.verify = ca_file`). Made once per
process; nothing about it is secret.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import tempfile
import threading

_lock = threading.Lock()
_files: dict[tuple[str, ...], tuple[str, str]] = {}


def cert_files(hosts: tuple[str, ...] = ()) -> tuple[str, str]:
    """(certificate path, private key path), created on first use. `hosts`: DNS names the
    certificate also covers (a twin's provider hosts, reached through `tenantsync.sandbox.
    proxy` by clients that hard-code them)."""
    with _lock:
        if hosts not in _files:
            _files[hosts] = _make(hosts)
        return _files[hosts]


def server_context(hosts: tuple[str, ...] = ()) -> ssl.SSLContext:
    cert, key = cert_files(hosts)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def _make(hosts: tuple[str, ...]) -> tuple[str, str]:
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError as exc:  # pragma: no cover - cryptography is a dependency
        raise RuntimeError("https in the sandbox needs the 'cryptography' package") from exc

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tenantsync sandbox")])
    now = datetime.datetime.now(datetime.timezone.utc)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), *map(x509.DNSName, hosts),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                       critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tempfile.mkdtemp(prefix="tenantsync-sandbox-tls-")
    cert_path, key_path = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_path, key_path
