"""The public web and the API under gunicorn beside the bare Flask route, and every page's weight.

Requests per second of the resources page and of the API's resource list, each next to the
bare app's GET /healthz measured in the same run (goal: at least 30% of it); then the gzip
size of every public page of the demo content in every language, the largest of each kind
reported against the 14 KB budget.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
import tempfile
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from bench.harness import (
    Result,
    clean_env,
    interleave,
    measure_rps,
    rps_probe,
    run_refuge,
    serve_gunicorn,
    sqlite_refuge_env,
)
from server.resources import shipped

WORKERS = 2
CONCURRENCY = 4
ROUNDS = 6
ROUND_SECONDS = 2.0
WARMUP_SECONDS = 1.0
RPS_GOAL = ">= 0.30x the bare Flask route"
BUDGET = 14 * 1024
LOCALES = ("en", "ar", "fr", "uk", "my", "bn", "rhg")
ROUTES = {
    "home": "/{locale}/",
    "resources page": "/{locale}/resources",
    "info page": "/{locale}/info",
    "secure page": "/{locale}/secure",
    "about page": "/{locale}/about",
}


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (loopback only)
        body: bytes = response.read()
    return body


def _pages(base: str) -> dict[str, dict[str, str]]:
    """Every public page's URL path by kind: fixed routes, each resource and checklist."""
    resources = json.loads(_get(f"{base}/api/v1/resources?per_page=100"))["items"]
    checklists = json.loads(_get(f"{base}/api/v1/checklists"))["items"]
    regions = json.loads(_get(f"{base}/api/v1/regions"))["items"]
    kinds: dict[str, dict[str, str]] = {}
    for locale in LOCALES:
        for kind, route in ROUTES.items():
            kinds.setdefault(kind, {})[f"{kind} {locale}"] = route.format(locale=locale)
        for region in regions:
            path = f"/{locale}/resources?region={region['slug']}"
            kinds.setdefault("resources of a region", {})[path] = path
        for item in resources:
            path = f"/{locale}/resources/{item['id']}"
            kinds.setdefault("resource page", {})[path] = path
        for item in checklists:
            path = f"/{locale}/secure/{item['slug']}"
            kinds.setdefault("checklist page", {})[path] = path
    return kinds


def page_weights(base: str) -> list[Result]:
    """The largest gzip size of each kind of page, and of all pages, against the budget."""
    results = []
    heaviest = ("", 0)
    for kind, paths in _pages(base).items():
        sizes = {path: len(gzip.compress(_get(base + path), 6)) for path in paths.values()}
        worst = max(sizes, key=lambda path: sizes[path])
        print(f"  {kind}: {len(sizes)} pages, largest {worst} {sizes[worst]} B", file=sys.stderr)
        results.append(
            Result(f"gzip size, largest {kind}", "bytes", sizes[worst], BUDGET, "<= 1.00x")
        )
        if sizes[worst] > heaviest[1]:
            heaviest = (worst, sizes[worst])
    results.append(
        Result(f"gzip size, largest page ({heaviest[0]})", "bytes", heaviest[1], BUDGET, "<= 1.00x")
    )
    return results


def run() -> list[Result]:
    """Serve Refuge (demo content) and the bare app identically; measure rates and weights."""
    with tempfile.TemporaryDirectory(prefix="refuge-bench-") as tmp, ExitStack() as stack:
        env = sqlite_refuge_env(Path(tmp))
        content = Path(tmp) / "content"
        shutil.copytree(shipped("demo"), content)
        run_refuge(env, "db", "upgrade")
        run_refuge(env, "content", "load", str(content))
        ours = stack.enter_context(
            serve_gunicorn("bench.web_app:app", env, WORKERS, ready_path="/healthz")
        )
        bare = stack.enter_context(serve_gunicorn("bench.bare_app:app", clean_env(), WORKERS))
        bare_url = f"{bare}/healthz"
        results = []
        for figure, url in (
            ("GET /en/resources (page)", f"{ours}/en/resources"),
            ("GET /api/v1/resources (API list)", f"{ours}/api/v1/resources"),
        ):
            for each in (url, bare_url):  # every worker has imported its app and warmed up
                measure_rps(each, seconds=WARMUP_SECONDS, concurrency=CONCURRENCY)
            ours_rps, bare_rps = interleave(
                rps_probe(url, ROUND_SECONDS, CONCURRENCY),
                rps_probe(bare_url, ROUND_SECONDS, CONCURRENCY),
                rounds=ROUNDS,
            )
            results.append(
                Result(figure, "req/s", round(ours_rps, 1), round(bare_rps, 1), RPS_GOAL)
            )
        results.extend(page_weights(ours))
    return results
