"""The baseline for web benchmarks: the smallest Flask app that answers GET /healthz."""

from __future__ import annotations

from flask import Flask, Response, jsonify

app = Flask(__name__)


@app.get("/healthz")
def healthz() -> Response:
    """Answer like Refuge's health check, without touching anything."""
    return jsonify(status="ok")
