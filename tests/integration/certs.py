"""Test certificates for the integration tests.

A private PKI made with python3-cryptography: one root and one intermediate
per key family (RSA and EC, because ACM wants an imported certificate's key
family to match its signing CA's), and leaf certificates with the SANs, key
type, validity, key usages and extended key usages a test asks for.  Every
object can be written as PEM, DER, PKCS#12 or PKCS#7, and keys also as
encrypted PEM, so the import tests can feed the daemon every wrong encoding.

RSA keys are slow to make, so they are cached for the whole run: tests that
need distinct keys ask for a different `slot`.
"""

import datetime
import secrets

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The key types ACM knows (KeyAlgorithm enum), plus some it does not.
SUPPORTED_KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096",
                       "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]
UNSUPPORTED_KEY_TYPES = ["ED25519", "EC_secp256k1"]

_CURVES = {
    "EC_prime256v1": ec.SECP256R1,
    "EC_secp384r1": ec.SECP384R1,
    "EC_secp521r1": ec.SECP521R1,
    "EC_secp256k1": ec.SECP256K1,
}

# ACM's names for key usages and extended key usages.
KEY_USAGE_NAMES = {
    "digital_signature": "DIGITAL_SIGNATURE",
    "content_commitment": "NON_REPUDIATION",
    "key_encipherment": "KEY_ENCIPHERMENT",
    "data_encipherment": "DATA_ENCIPHERMENT",
    "key_agreement": "KEY_AGREEMENT",
    "key_cert_sign": "CERTIFICATE_SIGNING",
    "crl_sign": "CRL_SIGNING",
}
EKU = {
    "TLS_WEB_SERVER_AUTHENTICATION": ExtendedKeyUsageOID.SERVER_AUTH,
    "TLS_WEB_CLIENT_AUTHENTICATION": ExtendedKeyUsageOID.CLIENT_AUTH,
    "CODE_SIGNING": ExtendedKeyUsageOID.CODE_SIGNING,
    "EMAIL_PROTECTION": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "TIME_STAMPING": ExtendedKeyUsageOID.TIME_STAMPING,
    "OCSP_SIGNING": ExtendedKeyUsageOID.OCSP_SIGNING,
}

_key_cache = {}


def now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def make_key(key_type, slot=0):
    """A private key of an ACM key type; RSA keys are cached per (type, slot)."""
    if key_type.startswith("RSA_"):
        ck = (key_type, slot)
        if ck not in _key_cache:
            bits = int(key_type[4:])
            _key_cache[ck] = rsa.generate_private_key(65537, bits)
        return _key_cache[ck]
    if key_type in _CURVES:
        return ec.generate_private_key(_CURVES[key_type]())
    if key_type == "ED25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError("unknown key type " + key_type)


def key_family(key_type):
    return "RSA" if key_type.startswith("RSA_") else "EC"


def new_serial():
    """A positive 126-bit serial (16 bytes, top bit clear), so its DER bytes
    have no leading zero and its colon-hex form is unambiguous."""
    return secrets.randbits(126) | (1 << 125)


def serial_hex(n):
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return ":".join("%02x" % b for b in raw)


def _name(cn=None, org=None):
    attrs = []
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    if cn:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _sign_hash(key):
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def key_pem(key, fmt="pkcs8"):
    f = {"pkcs8": serialization.PrivateFormat.PKCS8,
         "traditional": serialization.PrivateFormat.TraditionalOpenSSL}[fmt]
    return key.private_bytes(serialization.Encoding.PEM, f,
                             serialization.NoEncryption())


def key_der(key):
    return key.private_bytes(serialization.Encoding.DER,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def encrypted_key_pem(key, password=b"secret", fmt="pkcs8"):
    f = {"pkcs8": serialization.PrivateFormat.PKCS8,
         "traditional": serialization.PrivateFormat.TraditionalOpenSSL}[fmt]
    return key.private_bytes(serialization.Encoding.PEM, f,
                             serialization.BestAvailableEncryption(password))


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def cert_der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


class Leaf:
    """A leaf certificate with its key and the chain that verifies it."""

    def __init__(self, cert, key, chain):
        self.cert = cert
        self.key = key
        self.chain = chain          # list of x509.Certificate, issuer first

    @property
    def cert_pem(self):
        return cert_pem(self.cert)

    @property
    def key_pem(self):
        return key_pem(self.key)

    @property
    def chain_pem(self):
        return b"".join(cert_pem(c) for c in self.chain)

    @property
    def cert_der(self):
        return cert_der(self.cert)

    @property
    def key_der(self):
        return key_der(self.key)

    @property
    def serial_hex(self):
        return serial_hex(self.cert.serial_number)

    def pkcs12(self, password=None):
        enc = (serialization.BestAvailableEncryption(password) if password
               else serialization.NoEncryption())
        return pkcs12.serialize_key_and_certificates(
            b"leaf", self.key, self.cert, self.chain or None, enc)

    def pkcs7(self, der=False):
        enc = serialization.Encoding.DER if der else serialization.Encoding.PEM
        return pkcs7.serialize_certificates([self.cert] + self.chain, enc)

    def encrypted_key_pem(self, password=b"secret", fmt="pkcs8"):
        return encrypted_key_pem(self.key, password, fmt)

    def import_body(self, chain=True, **extra):
        """The JSON body of an ImportCertificate request (blobs base64)."""
        from harness import b64
        body = {"Certificate": b64(self.cert_pem),
                "PrivateKey": b64(self.key_pem)}
        if chain and self.chain:
            body["CertificateChain"] = b64(self.chain_pem)
        body.update(extra)
        return body


def _build(subject, issuer_name, pub, signer, *, serial=None, not_before=None,
           not_after=None, ca=False, path_len=None, sans=None,
           key_usage=None, eku=None, issuer_key_for_aki=None):
    nb = not_before or (now() - datetime.timedelta(days=1))
    na = not_after or (now() + datetime.timedelta(days=90))
    b = (x509.CertificateBuilder()
         .subject_name(subject).issuer_name(issuer_name).public_key(pub)
         .serial_number(serial or new_serial())
         .not_valid_before(nb).not_valid_after(na)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=path_len),
                        critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub),
                        critical=False))
    if issuer_key_for_aki is not None:
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                issuer_key_for_aki.public_key()), critical=False)
    if sans:
        b = b.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]),
            critical=False)
    if key_usage is not None:
        flags = {k: False for k in ("digital_signature", "content_commitment",
                                    "key_encipherment", "data_encipherment",
                                    "key_agreement", "key_cert_sign",
                                    "crl_sign", "encipher_only",
                                    "decipher_only")}
        for k in key_usage:
            flags[k] = True
        b = b.add_extension(x509.KeyUsage(**flags), critical=True)
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage([EKU[n] for n in eku]),
                            critical=False)
    return b.sign(signer, _sign_hash(signer))


class CA:
    """A root and an intermediate of one key family; issues leaves."""

    def __init__(self, family="RSA", name="Certfleet Test"):
        kt = "RSA_2048" if family == "RSA" else "EC_secp384r1"
        self.family = family
        self.root_key = make_key(kt, slot="root-" + name)
        self.root = _build(_name("%s %s Root CA" % (name, family)),
                           _name("%s %s Root CA" % (name, family)),
                           self.root_key.public_key(), self.root_key, ca=True,
                           key_usage=["key_cert_sign", "crl_sign"],
                           not_after=now() + datetime.timedelta(days=3650))
        self.int_key = make_key(kt, slot="int-" + name)
        self.intermediate_cn = "%s %s Intermediate CA" % (name, family)
        self.intermediate = _build(_name(self.intermediate_cn),
                                   self.root.subject,
                                   self.int_key.public_key(), self.root_key,
                                   ca=True, path_len=0,
                                   key_usage=["key_cert_sign", "crl_sign"],
                                   issuer_key_for_aki=self.root_key,
                                   not_after=now() + datetime.timedelta(days=1825))

    def issue(self, sans=("www.example.com",), key_type=None, *, cn="",
              key=None, slot=0, not_before=None, not_after=None, ca=False,
              key_usage=None, eku=("TLS_WEB_SERVER_AUTHENTICATION",),
              serial=None):
        """A leaf signed by the intermediate.  cn="" means "first SAN";
        cn=None means no CN at all."""
        key_type = key_type or ("RSA_2048" if self.family == "RSA"
                                else "EC_prime256v1")
        key = key or make_key(key_type, slot)
        if key_usage is None:
            key_usage = (["digital_signature", "key_encipherment"]
                         if key_type.startswith("RSA_")
                         else ["digital_signature"])
        if cn == "":
            cn = sans[0] if sans else None
        cert = _build(_name(cn), self.intermediate.subject, key.public_key(),
                      self.int_key, serial=serial, not_before=not_before,
                      not_after=not_after, ca=ca, sans=list(sans),
                      key_usage=key_usage or None, eku=list(eku or []),
                      issuer_key_for_aki=self.int_key)
        return Leaf(cert, key, [self.intermediate, self.root])


_cas = {}


def ca(family="RSA"):
    """The run's shared CA of a key family."""
    if family not in _cas:
        _cas[family] = CA(family)
    return _cas[family]


def leaf(sans=("www.example.com",), key_type="RSA_2048", **kw):
    """A leaf from the shared CA matching key_type's family."""
    return ca(key_family(key_type)).issue(sans, key_type, **kw)


def self_signed(sans=("self.example.com",), key_type="RSA_2048", slot=0,
                not_before=None, not_after=None):
    key = make_key(key_type, slot)
    cert = _build(_name(sans[0]), _name(sans[0]), key.public_key(), key,
                  not_before=not_before, not_after=not_after, sans=list(sans),
                  key_usage=["digital_signature", "key_encipherment"]
                  if key_type.startswith("RSA_") else ["digital_signature"],
                  eku=["TLS_WEB_SERVER_AUTHENTICATION"])
    return Leaf(cert, key, [])


def unsupported_leaf(key_type, sans=("odd.example.com",)):
    """A leaf whose key ACM cannot hold (Ed25519, secp256k1), signed by the
    EC CA."""
    c = ca("EC")
    key = make_key(key_type)
    cert = _build(_name(sans[0]), c.intermediate.subject, key.public_key(),
                  c.int_key, sans=list(sans), key_usage=["digital_signature"],
                  eku=["TLS_WEB_SERVER_AUTHENTICATION"],
                  issuer_key_for_aki=c.int_key)
    return Leaf(cert, key, [c.intermediate, c.root])
