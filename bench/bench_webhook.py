"""Inbound SMS webhook: signed messages per second under gunicorn, and SMS segments per reply.

Rate: Refuge's POST /sms/twilio (signature check, MessageSid receipt, subscriber lookup by
blind index, the conversation engine, TwiML) against a bare Flask route answering the same
size of TwiML (`bench.bare_twiml_app`), both under gunicorn with the same settings, loaded
alternately with the same signed POSTs. Every message to Refuge carries a fresh MessageSid,
so none is answered from its receipt; senders from the fiction ranges each walk a realistic
conversation, one message at a time. A second figure sets Refuge beside
`bench.floor_webhook_app`, the least an idempotent webhook must do (signature, receipt, the
sender's row by blind index, a sealed reply, one transaction, TwiML), which shows how much of
the bare route's rate any such webhook can reach at all.

Segments: the conversation corpus of the test suite (`tests.sms_helpers`) run in process
through the webhook in every shipped locale, after switching language the way a person does
("5", then the language's number); the median and largest segments per reply against the
budget of the locale's encoding (2 for GSM-7, 3 for UCS-2).
"""

from __future__ import annotations

import http.client
import itertools
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

from bench.bare_twiml_app import MENU_TWIML
from bench.harness import (
    LOOPBACK_HOSTS,
    Result,
    clean_env,
    interleave,
    run_refuge,
    serve_gunicorn,
)

WORKERS = 2
CONCURRENCY = 4
ROUNDS = 4  # ours then bare, bare then ours, ...
FLOOR_ROUNDS = 2  # then ours beside the floor app, for the second (informative) figure
ROUND_SECONDS = 2.5
WARMUP_SECONDS = 1.0
GOAL_RATIO = 0.40

WEBHOOK = "/sms/twilio"
#: What Twilio would sign: the app checks signatures against REFUGE_PUBLIC_URL + path, never
#: the Host header (it sits behind a proxy), so the address gunicorn binds does not matter.
PUBLIC_URL = "http://127.0.0.1:8000"
TO_NUMBER = "+447700900999"
#: Refuge's answer when handling a message failed (a database error after every retry).
APOLOGY = "Sorry, something went wrong."

#: Every sender of the fiction ranges: +44 7700 900000-900999 and +1 202 555 0100-0199.
SENDERS = tuple(f"+447700900{n:03d}" for n in range(1000)) + tuple(
    f"+1202555{n:04d}" for n in range(100, 200)
)
#: What one person texts: find medical care in Camp 12, walk a guide, read the news, check a
#: rumour. Every message gets a reply; the menu is the most common one.
LOAD_SEQUENCE = (
    "hi",  # the menu
    "1",  # find help: the countries
    "1",  # Bangladesh: its areas
    "1",  # Cox's Bazar: its sites
    "2",  # Camp 12: the categories
    "2",  # medical care: the resources
    "0",  # the menu
    "3",  # secure your phone: the guides
    "1",  # the first guide, step 1
    "NEXT",
    "NEXT",
    "BACK",
    "0",
    "2",  # the news for Camp 12
    "MORE",
    "CHECK the aid water is poisoned",
    "MORE",
    "0",
)


# --- Refuge's instance ---------------------------------------------------------------------


def refuge_env(instance: Path, token: str) -> dict[str, str]:
    """A clean environment for a Refuge instance in `instance`, unthrottled, signing with token."""
    from server import vault

    return clean_env(
        {
            "REFUGE_INSTANCE_PATH": str(instance),
            "REFUGE_DATABASE_URL": f"sqlite:///{instance / 'bench.sqlite3'}",
            **vault.new_key_settings(),
            "REFUGE_TWILIO_AUTH_TOKEN": token,
            "REFUGE_PUBLIC_URL": PUBLIC_URL,
            "REFUGE_SMS_REPLIES_PER_HOUR": "10000",
            "REFUGE_SMS_REPLIES_PER_DAY": "100000",
            "REFUGE_LOG_LEVEL": "WARNING",
        }
    )


# --- Signed requests --------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedPost:
    """One inbound message as Twilio would post it: the form body and its signed headers."""

    body: bytes
    headers: dict[str, str]


def signed_post(validator: RequestValidator, sender: str, text: str) -> SignedPost:
    """The form Twilio posts for `text` from `sender`, with a fresh MessageSid, signed."""
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": TO_NUMBER,
        "Body": text,
        "NumMedia": "0",
    }
    signature = str(validator.compute_signature(PUBLIC_URL + WEBHOOK, params))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature,
    }
    return SignedPost(urlencode(params).encode("ascii"), headers)


def conversation_streams(token: str, threads: int) -> list[list[SignedPost]]:
    """Per load thread, its senders' messages in sending order, signed before any timing.

    Each thread owns its senders and walks their conversations one after another, so one
    person's messages are sequential and every round sees the same mix of messages (a round
    covers a few whole conversations per thread).
    """
    validator = RequestValidator(token)
    senders = list(SENDERS)
    random.Random(1).shuffle(senders)  # mix the two countries' numbers among the threads
    return [
        [
            signed_post(validator, sender, text)
            for sender in senders[index::threads]
            for text in LOAD_SEQUENCE
        ]
        for index in range(threads)
    ]


@dataclass
class LoadStats:
    """What the load generator saw over every round against one server."""

    ok: int = 0
    failed: int = 0  # a non-2xx answer, a broken connection, or Refuge's apology
    silent: int = 0  # an empty <Response/>: no reply sent
    seconds: float = 0.0
    rates: list[float] = field(default_factory=list)

    @property
    def failure_rate(self) -> float:
        """Failed answers as a share of every request sent."""
        sent = self.ok + self.failed
        return self.failed / sent if sent else 0.0


class PostLoad:
    """POST precomputed streams to a loopback URL from one thread per stream, round by round.

    Each thread resumes its stream where the previous round stopped, so no message is sent
    twice unless `wrap` is set (for the baseline, which keeps nothing).
    """

    def __init__(self, url: str, streams: list[list[SignedPost]], *, wrap: bool) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS:
            raise ValueError(f"the load generator only loads http:// on loopback, not {url!r}")
        self.host, self.port = parts.hostname, parts.port or 80
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.streams = streams
        self.cursors = [0] * len(streams)
        self.wrap = wrap
        self.stats = LoadStats()
        self._lock = threading.Lock()

    def round(self, seconds: float, *, record: bool = True) -> float:
        """Load for `seconds` (or until the streams run out); successful answers per second."""
        start = threading.Barrier(len(self.streams) + 1)
        deadline = 0.0
        counts: list[tuple[int, int, int]] = []

        def worker(index: int) -> None:
            stream = self.streams[index]
            ok = failed = silent = 0
            connection = http.client.HTTPConnection(self.host, self.port, timeout=30.0)
            start.wait()
            try:
                while time.perf_counter() < deadline:
                    position = self.cursors[index]
                    if position >= len(stream):
                        if not self.wrap:
                            break
                        position = 0
                    self.cursors[index] = position + 1
                    post = stream[position]
                    try:
                        # gunicorn's sync workers close after each answer; http.client then
                        # opens a new connection for the next request on its own.
                        connection.request("POST", self.path, post.body, post.headers)
                        response = connection.getresponse()
                        answer = response.read()
                    except (OSError, http.client.HTTPException):
                        failed += 1
                        connection.close()
                        continue
                    if response.status != 200 or APOLOGY.encode() in answer:
                        failed += 1
                    else:
                        ok += 1
                        silent += b"<Message>" not in answer
            finally:
                connection.close()
                with self._lock:
                    counts.append((ok, failed, silent))

        threads = [
            threading.Thread(target=worker, args=(i,), daemon=True)
            for i in range(len(self.streams))
        ]
        for thread in threads:
            thread.start()
        began = time.perf_counter()
        deadline = began + seconds
        start.wait()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        ok = sum(c[0] for c in counts)
        rate = ok / elapsed if elapsed > 0 else 0.0
        if record:
            self.stats.ok += ok
            self.stats.failed += sum(c[1] for c in counts)
            self.stats.silent += sum(c[2] for c in counts)
            self.stats.seconds += elapsed
            self.stats.rates.append(rate)
        return rate


def _measure(load: PostLoad, *, record: bool = True) -> Callable[[], float]:
    return lambda: load.round(ROUND_SECONDS, record=record)


@dataclass(frozen=True)
class Rates:
    """What the load measured: Refuge, the bare route, and Refuge beside the floor app."""

    ours: float
    bare: float
    ours_stats: LoadStats
    bare_stats: LoadStats
    floor: float  # the least an idempotent webhook does (bench.floor_webhook_app)
    ours_beside_floor: float


def webhook_rates(env: dict[str, str], token: str, instance: Path) -> Rates:
    """Serve Refuge, the bare app and the floor app alike; load them in alternation."""
    streams = conversation_streams(token, CONCURRENCY)
    floor_env = clean_env(
        {
            "BENCH_FLOOR_DATABASE": str(instance / "floor.sqlite3"),
            "BENCH_FLOOR_TOKEN": token,
            "BENCH_FLOOR_URL": PUBLIC_URL + WEBHOOK,
        }
    )
    with ExitStack() as stack:
        ours_url = stack.enter_context(serve_gunicorn("server.wsgi:app", env, WORKERS))
        bare_url = stack.enter_context(
            serve_gunicorn("bench.bare_twiml_app:app", clean_env(), WORKERS)
        )
        floor_url = stack.enter_context(
            serve_gunicorn("bench.floor_webhook_app:app", floor_env, WORKERS)
        )
        ours = PostLoad(ours_url + WEBHOOK, streams, wrap=False)
        bare = PostLoad(bare_url + WEBHOOK, streams, wrap=True)
        floor = PostLoad(floor_url + WEBHOOK, streams, wrap=False)
        for load in (ours, bare, floor):  # every worker has imported its app, opened its file
            load.round(WARMUP_SECONDS, record=False)
        ours_rate, bare_rate = interleave(_measure(ours), _measure(bare), rounds=ROUNDS)
        ours_again, floor_rate = interleave(
            _measure(ours, record=False), _measure(floor), rounds=FLOOR_ROUNDS
        )
    if sum(ours.cursors) >= sum(len(s) for s in streams):
        print("  webhook: every precomputed message was sent", file=sys.stderr)
    return Rates(ours_rate, bare_rate, ours.stats, bare.stats, floor_rate, ours_again)


# --- Segments per reply over the corpus ----------------------------------------------------


@dataclass(frozen=True)
class LocaleSegments:
    """The corpus replies of one locale, measured."""

    locale: str
    segments: list[int]  # per reply
    ucs2: int  # replies that go out in UCS-2
    encoding: str  # the locale's own encoding: its name for itself, prepared for SMS
    budget: int  # segments a reply may take in that encoding
    over_budget: int  # replies over the budget of the encoding they actually go out in
    worst: tuple[int, int]  # segments and own budget of the reply that uses most of its budget


def corpus_segments(env: dict[str, str], token: str) -> list[LocaleSegments]:
    """Run the corpus in process in every configured locale; measure every reply."""
    # The corpus lives with the tests, which check its replies too.
    from defusedxml.ElementTree import fromstring

    from server import db, segments
    from server.app import create_app
    from server.config import Settings, load_config
    from server.conversation.library import Library
    from tests.sms_helpers import OWN_LANGUAGE, corpus, localise

    app = create_app(load_config(env))
    settings: Settings = app.extensions["refuge.settings"]
    database = db.get_database(app)
    client = app.test_client()
    validator = RequestValidator(token)
    # Free again at the end of each conversation (DELETE YES), so the load may reuse them.
    numbers = itertools.cycle(f"+447700900{n:03d}" for n in range(500, 1000))

    def send(sender: str, text: str) -> list[str]:
        post = signed_post(validator, sender, text)
        response = client.post(WEBHOOK, data=post.body, headers=post.headers)
        if response.status_code != 200:
            raise RuntimeError(f"corpus message {text!r} was answered {response.status_code}")
        root = fromstring(response.get_data(as_text=True))
        return ["".join(message.itertext()) for message in root.iter("Message")]

    def budget(locale: str, encoding: str) -> int:
        return settings.messaging.budget(locale) or segments.default_budget(encoding)

    try:
        # The baseline answers with a copy of the English menu: warn when it no longer is one.
        newcomer = next(numbers)
        first = signed_post(validator, newcomer, "hi")
        menu = client.post(WEBHOOK, data=first.body, headers=first.headers).get_data()
        send(newcomer, "DELETE YES")
        if menu != MENU_TWIML.encode():
            print(
                f"  webhook: the bare app's TwiML ({len(MENU_TWIML.encode())} B) differs "
                f"from Refuge's menu ({len(menu)} B); update bench/bare_twiml_app.py",
                file=sys.stderr,
            )
        with database.session() as session:
            names = dict(Library(session, settings.localization, date.today()).language_names())
        conversations = corpus(app)
        found: list[LocaleSegments] = []
        for position, (locale, name) in enumerate(names.items(), start=1):
            accents = (
                segments.AccentPolicy.KEEP
                if locale in settings.messaging.keep_accents
                else segments.AccentPolicy.TRANSLITERATE
            )
            own = segments.measure(segments.prepare(name, accents)).encoding
            counts: list[int] = []
            ucs2 = over = 0
            worst = (0, 1)
            for messages in conversations.values():
                sender = next(numbers)
                send(sender, "5")  # the language list, from the main menu
                send(sender, str(position))
                for message in messages:
                    text = f"<{position}>" if message == OWN_LANGUAGE else message
                    for reply in send(sender, localise(text, locale)):
                        measured = segments.measure(reply)
                        allowed = budget(locale, measured.encoding)
                        counts.append(measured.segments)
                        ucs2 += measured.encoding == "UCS-2"
                        over += measured.segments > allowed
                        # the larger share of its budget; on a tie, the more segments
                        if (measured.segments * worst[1], measured.segments) > (
                            worst[0] * allowed,
                            worst[0],
                        ):
                            worst = (measured.segments, allowed)
                if not send(sender, "DELETE YES"):  # silent: opted out, so opt in first
                    send(sender, "START")
                    send(sender, "DELETE YES")
            found.append(
                LocaleSegments(locale, counts, ucs2, own, budget(locale, own), over, worst)
            )
    finally:
        database.dispose()
    return found


def segment_results(found: list[LocaleSegments]) -> list[Result]:
    """Per locale, the median reply and the reply using most of its budget, in segments.

    The median is set against the budget of the locale's own encoding; the worst reply against
    the budget of the encoding it goes out in, since a locale's replies may mix encodings (a
    fallback language, a place name in another script).
    """
    results: list[Result] = []
    for measured in found:
        counts = measured.segments
        share = round(100 * measured.ucs2 / len(counts))
        worst_segments, worst_budget = measured.worst
        results += [
            Result(
                figure=f"SMS segments/reply median ({measured.locale}: "
                f"{len(counts)} replies, {share}% UCS-2)",
                unit="seg",
                ours=float(statistics.median(counts)),
                baseline=float(measured.budget),
                goal=f"<= 1.0x of the {measured.encoding} budget",
            ),
            Result(
                figure=f"SMS segments/reply worst vs own budget ({measured.locale})",
                unit="seg",
                ours=float(worst_segments),
                baseline=float(worst_budget),
                goal="<= 1.0x: no reply over its encoding's budget",
            ),
        ]
    return results


# --- The benchmark -------------------------------------------------------------------------


def run() -> list[Result]:
    """Segments over the corpus in process, then the two servers loaded alternately."""
    token = secrets.token_hex(16)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="refuge-bench-") as tmp:
        env = refuge_env(Path(tmp), token)
        run_refuge(env, "db", "upgrade")
        run_refuge(env, "content", "load")
        prepared = time.perf_counter()
        found = corpus_segments(env, token)
        measured = time.perf_counter()
        rates = webhook_rates(env, token, Path(tmp))
    ours, bare = rates.ours_stats, rates.bare_stats
    over = {m.locale: m.over_budget for m in found if m.over_budget}
    report = [
        f"set-up {prepared - began:.1f} s, corpus {measured - prepared:.1f} s, "
        f"load {time.perf_counter() - measured:.1f} s",
        f"ours {ours.ok} answered, {ours.failed} failed, {ours.silent} silent "
        f"in {ours.seconds:.1f} s; rounds {', '.join(f'{r:.0f}' for r in ours.rates)} msg/s",
        f"bare {bare.ok} answered, {bare.failed} failed in {bare.seconds:.1f} s; "
        f"rounds {', '.join(f'{r:.0f}' for r in bare.rates)} msg/s",
        f"floor app {rates.floor:.0f} msg/s ({rates.floor / rates.bare:.2f}x of the bare route): "
        "the least an idempotent webhook does",
        f"corpus replies over their own encoding's budget: {over or 'none'}",
    ]
    for line in report:
        print(f"  webhook: {line}", file=sys.stderr)
    return [
        Result(
            figure="inbound webhook POST /sms/twilio",
            unit="msg/s",
            ours=round(rates.ours, 1),
            baseline=round(rates.bare, 1),
            goal=f">= {GOAL_RATIO:.2f}x of a bare Flask route answering the same TwiML "
            "(higher is better)",
        ),
        Result(
            figure="inbound webhook vs the least an idempotent webhook does",
            unit="msg/s",
            ours=round(rates.ours_beside_floor, 1),
            baseline=round(rates.floor, 1),
            goal="none set: what the conversation and the ORM cost beyond a signature check, "
            "a receipt and the sender's row (blind index, sealed reply) in one transaction "
            "(bench.floor_webhook_app; higher is better)",
        ),
        Result(
            figure="inbound webhook failed answers (non-2xx or apology)",
            unit="%",
            ours=round(100 * ours.failure_rate, 3),
            baseline=round(100 * bare.failure_rate, 3),
        ),
        *segment_results(found),
    ]
