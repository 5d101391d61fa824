"""A second baseline for the webhook benchmark: the least an idempotent SMS webhook must do.

Where `bench.bare_twiml_app` answers without reading the request, this app does what no
webhook that keeps #6's promises can skip, on the same stack and the same SQLite settings:
the SDK's signature check, a receipt looked up and written under a unique message id, the
sender found by blind index and their row read (or made) and written back, all in one
transaction, the kept reply sealed under the sender's data key (through `server.vault`, as
Refuge does), and the reply built as TwiML with the SDK. No conversation, no ORM. The ratio
of Refuge to this app says what the conversation and the ORM cost; the ratio of this app to
the bare route says how much of the bare route's rate any such webhook can reach.

Settings come from BENCH_FLOOR_DATABASE (a SQLite file), BENCH_FLOOR_TOKEN (the auth token)
and BENCH_FLOOR_URL (the signed URL).
"""

from __future__ import annotations

import os
import uuid
from datetime import date
from typing import Any

from flask import Flask, Response, request
from sqlalchemy import create_engine, event, text
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bench.bare_twiml_app import MENU
from server import vault
from server.db import SQLITE_MMAP_BYTES

PRAGMAS = (
    "journal_mode=WAL",
    "foreign_keys=ON",
    "secure_delete=ON",
    "synchronous=NORMAL",
    f"mmap_size={SQLITE_MMAP_BYTES}",
)
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS people (id INTEGER PRIMARY KEY, phone_index BLOB UNIQUE,"
    " data_key BLOB, state BLOB, replies INTEGER, seen DATE)",
    "CREATE TABLE IF NOT EXISTS receipts (id BLOB PRIMARY KEY, digest BLOB UNIQUE,"
    " person INTEGER REFERENCES people(id), reply BLOB, day DATE)",
)
FIND_RECEIPT = text("SELECT id FROM receipts WHERE digest = :digest")
FIND_PERSON = text("SELECT id, data_key, state, replies FROM people WHERE phone_index = :index")
NEW_PERSON = text(
    "INSERT INTO people (phone_index, data_key, state, replies, seen)"
    " VALUES (:index, :data_key, '{}', 0, :day) RETURNING id, data_key, state, replies"
)
KEEP_RECEIPT = text(
    "INSERT INTO receipts (id, digest, person, reply, day) VALUES (:id, :digest, :person,"
    " :reply, :day)"
)
SAVE_PERSON = text(
    "UPDATE people SET state = :state, replies = :replies, seen = :day WHERE id = :id"
)

engine = create_engine(
    f"sqlite:///{os.environ['BENCH_FLOOR_DATABASE']}", connect_args={"timeout": 15}
)
TOKEN = os.environ["BENCH_FLOOR_TOKEN"]
_KEYS = vault.new_key_settings()
KEYS = vault.Vault(
    vault.parse_keyring(_KEYS["REFUGE_MASTER_KEYS"]), vault.decode_key(_KEYS["REFUGE_INDEX_KEY"])
)
SIGNED_URL = os.environ["BENCH_FLOOR_URL"]


@event.listens_for(engine, "connect")
def _pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    for pragma in PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


with engine.begin() as setup:
    for statement in SCHEMA:
        setup.execute(text(statement))

app = Flask(__name__)


@app.post("/sms/twilio")
def inbound() -> Response:
    """Check the signature, keep the receipt and the sender's row, answer the menu."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not RequestValidator(TOKEN).validate(SIGNED_URL, request.form, signature):
        return Response(status=403)
    digest = request.form["MessageSid"].encode()
    today = date.today()
    with engine.begin() as connection:
        if connection.execute(FIND_RECEIPT, {"digest": digest}).scalar() is None:
            index = KEYS.blind_index(request.form["From"])
            person = connection.execute(FIND_PERSON, {"index": index}).first()
            if person is None:
                data_key, wrapped = KEYS.new_data_key("people", index.hex())
                made = {"index": index, "data_key": wrapped, "day": today}
                person = connection.execute(NEW_PERSON, made).first()
            else:
                data_key = KEYS.unwrap_data_key(person.data_key, "people", index.hex())
            assert person is not None
            receipt_id = uuid.uuid4()
            sealed = vault.encrypt_field(data_key, MENU, "receipts", "reply", receipt_id.hex)
            receipt = {"id": receipt_id.bytes, "digest": digest, "person": person.id}
            connection.execute(KEEP_RECEIPT, {**receipt, "reply": sealed, "day": today})
            saved = {"state": person.state, "replies": person.replies + 1, "day": today}
            connection.execute(SAVE_PERSON, {**saved, "id": person.id})
    response = MessagingResponse()
    response.message(MENU)
    return Response(str(response), mimetype="application/xml")
