"""All of Refuge's cryptography; nothing outside this package generates, derives or uses a key.

- `keys`: keyrings and keys from settings, derivation, new keys.
- `envelopes`: AES-256-GCM envelopes bound to their table, column and row (and, padded to a
  bucket, to the row's seal counter and bound columns).
- `core`: the `Vault`, one instance's keys and every operation that needs them.
- `fields`: the one way to encrypt a column, and the registry of encrypted columns and of rows
  holding wrapped keys; `rotation` walks that registry for `refuge keys rotate`; `rows` keeps
  a row's envelopes together (its seal counter, its bound columns, `seal_holds`).
- `causes`: outbox causes as keyed digests under the person's data key (they name nothing).
- `index_rotation`: the registry of blind indexes and peppered hashes, and
  `refuge keys rotate-index` (every row indexed again under the current index key version).
- `notes`: sealed notes to an NGO's public key (HPKE).
- `credentials`: PIN and password hashing, TOTP.
- `forms`: signed form tokens that need no cookie (the web check-in's CSRF defence).
- `chain`: the audit log's hash chain.

Other modules hand the vault opaque bytes that came from settings and get back opaque bytes
or plaintext; the names below are the ones they use.
"""

from __future__ import annotations

from server.vault import index_rotation as index_rotation
from server.vault.causes import cause_key, incident_of, incident_tag
from server.vault.chain import CHAIN_GENESIS, chain_hash
from server.vault.core import Vault
from server.vault.credentials import (
    new_totp_secret,
    totp_code,
    totp_provisioning_uri,
    totp_secret_text,
    totp_step,
    verify_totp,
)
from server.vault.envelopes import (
    AES_256_GCM,
    DATA_KEY_ID,
    ENVELOPE_VERSION,
    NONCE_BYTES,
    TAG_BYTES,
    DecryptionFailed,
    Envelope,
    EnvelopeMalformed,
    UnknownKeyId,
    VaultError,
    associated_data,
    decrypt_field,
    encrypt_field,
    open_envelope,
    seal_envelope,
    wrapped_key_id,
)
from server.vault.fields import (
    Ciphertext,
    EncryptedField,
    OwnsDataKey,
    Under,
    VaultUnavailable,
    WrappedKey,
    vault_of,
)
from server.vault.forms import form_token, form_token_valid
from server.vault.keys import (
    FIRST_INDEX_KEY_ID,
    KEY_BYTES,
    KeyFormatError,
    Keyring,
    decode_key,
    derive_key,
    new_index_key_entry,
    new_key_settings,
    new_webhook_token,
    next_index_key_id,
    parse_index_keyring,
    parse_keyring,
)
from server.vault.notes import (
    NOTE_ENC_BYTES,
    NOTE_SUITE,
    key_fingerprint,
    load_note_private_key,
    new_note_keypair,
    note_info,
    open_sealed,
    seal,
)
from server.vault.rows import seal_holds

__all__ = [
    "AES_256_GCM",
    "CHAIN_GENESIS",
    "DATA_KEY_ID",
    "ENVELOPE_VERSION",
    "FIRST_INDEX_KEY_ID",
    "KEY_BYTES",
    "NONCE_BYTES",
    "NOTE_ENC_BYTES",
    "NOTE_SUITE",
    "TAG_BYTES",
    "Ciphertext",
    "DecryptionFailed",
    "EncryptedField",
    "Envelope",
    "EnvelopeMalformed",
    "KeyFormatError",
    "Keyring",
    "OwnsDataKey",
    "Under",
    "UnknownKeyId",
    "Vault",
    "VaultError",
    "VaultUnavailable",
    "WrappedKey",
    "associated_data",
    "cause_key",
    "chain_hash",
    "decode_key",
    "decrypt_field",
    "derive_key",
    "encrypt_field",
    "form_token",
    "form_token_valid",
    "incident_of",
    "incident_tag",
    "key_fingerprint",
    "load_note_private_key",
    "new_index_key_entry",
    "new_key_settings",
    "new_note_keypair",
    "new_totp_secret",
    "new_webhook_token",
    "next_index_key_id",
    "note_info",
    "open_envelope",
    "open_sealed",
    "parse_index_keyring",
    "parse_keyring",
    "seal",
    "seal_envelope",
    "seal_holds",
    "totp_code",
    "totp_provisioning_uri",
    "totp_secret_text",
    "totp_step",
    "vault_of",
    "verify_totp",
    "wrapped_key_id",
]
