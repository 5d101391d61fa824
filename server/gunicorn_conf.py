"""gunicorn settings for Refuge: an access log without addresses or query strings."""

import multiprocessing

bind = "127.0.0.1:8000"
workers = min(2 * multiprocessing.cpu_count() + 1, 9)
# method, path (no query string), status, bytes, duration; never the client's address.
access_log_format = "%(m)s %(U)s %(s)s %(B)s %(M)sms"
accesslog = "-"
forwarded_allow_ips = "127.0.0.1"
