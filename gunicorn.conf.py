"""Gunicorn settings used by `make run`, `make bench` and the deployment docs.

No line of gunicorn's logs carries a client address or a status token, malformed
requests included: the access log leaves the address out (%(h)s), and both logs pass
through webapp.services.privacy's LogRedactor, the filter the app installs on its own
logger and werkzeug's. It cuts status-link tokens (and anything shaped like a signed token)
out of paths, query strings and referers, the `ip=` of gunicorn's
"Invalid request from ip=..." lines, and escapes control and non-ASCII characters.
"""

import gc
import os
import shutil
import tempfile

from gunicorn.glogging import Logger

from webapp.services.privacy import add_redactor, scrub


class RedactingLogger(Logger):
    """Gunicorn's logger with the app's log redaction on its error and access logs."""

    def setup(self, cfg):
        super().setup(cfg)
        # The master logs too (it never loads the app), and a reload runs setup again.
        add_redactor(self.error_log)
        add_redactor(self.access_log)

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f", "a"):
            if isinstance(atoms.get(key), str):
                atoms[key] = scrub(atoms[key])
        atoms["h"] = "-"
        return atoms


logger_class = RedactingLogger
accesslog = "-"
access_log_format = '"%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
errorlog = "-"
# gunicorn's sync worker, answering the errors gunicorn meets itself (a malformed request
# line, headers too large) with a page of the site's and its security headers.
worker_class = "webapp.server_errors.Worker"
# A sync worker tells the master it is alive only between requests, so the timeout bounds
# the longest response: a streamed export of a whole 100,000-row catalog takes 17-24 s on
# two busy cores (bench/export_stream.py). 120 s leaves room for a few times that.
timeout = 120
# The longest request line gunicorn reads (its own default is 4094 bytes, past which it
# answers 414 itself, with webapp/server_errors.py's page rather than the app's): the API documents a cursor of up to 400
# characters, and 400 non-ASCII characters percent-encoded take up to 4,800 bytes, plus a
# search and the filters. 8190 is gunicorn's maximum.
limit_request_line = 8190
graceful_timeout = 10
forwarded_allow_ips = ""  # the app decides whom to trust (TRUSTED_PROXY_COUNT)
control_socket_disable = True  # no admin socket on disk; signals are enough


# The workers share the pages they render (webapp/web/shared_pages.py) in a folder made
# for this server when it starts and removed when it stops, so a page never outlives the
# server or reaches another database's site. TRUSTBENCH_SHARED_PAGE_STORE set beforehand
# names a folder of the operator's own (kept on exit); "0" turns the sharing off.
SHARED_PAGE_STORE = "TRUSTBENCH_SHARED_PAGE_STORE"
_made_store: list[str] = []


def on_starting(server):
    if os.environ.get(SHARED_PAGE_STORE):
        return
    folder = tempfile.mkdtemp(prefix="trustbench-pages-")  # mode 0700
    _made_store.append(folder)
    os.environ[SHARED_PAGE_STORE] = folder  # the workers, forked later, inherit it


def post_worker_init(worker):
    """The worker has loaded the app (its modules, mappers, compiled statements and
    reference tables): put those objects out of the cyclic collector's reach, so that its
    full collections, which otherwise walk every one of them (python -c "import gc;
    from webapp import create_app; create_app(); print(len(gc.get_objects()))" counts
    them) on a request's time now and then, scan only what requests allocate. gc.freeze
    is the standard library's tool for a forking server; nothing is cached by it."""
    gc.collect()
    gc.freeze()


def on_exit(server):
    for folder in _made_store:
        shutil.rmtree(folder, ignore_errors=True)
    _made_store.clear()
