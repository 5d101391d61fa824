"""The baseline for the webhook benchmark: a bare Flask POST /sms/twilio answering fixed TwiML.

No signature check, no form parsing, no database: only the framework and the server, so the
benchmark shows what Refuge's own work on an inbound message costs on top of them. The reply
is Refuge's English main menu exactly as the webhook renders it (203 bytes), the most common
answer in a conversation.
"""

from __future__ import annotations

from flask import Flask, Response

#: The English main menu, what Refuge answers "hi" with.
MENU = (
    "Refuge. Reply a number:\n1 Find help\n2 News\n3 Secure your phone\n4 Check-in\n"
    "5 Language\nOr CHECK and a message to check a rumour"
)
#: The menu as TwiML, byte for byte what Refuge's webhook renders.
MENU_TWIML = f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{MENU}</Message></Response>'

app = Flask(__name__)


@app.post("/sms/twilio")
def inbound() -> Response:
    """Answer every inbound message with the menu."""
    return Response(MENU_TWIML, mimetype="application/xml")
