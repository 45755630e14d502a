"""Gunicorn settings used by `make run` and the deployment docs.

The access log leaves out the client address (%(h)s): raw IPs are never logged.
"""

accesslog = "-"
access_log_format = '"%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
errorlog = "-"
worker_class = "sync"
timeout = 30
graceful_timeout = 10
forwarded_allow_ips = ""  # the app decides whom to trust (TRUSTED_PROXY_COUNT)
