"""Gunicorn settings used by `make run`, `make bench` and the deployment docs.

The access log leaves out the client address (%(h)s): raw IPs are never logged. The
request line and path go through webapp.services.privacy.redact_path, so a private
status link's token never reaches a log either.
"""

from gunicorn.glogging import Logger

from webapp.services.privacy import redact_path


class RedactingLogger(Logger):
    """Gunicorn's logger with status-link tokens cut out of the request atoms."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_path(atoms[key])
        atoms["h"] = "-"
        return atoms


logger_class = RedactingLogger
accesslog = "-"
access_log_format = '"%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
errorlog = "-"
worker_class = "sync"
timeout = 30
graceful_timeout = 10
forwarded_allow_ips = ""  # the app decides whom to trust (TRUSTED_PROXY_COUNT)
control_socket_disable = True  # no admin socket on disk; signals are enough
