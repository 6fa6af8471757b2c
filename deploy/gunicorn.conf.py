"""gunicorn settings for the CDT registry (`make serve`, deploy/cdt.service).

Every value can be overridden from the environment (or on the command line):
CDT_BIND (127.0.0.1:8000), WEB_CONCURRENCY (workers), GUNICORN_TIMEOUT (seconds).
Graceful reload: `kill -HUP <master pid>` (systemctl reload cdt) starts new workers with the
new code and lets the old ones finish their requests.
"""
import multiprocessing
import os

bind = os.environ.get("CDT_BIND", "127.0.0.1:8000")

# Sync workers: the app is database-bound; 2 per CPU plus one, at most 8 per server.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8)))
worker_class = "sync"

# A 20,000-row import is confirmed (checked and written) in ~5 s (bench/import_speed.py) and the
# national exports stream for ~10 s; the timeout kills only a worker that is truly stuck.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 120))
graceful_timeout = 30  # on reload/stop, requests in flight get this long to finish
keepalive = 5  # behind nginx (keepalive to the upstream)

# Recycle workers now and then (bounded memory), not all at once.
max_requests = 2000
max_requests_jitter = 200

# Load the app in each worker, not in the master: HUP then reloads the code, and no database
# connection is shared across fork().
preload_app = False

# The heartbeat file on tmpfs (a disk-backed /tmp can block workers).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Logs to stdout/stderr (journald under systemd). The access log has the path WITHOUT the query
# string and no referrer: query strings carry secrets (the calendar feed's token) and personal
# data (searched names). %(M)s is the duration in milliseconds.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'

# The address of the client comes from the reverse proxy (nginx on the same host).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# gunicorn's runtime control socket is not used (and would be shared by every gunicorn of the user).
control_socket_disable = True

proc_name = "cdt"
