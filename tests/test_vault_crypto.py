"""The vault's cryptography: published test vectors, every refusal by name, keys and rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest
from cryptography.hazmat.bindings._rust import openssl as rust_openssl
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x448, x25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from server import vault
from server.config import load_config

ZERO_KEY = bytes(32)
ZERO_NONCE = bytes(12)

# NIST GCM specification, Test Case 14: AES-256, zero key, zero IV, one zero block, no AAD.
GCM_TC14_PLAINTEXT = bytes(16)
GCM_TC14_CIPHERTEXT = bytes.fromhex("cea7403d4d606b6e074ec5d3baf39d18")
GCM_TC14_TAG = bytes.fromhex("d0d1c8a799996bf0265b98b5d48ab919")

# RFC 9180 appendix A.1.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode.
RFC9180_SKRM = bytes.fromhex("4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8")
RFC9180_PKRM = bytes.fromhex("3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d")
RFC9180_ENC = bytes.fromhex("37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431")
RFC9180_INFO = bytes.fromhex("4f6465206f6e2061204772656369616e2055726e")  # "Ode on a Grecian Urn"
RFC9180_AAD_0 = b"Count-0"
RFC9180_CT_0 = bytes.fromhex(
    "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a"
)
RFC9180_PT = b"Beauty is truth, truth beauty"

OLD_MASTER = bytes(range(32))
NEW_MASTER = bytes(range(100, 132))
INDEX_KEY = bytes(range(200, 232))


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def make_vault(ring: str, index_key: bytes = INDEX_KEY) -> vault.Vault:
    return vault.Vault(vault.parse_keyring(ring), index_key)


def hkdf_sha256(root: bytes, info: bytes) -> bytes:
    """RFC 5869 with no salt and 32 bytes of output, written out independently of the vault."""
    prk = hmac.new(bytes(32), root, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def a_sealed_field() -> tuple[bytes, bytes]:
    data_key = bytes(range(32, 64))
    return data_key, vault.encrypt_field(data_key, "+447700900123", "people", "phone", "row-1")


def rfc9180_private_key() -> x25519.X25519PrivateKey:
    return x25519.X25519PrivateKey.from_private_bytes(RFC9180_SKRM)


def note_keys() -> tuple[x25519.X25519PrivateKey, bytes]:
    pem, public = vault.new_note_keypair()
    return vault.load_note_private_key(pem), public


# --- Known answers ----------------------------------------------------------------------------


def test_an_envelope_is_aes_256_gcm_to_the_published_test_vector() -> None:
    sealed = vault.seal_envelope(ZERO_KEY, "k1", GCM_TC14_PLAINTEXT, b"", nonce=ZERO_NONCE)
    expected = bytes([1, 1, 2]) + b"k1" + ZERO_NONCE + GCM_TC14_CIPHERTEXT + GCM_TC14_TAG
    assert sealed == expected
    assert vault.open_envelope({"k1": ZERO_KEY}.get, sealed, b"") == GCM_TC14_PLAINTEXT


def test_associated_data_names_the_table_the_column_and_the_row() -> None:
    assert vault.associated_data("people", "phone", "42") == b"refuge/v1|people|phone|42"


def test_an_encrypted_field_is_a_version_2_padded_aes_gcm_envelope_under_the_data_key() -> None:
    data_key = bytes(range(32, 64))
    plaintext = "Flat 3, 1 Example Road"
    sealed = vault.encrypt_field(data_key, plaintext, "people", "address", "row-7")
    assert sealed[:6] == bytes([2, 1, 3]) + b"dk1"
    nonce, body = sealed[6:18], sealed[18:]
    assert len(body) == 32 + vault.TAG_BYTES  # 4 bytes of length and 22 of text, padded to 32
    # Decrypted with AES-GCM directly: the layout and the associated data are what they claim.
    aad = b"refuge/v2|people|address|row-7|"
    padded = AESGCM(data_key).decrypt(nonce, body, aad)
    assert padded == len(plaintext).to_bytes(4, "big") + plaintext.encode() + bytes(6)


def test_a_version_1_field_envelope_still_opens_where_the_row_keeps_no_counter() -> None:
    data_key = bytes(range(32, 64))
    aad = vault.associated_data("people", "address", "row-7")
    old = vault.seal_envelope(data_key, vault.DATA_KEY_ID, b"Flat 3", aad)
    assert vault.decrypt_field(data_key, old, "people", "address", "row-7") == "Flat 3"


def test_two_encryptions_of_the_same_field_never_share_a_nonce() -> None:
    data_key = bytes(range(32, 64))
    first = vault.encrypt_field(data_key, "same", "people", "phone", "row-1")
    second = vault.encrypt_field(data_key, "same", "people", "phone", "row-1")
    assert first[6:18] != second[6:18]
    assert first != second


def test_sub_keys_are_hkdf_sha256_of_the_root_so_stored_data_stays_readable() -> None:
    root = bytes(range(32))
    for purpose in ("data-key-wrapping", "phone-blind-index", "keyed-digest"):
        expected = hkdf_sha256(root, b"refuge/v1/" + purpose.encode())
        assert vault.derive_key(root, purpose) == expected


def test_a_blind_index_is_hmac_sha256_under_the_derived_index_key() -> None:
    expected_key = hkdf_sha256(INDEX_KEY, b"refuge/v1/phone-blind-index")
    expected = hmac.new(expected_key, b"+447700900123", hashlib.sha256).digest()
    assert make_vault(f"k1:{b64(OLD_MASTER)}").blind_index("+447700900123") == expected


def test_the_note_suite_decrypts_the_rfc_9180_test_vector() -> None:
    # The public Suite.decrypt takes no associated data, but every RFC 9180 vector has some.
    # The private binding is the same code path with the aad exposed, so decrypting the vector
    # with it proves vault.NOTE_SUITE is exactly DHKEM(X25519)/HKDF-SHA256/AES-128-GCM.
    opened = rust_openssl.hpke._decrypt_with_aad(
        vault.NOTE_SUITE,
        RFC9180_ENC + RFC9180_CT_0,
        rfc9180_private_key(),
        info=RFC9180_INFO,
        aad=RFC9180_AAD_0,
    )
    assert opened == RFC9180_PT


def test_the_rfc_9180_private_key_gives_the_rfc_9180_public_key() -> None:
    public = rfc9180_private_key().public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert raw == RFC9180_PKRM


def test_a_note_sealed_to_the_rfc_key_opens_with_the_rfc_private_key() -> None:
    sealed = vault.seal(RFC9180_PKRM, "Beauty is truth, truth beauty", "note:abc")
    assert len(sealed) == vault.NOTE_ENC_BYTES + len(RFC9180_PT) + vault.TAG_BYTES
    assert vault.open_sealed(rfc9180_private_key(), sealed, "note:abc") == RFC9180_PT.decode()


def test_a_sealed_note_is_bound_to_its_context_through_the_hpke_info() -> None:
    assert vault.note_info("note:abc") == b"refuge/v1/sealed-note|note:abc"
    sealed = vault.seal(RFC9180_PKRM, "hello", "note:abc")
    opened = vault.NOTE_SUITE.decrypt(
        sealed, rfc9180_private_key(), info=b"refuge/v1/sealed-note|note:abc"
    )
    assert opened == b"hello"


def test_a_note_opens_with_the_private_key_from_a_new_key_pair() -> None:
    private, public = note_keys()
    sealed = vault.seal(public, "Call me after 6pm. ✓", "note:1")
    assert b"Call me" not in sealed
    assert vault.open_sealed(private, sealed, "note:1") == "Call me after 6pm. ✓"


def test_a_key_fingerprint_is_the_first_16_bytes_of_the_sha256_in_hex() -> None:
    expected = hashlib.sha256(RFC9180_PKRM).hexdigest()[:32]
    assert vault.key_fingerprint(RFC9180_PKRM) == expected
    assert len(vault.key_fingerprint(RFC9180_PKRM)) == 32


# --- Refusals: never a wrong plaintext ----------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "column", "row_id"),
    [
        pytest.param("people", "phone", "row-2", id="another-row"),
        pytest.param("people", "name", "row-1", id="another-column"),
        pytest.param("contacts", "phone", "row-1", id="another-table"),
    ],
)
def test_a_ciphertext_moved_to_another_place_is_refused(
    table: str, column: str, row_id: str
) -> None:
    data_key, sealed = a_sealed_field()
    with pytest.raises(vault.DecryptionFailed):
        vault.decrypt_field(data_key, sealed, table, column, row_id)


def test_a_ciphertext_in_its_own_place_opens() -> None:
    data_key, sealed = a_sealed_field()
    assert vault.decrypt_field(data_key, sealed, "people", "phone", "row-1") == "+447700900123"


def test_a_wrapped_data_key_moved_to_another_row_is_refused() -> None:
    keys = make_vault(f"k1:{b64(OLD_MASTER)}")
    _, wrapped = keys.new_data_key("people", "row-1")
    with pytest.raises(vault.DecryptionFailed):
        keys.unwrap_data_key(wrapped, "people", "row-2")


def test_a_field_opened_with_another_data_key_is_refused() -> None:
    _, sealed = a_sealed_field()
    with pytest.raises(vault.DecryptionFailed):
        vault.decrypt_field(bytes(32), sealed, "people", "phone", "row-1")


def test_a_tag_with_one_bit_flipped_is_refused() -> None:
    data_key, sealed = a_sealed_field()
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 0x01])
    with pytest.raises(vault.DecryptionFailed):
        vault.decrypt_field(data_key, tampered, "people", "phone", "row-1")


def test_a_ciphertext_with_one_byte_flipped_is_refused() -> None:
    data_key, sealed = a_sealed_field()
    first_ciphertext_byte = 6 + vault.NONCE_BYTES
    tampered = bytearray(sealed)
    tampered[first_ciphertext_byte] ^= 0x80
    with pytest.raises(vault.DecryptionFailed):
        vault.decrypt_field(data_key, bytes(tampered), "people", "phone", "row-1")


def test_a_changed_nonce_is_refused() -> None:
    data_key, sealed = a_sealed_field()
    tampered = bytearray(sealed)
    tampered[6] ^= 0x01
    with pytest.raises(vault.DecryptionFailed):
        vault.decrypt_field(data_key, bytes(tampered), "people", "phone", "row-1")


def test_an_envelope_naming_a_key_the_keyring_lacks_is_refused() -> None:
    sealed = vault.seal_envelope(ZERO_KEY, "k9", b"secret", b"aad")
    with pytest.raises(vault.UnknownKeyId, match="'k9'"):
        vault.open_envelope({"k1": ZERO_KEY}.get, sealed, b"aad")


def test_an_envelope_relabelled_with_another_key_id_is_refused() -> None:
    sealed = vault.seal_envelope(OLD_MASTER, "k1", b"secret", b"aad")
    relabelled = sealed[:3] + b"k2" + sealed[5:]
    with pytest.raises(vault.DecryptionFailed):
        vault.open_envelope({"k1": OLD_MASTER, "k2": NEW_MASTER}.get, relabelled, b"aad")


def test_a_data_key_whose_master_key_is_gone_is_refused_naming_that_key() -> None:
    old = make_vault(f"k1:{b64(OLD_MASTER)}")
    _, wrapped = old.new_data_key("people", "row-1")
    without_k1 = make_vault(f"k2:{b64(NEW_MASTER)}")
    with pytest.raises(vault.UnknownKeyId) as refused:
        without_k1.unwrap_data_key(wrapped, "people", "row-1")
    assert "'k1'" in str(refused.value)
    assert "REFUGE_MASTER_KEYS" in str(refused.value)


@pytest.mark.parametrize("version", [0, 3, 255])
def test_an_envelope_of_an_unknown_version_is_refused(version: int) -> None:
    _, sealed = a_sealed_field()
    with pytest.raises(vault.EnvelopeMalformed, match=f"unknown envelope version {version}"):
        vault.Envelope.parse(bytes([version]) + sealed[1:])


@pytest.mark.parametrize("algorithm", [0, 2, 255])
def test_an_envelope_of_an_unknown_algorithm_is_refused(algorithm: int) -> None:
    data_key, sealed = a_sealed_field()
    changed = sealed[:1] + bytes([algorithm]) + sealed[2:]
    with pytest.raises(vault.EnvelopeMalformed, match=f"unknown envelope algorithm {algorithm}"):
        vault.decrypt_field(data_key, changed, "people", "phone", "row-1")


@pytest.mark.parametrize(
    "length",
    [
        pytest.param(0, id="empty"),
        pytest.param(1, id="one-byte"),
        pytest.param(2, id="two-bytes"),
        pytest.param(3 + 2, id="header-only"),
        pytest.param(3 + 2 + 12, id="header-and-nonce"),
        pytest.param(3 + 2 + 12 + 16 - 1, id="one-byte-short-of-a-tag"),
    ],
)
def test_a_truncated_envelope_is_refused_as_malformed(length: int) -> None:
    sealed = vault.seal_envelope(ZERO_KEY, "k1", b"", b"aad")
    assert len(sealed) == 3 + 2 + 12 + 16
    with pytest.raises(vault.EnvelopeMalformed, match="truncated"):
        vault.open_envelope({"k1": ZERO_KEY}.get, sealed[:length], b"aad")


def test_an_envelope_missing_its_last_byte_is_refused() -> None:
    data_key, sealed = a_sealed_field()
    with pytest.raises(vault.DecryptionFailed):
        vault.decrypt_field(data_key, sealed[:-1], "people", "phone", "row-1")


def test_an_envelope_with_a_non_ascii_key_id_is_refused_as_malformed() -> None:
    sealed = vault.seal_envelope(ZERO_KEY, "k1", b"secret", b"aad")
    non_ascii = sealed[:3] + "é".encode() + sealed[5:]
    with pytest.raises(vault.EnvelopeMalformed, match="not ASCII"):
        vault.open_envelope({"k1": ZERO_KEY}.get, non_ascii, b"aad")


def _padded_with(data_key: bytes, padded: bytes, aad: bytes) -> bytes:
    """A version 2 envelope around chosen padded bytes, as a forger with the key would make."""
    nonce = bytes(12)
    header = bytes([2, 1, 3]) + vault.DATA_KEY_ID.encode()
    return header + nonce + AESGCM(data_key).encrypt(nonce, padded, aad)


def test_a_padded_field_whose_length_runs_past_its_padding_is_refused_as_malformed() -> None:
    data_key = bytes(range(32, 64))
    aad = b"refuge/v2|people|phone|row-1|"
    forged = _padded_with(data_key, (40).to_bytes(4, "big") + bytes(28), aad)
    with pytest.raises(vault.EnvelopeMalformed, match="padding"):
        vault.decrypt_field(data_key, forged, "people", "phone", "row-1")


def test_a_padded_field_with_bytes_after_its_text_is_refused_as_malformed() -> None:
    data_key = bytes(range(32, 64))
    aad = b"refuge/v2|people|phone|row-1|"
    forged = _padded_with(data_key, (2).to_bytes(4, "big") + b"hi" + b"x" + bytes(25), aad)
    with pytest.raises(vault.EnvelopeMalformed, match="padding"):
        vault.decrypt_field(data_key, forged, "people", "phone", "row-1")


def test_a_field_bound_to_a_counter_does_not_open_under_another_counter() -> None:
    data_key = bytes(range(32, 64))
    sealed = vault.envelopes.seal_bytes(data_key, b"state", "plans", "state", "row-1", counter=4)
    with pytest.raises(vault.DecryptionFailed):
        vault.envelopes.open_bytes(data_key, sealed, "plans", "state", "row-1", counter=3)
    opened = vault.envelopes.open_bytes(data_key, sealed, "plans", "state", "row-1", counter=4)
    assert opened == b"state"


def test_a_field_bound_to_a_column_does_not_open_with_another_value_of_it() -> None:
    data_key = bytes(range(32, 64))
    pending = (("consent", "pending"),)
    sealed = vault.envelopes.seal_bytes(
        data_key, b"+447700900123", "contacts", "phone", "row-1", counter=1, bound=pending
    )
    with pytest.raises(vault.DecryptionFailed):
        vault.envelopes.open_bytes(
            data_key,
            sealed,
            "contacts",
            "phone",
            "row-1",
            counter=1,
            bound=(("consent", "confirmed"),),
        )


def test_a_version_1_envelope_is_refused_as_a_rollback_in_a_row_with_a_counter() -> None:
    data_key = bytes(range(32, 64))
    aad = vault.associated_data("plans", "state", "row-1")
    old = vault.seal_envelope(data_key, vault.DATA_KEY_ID, b"state", aad)
    with pytest.raises(vault.DecryptionFailed, match="older than migration 0013"):
        vault.envelopes.open_bytes(data_key, old, "plans", "state", "row-1", counter=0)


@given(st.binary(max_size=600))
def test_padding_hides_length_within_a_bucket_and_round_trips(plaintext: bytes) -> None:
    padded = vault.envelopes.pad(plaintext)
    assert len(padded) >= 32
    assert len(padded) & (len(padded) - 1) == 0  # a power of two
    assert vault.envelopes.unpad(padded) == plaintext


def test_causes_are_deterministic_per_person_and_name_nothing() -> None:
    first, second = bytes(range(32)), bytes(range(1, 33))
    tag = vault.incident_tag(first, "plan", "d20261207T140804")
    cause = vault.cause_key(first, "alert", "plan", "d20261207T140804", "1", "c", incident=tag)
    again = vault.cause_key(first, "alert", "plan", "d20261207T140804", "1", "c", incident=tag)
    assert cause == again
    assert vault.incident_of(cause) == tag
    other = vault.incident_tag(second, "plan", "d20261207T140804")
    assert other != tag  # another person's key: nothing to link across people
    assert "d2026" not in cause
    assert "plan" not in cause


def test_every_refusal_is_a_vault_error() -> None:
    for error in (vault.EnvelopeMalformed, vault.UnknownKeyId, vault.DecryptionFailed):
        assert issubclass(error, vault.VaultError)


def test_a_note_opened_with_another_context_is_refused() -> None:
    private, public = note_keys()
    sealed = vault.seal(public, "meet at the clinic", "note:1")
    with pytest.raises(vault.DecryptionFailed):
        vault.open_sealed(private, sealed, "note:2")


def test_a_note_opened_with_another_recipients_key_is_refused() -> None:
    _, public = note_keys()
    other_private, _ = note_keys()
    sealed = vault.seal(public, "meet at the clinic", "note:1")
    with pytest.raises(vault.DecryptionFailed):
        vault.open_sealed(other_private, sealed, "note:1")


@pytest.mark.parametrize("length", [0, 31, 32, 47])
def test_a_note_too_short_to_hold_a_key_and_tag_is_refused_as_malformed(length: int) -> None:
    private, public = note_keys()
    sealed = vault.seal(public, "meet at the clinic", "note:1")
    with pytest.raises(vault.EnvelopeMalformed, match="truncated"):
        vault.open_sealed(private, sealed[:length], "note:1")


@pytest.mark.parametrize("cut", [1, 16])
def test_a_note_missing_its_end_is_refused(cut: int) -> None:
    private, public = note_keys()
    sealed = vault.seal(public, "meet at the clinic", "note:1")
    with pytest.raises(vault.DecryptionFailed):
        vault.open_sealed(private, sealed[:-cut], "note:1")


def test_a_note_with_a_tampered_encapsulated_key_is_refused() -> None:
    private, public = note_keys()
    sealed = bytearray(vault.seal(public, "meet at the clinic", "note:1"))
    sealed[0] ^= 0x01
    with pytest.raises(vault.DecryptionFailed):
        vault.open_sealed(private, bytes(sealed), "note:1")


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
def test_a_note_key_of_the_wrong_length_is_refused(length: int) -> None:
    with pytest.raises(vault.VaultError, match="X25519 public key"):
        vault.seal(bytes([9]) * length, "meet at the clinic", "note:1")


def test_a_low_order_note_key_is_refused_with_a_vault_error() -> None:
    # The all-zero X25519 point is the right length but has no usable shared secret.
    with pytest.raises(vault.VaultError, match="X25519 public key"):
        vault.seal(bytes(32), "meet at the clinic", "note:1")


ED25519_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32))
X448_KEY = x448.X448PrivateKey.from_private_bytes(bytes(range(56)))
P256_KEY = ec.derive_private_key(12345, ec.SECP256R1())


def _pkcs8_pem(
    key: PrivateKeyTypes,
    encryption: serialization.KeySerializationEncryption | None = None,
) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        encryption or serialization.NoEncryption(),
    )


def _public_key_pem() -> bytes:
    public = rfc9180_private_key().public_key()
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _pkcs8_of_an_unknown_algorithm() -> bytes:
    # PKCS#8: version 0, algorithm OID 1.2.3.4, then an octet string of 32 zero bytes.
    version, algorithm, key = "020100", "300506032a0304", "04220420"
    inner = bytes.fromhex(version + algorithm + key) + bytes(32)
    der = bytes([0x30, len(inner)]) + inner
    body = base64.encodebytes(der)
    return b"-----BEGIN PRIVATE KEY-----\n" + body + b"-----END PRIVATE KEY-----\n"


@pytest.mark.parametrize(
    ("key_file", "complaint"),
    [
        pytest.param(b"", "not an unencrypted PEM", id="empty"),
        pytest.param(b"garbage", "not an unencrypted PEM", id="garbage"),
        pytest.param(bytes(32), "not an unencrypted PEM", id="raw-bytes"),
        pytest.param(_pkcs8_pem(ED25519_KEY), "does not hold an X25519 key", id="ed25519"),
        pytest.param(_pkcs8_pem(X448_KEY), "does not hold an X25519 key", id="x448"),
        pytest.param(_pkcs8_pem(P256_KEY), "does not hold an X25519 key", id="ec-p256"),
        pytest.param(
            _pkcs8_pem(rfc9180_private_key(), serialization.BestAvailableEncryption(b"pass")),
            "not an unencrypted PEM",
            id="encrypted",
        ),
        pytest.param(_public_key_pem(), "not an unencrypted PEM", id="public-key"),
        pytest.param(_pkcs8_of_an_unknown_algorithm(), "the key file", id="unknown-algorithm"),
    ],
)
def test_a_key_file_without_an_x25519_private_key_is_refused(
    key_file: bytes, complaint: str
) -> None:
    with pytest.raises(vault.VaultError, match=complaint):
        vault.load_note_private_key(key_file)


# --- Keys ---------------------------------------------------------------------------------------


def test_a_keyring_lists_its_current_key_first() -> None:
    ring = vault.parse_keyring(f"k2:{b64(NEW_MASTER)}, k1:{b64(OLD_MASTER)}")
    assert ring.current_id == "k2"
    assert ring.ids() == ("k2", "k1")
    assert ring.get("k2") == NEW_MASTER
    assert ring.get("k1") == OLD_MASTER
    assert ring.get("k3") is None


def test_a_keyring_accepts_url_safe_base64_without_padding() -> None:
    encoded = base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode().rstrip("=")
    assert "-" in encoded or "_" in encoded
    assert vault.parse_keyring(f"k1:{encoded}").get("k1") == b"\xfb\xff" * 16


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        pytest.param(
            f"k1:{b64(OLD_MASTER)},k1:{b64(NEW_MASTER)}", "key id 'k1' appears twice", id="dup"
        ),
        pytest.param(b64(OLD_MASTER), "entry 1 must look like <id>:<base64 key>", id="no-colon"),
        pytest.param(
            f"k1:{b64(OLD_MASTER)},{b64(NEW_MASTER)}", "entry 2 must look like", id="2nd-no-colon"
        ),
        pytest.param(f"k 1:{b64(OLD_MASTER)}", "entry 1 must look like", id="space-in-id"),
        pytest.param(f"k.1:{b64(OLD_MASTER)}", "entry 1 must look like", id="dot-in-id"),
        pytest.param(f"ké:{b64(OLD_MASTER)}", "entry 1 must look like", id="non-ascii-id"),
        pytest.param(f":{b64(OLD_MASTER)}", "entry 1 must look like", id="empty-id"),
        pytest.param(f"{'k' * 17}:{b64(OLD_MASTER)}", "entry 1 must look like", id="long-id"),
        pytest.param("", "entry 1 must look like", id="empty"),
        pytest.param("k1:", "key 'k1' is empty", id="empty-key"),
        pytest.param(f"k1:{b64(bytes(16))}", "key 'k1' is 16 bytes long", id="short-key"),
        pytest.param(f"k1:{b64(bytes(48))}", "key 'k1' must be exactly 32 bytes", id="long-key"),
        pytest.param("k1:***not base64***", "key 'k1' is not valid base64", id="not-base64"),
        pytest.param(f"k1:{b64(OLD_MASTER)},", "entry 2 must look like", id="trailing-comma"),
    ],
)
def test_a_malformed_keyring_is_refused_with_the_reason(text: str, complaint: str) -> None:
    with pytest.raises(vault.KeyFormatError) as refused:
        vault.parse_keyring(text)
    assert str(refused.value).startswith(complaint)


def test_a_key_id_with_a_trailing_newline_is_refused() -> None:
    # `$` in the id pattern also matches just before a final newline.
    with pytest.raises(vault.KeyFormatError, match="entry 1 must look like"):
        vault.parse_keyring(f"k1\n:{b64(OLD_MASTER)}")


def test_a_keyring_repr_never_shows_a_key() -> None:
    ring = vault.parse_keyring(f"k2:{b64(NEW_MASTER)},k1:{b64(OLD_MASTER)}")
    shown = repr(ring)
    assert "k2" in shown
    assert "k1" in shown
    for key in (NEW_MASTER, OLD_MASTER):
        for form in (b64(key), b64(key).rstrip("="), repr(key), key.hex()):
            assert form not in shown
    vault_shown = repr(vault.Vault(ring, INDEX_KEY))
    for key in (NEW_MASTER, OLD_MASTER, INDEX_KEY):
        assert b64(key) not in vault_shown
        assert repr(key) not in vault_shown
        assert key.hex() not in vault_shown


def test_derived_keys_differ_by_purpose_and_are_stable() -> None:
    root = bytes(range(32))
    wrapping = vault.derive_key(root, "data-key-wrapping")
    assert wrapping == vault.derive_key(root, "data-key-wrapping")
    assert wrapping != vault.derive_key(root, "phone-blind-index")
    assert wrapping != vault.derive_key(bytes(32), "data-key-wrapping")
    assert wrapping != root
    assert len(wrapping) == 32
    assert len(vault.derive_key(root, "x", length=64)) == 64


def test_new_key_settings_are_accepted_by_the_configuration(tmp_path: Path) -> None:
    fresh = vault.new_key_settings(master_key_id="k3")
    assert set(fresh) == {"REFUGE_SECRET_KEY", "REFUGE_MASTER_KEYS", "REFUGE_INDEX_KEY"}
    loaded = load_config({"REFUGE_INSTANCE_PATH": str(tmp_path / "instance"), **fresh})
    assert loaded.master_keys.ids() == ("k3",)
    assert loaded.master_keys.get("k3") == vault.decode_key(fresh["REFUGE_MASTER_KEYS"][3:])
    assert loaded.index_key == vault.decode_key(fresh["REFUGE_INDEX_KEY"])
    assert loaded.secret_key == vault.decode_key(fresh["REFUGE_SECRET_KEY"])
    assert len({loaded.secret_key, loaded.index_key, loaded.master_keys.get("k3")}) == 3


def test_new_key_settings_are_fresh_each_time() -> None:
    assert vault.new_key_settings() != vault.new_key_settings()


# --- The vault ----------------------------------------------------------------------------------


def test_a_blind_index_is_stable_under_one_index_key() -> None:
    first = make_vault(f"k1:{b64(OLD_MASTER)}")
    second = make_vault(f"k2:{b64(NEW_MASTER)}")  # master keys play no part in the index
    assert first.blind_index("+447700900123") == second.blind_index("+447700900123")


def test_a_blind_index_differs_between_numbers_and_between_index_keys() -> None:
    keys = make_vault(f"k1:{b64(OLD_MASTER)}")
    other = make_vault(f"k1:{b64(OLD_MASTER)}", index_key=bytes(32))
    assert keys.blind_index("+447700900123") != keys.blind_index("+447700900124")
    assert keys.blind_index("+447700900123") != other.blind_index("+447700900123")


def test_a_blind_index_is_32_bytes_that_do_not_contain_the_number() -> None:
    index = make_vault(f"k1:{b64(OLD_MASTER)}").blind_index("+447700900123")
    assert len(index) == 32
    assert b"447700900123" not in index
    assert "447700900123" not in index.hex()
    assert index != hashlib.sha256(b"+447700900123").digest()


def test_a_keyed_digest_differs_by_purpose_and_from_the_blind_index() -> None:
    keys = make_vault(f"k1:{b64(OLD_MASTER)}")
    receipt = keys.keyed_digest("receipt", "SM0123")
    assert receipt == keys.keyed_digest("receipt", "SM0123")
    assert receipt != keys.keyed_digest("inbound", "SM0123")
    assert receipt != keys.keyed_digest("receipt", "SM0124")
    assert keys.keyed_digest("phone", "+447700900123") != keys.blind_index("+447700900123")
    assert len(receipt) == 32


def test_a_new_data_key_unwraps_to_itself() -> None:
    keys = make_vault(f"k1:{b64(OLD_MASTER)}")
    data_key, wrapped = keys.new_data_key("people", "row-1")
    assert len(data_key) == 32
    assert data_key not in wrapped
    assert vault.wrapped_key_id(wrapped) == "k1"
    assert keys.unwrap_data_key(wrapped, "people", "row-1") == data_key
    assert keys.new_data_key("people", "row-1")[0] != data_key


def test_rotation_rewraps_a_data_key_under_the_new_master_key() -> None:
    old = make_vault(f"k1:{b64(OLD_MASTER)}")
    data_key, wrapped = old.new_data_key("people", "row-1")
    rotated = make_vault(f"k2:{b64(NEW_MASTER)},k1:{b64(OLD_MASTER)}")
    assert rotated.current_key_id == "k2"
    assert rotated.unwrap_data_key(wrapped, "people", "row-1") == data_key
    rewrapped = rotated.rewrap_data_key(wrapped, "people", "row-1")
    assert rewrapped is not None
    assert vault.wrapped_key_id(rewrapped) == "k2"
    assert rotated.unwrap_data_key(rewrapped, "people", "row-1") == data_key
    assert rotated.rewrap_data_key(rewrapped, "people", "row-1") is None


def test_after_retiring_the_old_master_key_only_rewrapped_data_keys_open() -> None:
    old = make_vault(f"k1:{b64(OLD_MASTER)}")
    data_key, wrapped = old.new_data_key("people", "row-1")
    rotating = make_vault(f"k2:{b64(NEW_MASTER)},k1:{b64(OLD_MASTER)}")
    rewrapped = rotating.rewrap_data_key(wrapped, "people", "row-1")
    assert rewrapped is not None
    retired = make_vault(f"k2:{b64(NEW_MASTER)}")
    assert retired.unwrap_data_key(rewrapped, "people", "row-1") == data_key
    with pytest.raises(vault.UnknownKeyId, match="'k1'"):
        retired.unwrap_data_key(wrapped, "people", "row-1")
    with pytest.raises(vault.UnknownKeyId, match="'k1'"):
        retired.rewrap_data_key(wrapped, "people", "row-1")


# --- Properties ---------------------------------------------------------------------------------

DATA_KEY = bytes(range(64, 96))


@given(st.text())
def test_any_text_round_trips_through_an_encrypted_field(text: str) -> None:
    sealed = vault.encrypt_field(DATA_KEY, text, "people", "notes", "row-1")
    assert vault.decrypt_field(DATA_KEY, sealed, "people", "notes", "row-1") == text


@given(st.binary(), st.binary(max_size=64))
def test_any_bytes_round_trip_through_an_envelope(plaintext: bytes, aad: bytes) -> None:
    sealed = vault.seal_envelope(OLD_MASTER, "k1", plaintext, aad)
    assert vault.open_envelope({"k1": OLD_MASTER}.get, sealed, aad) == plaintext


NOTE_PRIVATE, NOTE_PUBLIC = note_keys()


@settings(max_examples=50)
@given(st.text(), st.text(max_size=40))
def test_any_text_round_trips_through_a_sealed_note(text: str, context: str) -> None:
    sealed = vault.seal(NOTE_PUBLIC, text, context)
    assert vault.open_sealed(NOTE_PRIVATE, sealed, context) == text


@given(st.binary(max_size=80))
def test_arbitrary_bytes_parse_as_an_envelope_or_are_refused_as_malformed(data: bytes) -> None:
    try:
        envelope = vault.Envelope.parse(data)
    except vault.EnvelopeMalformed:
        return
    assert envelope.to_bytes() == data


@given(st.binary(min_size=3, max_size=80))
def test_arbitrary_bytes_after_a_valid_header_are_refused_as_malformed_or_unauthentic(
    tail: bytes,
) -> None:
    data = bytes([1, 1]) + tail
    with pytest.raises((vault.EnvelopeMalformed, vault.UnknownKeyId, vault.DecryptionFailed)):
        vault.open_envelope({"k1": OLD_MASTER}.get, data, b"aad")
