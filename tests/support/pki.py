"""Certificates made at test time: a CA, leaves it signs for localhost and 127.0.0.1, a self-signed server."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_LOOPBACK = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]


def _cert(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool,
    sans: list[x509.GeneralName],
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer[0].subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256())


def make_pki(out: Path) -> dict[str, str]:
    """PEM files under ``out``: ``ca``; ``server``, ``client`` and ``bulk_client`` (common name
    bulk-client), signed by ca; ``other_ca``; ``stranger`` (common name client, signed by other_ca); and
    ``selfsigned`` (a server certificate that is its own CA). ``<name>_crt`` and ``<name>_key`` paths."""
    files: dict[str, str] = {}

    def write(name: str, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
        (out / f"{name}.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        (out / f"{name}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        files[f"{name}_key"], files[f"{name}_crt"] = str(out / f"{name}.key"), str(out / f"{name}.crt")

    for ca_name in ("ca", "other_ca"):
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _cert(f"{ca_name} root", ca_key, None, ca=True, sans=[])
        write(ca_name, ca_key, ca)
        leaves = (
            (("server", "server"), ("client", "client"), ("bulk_client", "bulk-client"))
            if ca_name == "ca"
            else (("stranger", "client"),)
        )
        for file_name, common_name in leaves:
            key = ec.generate_private_key(ec.SECP256R1())
            write(file_name, key, _cert(common_name, key, (ca, ca_key), ca=False, sans=_LOOPBACK))
    key = ec.generate_private_key(ec.SECP256R1())
    write("selfsigned", key, _cert("verifier", key, None, ca=True, sans=_LOOPBACK))
    return files
