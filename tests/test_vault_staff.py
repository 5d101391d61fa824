"""Portal cryptography in vault: password hashes, TOTP codes, sealed seeds, the audit chain."""

from __future__ import annotations

import subprocess
import sys

import pytest

from server import vault

#: RFC 6238, appendix B: the SHA-1 seed, and its 8-digit codes of which we show the last 6.
RFC_SEED = b"12345678901234567890"
RFC_CODES = {59: "287082", 1111111109: "081804", 1234567890: "005924", 2000000000: "279037"}


@pytest.fixture(scope="module")
def keys() -> vault.Vault:
    settings = vault.new_key_settings()
    return vault.Vault(
        vault.parse_keyring(settings["REFUGE_MASTER_KEYS"]),
        vault.decode_key(settings["REFUGE_INDEX_KEY"]),
    )


@pytest.mark.parametrize(("at", "code"), sorted(RFC_CODES.items()))
def test_totp_codes_match_the_rfc_6238_vectors(at: int, code: str) -> None:
    assert vault.totp_code(RFC_SEED, at) == code
    assert vault.verify_totp(RFC_SEED, code, at, None) == vault.totp_step(at)


def test_a_totp_code_from_the_neighbouring_step_is_accepted_and_older_ones_are_not() -> None:
    code = RFC_CODES[1111111109]
    assert vault.verify_totp(RFC_SEED, code, 1111111109 + 30, None) is not None
    assert vault.verify_totp(RFC_SEED, code, 1111111109 + 90, None) is None


def test_a_totp_step_already_used_is_refused() -> None:
    step = vault.totp_step(59)
    assert vault.verify_totp(RFC_SEED, "287082", 59, after_step=step - 1) == step
    assert vault.verify_totp(RFC_SEED, "287082", 59, after_step=step) is None


@pytest.mark.parametrize("code", ["", "28708", "2870822", "28708a", "٢٨٧٠٨٢", " 287082"])
def test_a_malformed_totp_code_is_refused(code: str) -> None:
    assert vault.verify_totp(RFC_SEED, code, 59, None) is None


def test_the_provisioning_uri_names_refuge_and_the_account() -> None:
    uri = vault.totp_provisioning_uri(RFC_SEED, "olena")
    assert uri.startswith("otpauth://totp/Refuge:olena?")
    assert "issuer=Refuge" in uri
    assert f"secret={vault.totp_secret_text(RFC_SEED)}" in uri


def test_a_password_verifies_and_a_wrong_one_does_not(keys: vault.Vault) -> None:
    hashed = keys.hash_password("correct horse battery staple")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert keys.verify_password(hashed, "correct horse battery staple")
    assert not keys.verify_password(hashed, "correct horse battery stapler")


def test_no_password_matches_a_missing_or_broken_hash(keys: vault.Vault) -> None:
    assert not keys.verify_password(None, "")
    assert not keys.verify_password("not-an-argon2-hash", "anything")


def test_a_password_hash_needs_the_index_key_pepper(keys: vault.Vault) -> None:
    other = vault.Vault(
        vault.parse_keyring(vault.new_key_settings()["REFUGE_MASTER_KEYS"]),
        vault.decode_key(vault.new_key_settings()["REFUGE_INDEX_KEY"]),
    )
    assert not other.verify_password(keys.hash_password("a passphrase"), "a passphrase")


def test_a_sealed_totp_seed_opens_only_in_its_own_row(keys: vault.Vault) -> None:
    sealed = keys.seal_master_field(RFC_SEED, "portal_users", "totp_secret", "row1")
    assert RFC_SEED not in sealed
    assert keys.open_master_field(sealed, "portal_users", "totp_secret", "row1") == RFC_SEED
    with pytest.raises(vault.DecryptionFailed):
        keys.open_master_field(sealed, "portal_users", "totp_secret", "row2")


def test_a_master_sealed_field_follows_the_keyring_not_the_index_key() -> None:
    settings = vault.new_key_settings()
    index_key = vault.decode_key(settings["REFUGE_INDEX_KEY"])
    keys = vault.Vault(vault.parse_keyring(settings["REFUGE_MASTER_KEYS"]), index_key)
    sealed = keys.seal_master_field(RFC_SEED, "t", "c", "r")
    assert vault.envelopes.envelope_key_id(sealed) == keys.current_key_id
    new_ring = vault.new_key_settings(master_key_id="k2")["REFUGE_MASTER_KEYS"]
    same_index_other_ring = vault.Vault(vault.parse_keyring(new_ring), index_key)
    with pytest.raises(vault.UnknownKeyId):
        same_index_other_ring.open_master_field(sealed, "t", "c", "r")


def test_the_chain_hash_covers_the_previous_hash_and_the_content() -> None:
    first = vault.chain_hash(vault.CHAIN_GENESIS, b'{"seq":1}')
    assert len(first) == 64
    assert first == vault.chain_hash(vault.CHAIN_GENESIS, b'{"seq":1}')
    assert first != vault.chain_hash(vault.CHAIN_GENESIS, b'{"seq":2}')
    assert vault.chain_hash(first, b"x") != vault.chain_hash(vault.CHAIN_GENESIS, b"x")


def test_importing_the_vault_hashes_nothing() -> None:
    # The decoy PIN and password hashes cost real argon2 work: made on first need only.
    script = (
        "import argon2\n"
        "calls = []\n"
        "real = argon2.PasswordHasher.hash\n"
        "def counting(self, *args, **kwargs):\n"
        "    calls.append(1)\n"
        "    return real(self, *args, **kwargs)\n"
        "argon2.PasswordHasher.hash = counting\n"
        "import server.vault\n"
        "assert not calls, 'argon2 ran at import'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
