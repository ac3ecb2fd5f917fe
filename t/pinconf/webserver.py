"""webserver.py: Server, a real web server serving the installed CGIs: start, stop, requests
(post() signs as Sinch does), the CGIs' stderr; the one list of running servers, stopped at exit."""

import atexit
import collections
import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

from .environment import server_mode
from .events import encode
from .signing import CALLBACK_PATH, CONTENT_TYPE, KEY, SECRET, _authorization, iso_now


# elapsed: seconds from sending to the whole answer; answered: time.time() then.
Response = collections.namedtuple('Response', 'status headers body json elapsed answered')

_servers = []		# running now
_started_servers = []	# every server this process started: their logs are checked at the end


def stop_all_servers():
    for server in list(_servers):
        server.stop()


atexit.register(stop_all_servers)


def free_port(host='127.0.0.1'):
    with socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def ipv6_loopback_usable():
    """Whether a server can listen on [::1] here (containers may lack IPv6)."""
    try:
        free_port('::1')
        return True
    except OSError:
        return False


def _stop_on_signal(signum, frame):
    raise SystemExit(128 + signum)


signal.signal(signal.SIGTERM, _stop_on_signal)
signal.signal(signal.SIGHUP, _stop_on_signal)


def _die_with_parent():
    """A preexec_fn that has the kernel send the server SIGTERM when this process dies.

    atexit and the signal handlers stop the servers on every ordinary exit;
    this covers SIGKILL too.  Servers are started from the main thread, whose
    end is the process's end.
    """
    try:
        import ctypes
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (ImportError, OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def preexec():
        prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
    return preexec


class Server:
    """A running web server; subclasses know how to configure and start one."""

    kind = None

    @classmethod
    def missing(cls):
        """Why this kind of server cannot run here, or None."""
        return None

    def __init__(self, scratch, config=None, extra_conf='', host='127.0.0.1'):
        self.scratch = scratch
        self.config = config or scratch.config
        self.extra_conf = extra_conf
        self.host = host		# the loopback address listened on: 127.0.0.1 or ::1
        self.port = free_port(host)
        self.dir = scratch.path('%s-%d' % (self.kind, self.port))
        os.makedirs(self.dir)
        self.cgi_log = os.path.join(self.dir, 'cgi-stderr.log')
        self.error_log = os.path.join(self.dir, 'error.log')
        self.console = os.path.join(self.dir, 'console.log')
        self.process = None
        self.mode = server_mode()
        self.socket_dir = None

    # Life cycle.

    def start(self, timeout=10):
        self.configure()
        for path in (self.cgi_log, self.error_log):
            open(path, 'a').close()
        self.scratch.chown(self.dir)
        # A session of its own: Apache's prefork MPM signals its whole process
        # group at shutdown, which would otherwise be this test and make.
        with open(self.console, 'ab') as console:
            self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                            stdout=console, stderr=subprocess.STDOUT,
                                            start_new_session=True, preexec_fn=_die_with_parent())
        _servers.append(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError('%s exited with %s at start:\n%s' % (
                    self.kind, self.process.returncode, self.startup_output()))
            try:
                socket.create_connection((self.host, self.port), timeout=1).close()
                # Someone else may be listening there: ours must say it started.
                if self.started() and self.process.poll() is None:
                    _started_servers.append(self)
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError('%s did not listen on port %d:\n%s' % (
            self.kind, self.port, self.startup_output()))

    def started(self):
        """Whether the server reports that it is up (its port answering is not enough)."""
        return True

    def startup_output(self):
        text = ''
        for path in (self.console, self.error_log):
            try:
                with open(path, errors='replace') as f:
                    text += f.read()
            except OSError:
                pass
        return text

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.sync()
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self in _servers:
            _servers.remove(self)

    # Requests.

    def request_headers(self):
        """([(name, value)] to add to a request, tag) for servers that track requests."""
        return [], None

    def answered(self, tag):
        """The request tagged tag has had its whole response."""

    def short_dir(self, path, prefix):
        """path, or a short directory of our own when a socket under path would not fit sun_path."""
        if len(path) + 40 <= 100:
            os.makedirs(path, exist_ok=True)
            return path
        # A deep build dir (make distcheck): the server's user must be able to enter it.
        if self.socket_dir is None:
            self.socket_dir = tempfile.mkdtemp(prefix=prefix)
            os.chmod(self.socket_dir, 0o755)
            self.scratch.chown(self.socket_dir)
        return self.socket_dir

    def fastcgi_pids(self, program='callback.cgi'):
        """The pids of the running FastCGI processes of program that this server started."""
        pids = []
        for entry in os.listdir('/proc'):
            if not entry.isdigit():
                continue
            try:
                with open('/proc/%s/cmdline' % entry, 'rb') as f:
                    argv = f.read().split(b'\0')
                with open('/proc/%s/stat' % entry) as f:
                    state = f.read().rsplit(')', 1)[1].split()[0]
            except OSError:
                continue
            if state != 'Z' and argv and os.path.basename(argv[0].decode(errors='replace')) == program \
                    and self._started_by_me(int(entry)):
                pids.append(int(entry))
        return sorted(pids)

    def _started_by_me(self, pid):
        """Whether pid descends from this server's process."""
        while pid > 1:
            if self.process is not None and pid == self.process.pid:
                return True
            try:
                with open('/proc/%d/stat' % pid) as f:
                    pid = int(f.read().rsplit(')', 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                return False
        return False

    def request(self, method, path, body=None, headers=(), timeout=30):
        """One raw HTTP request; headers is a list of (name, value) sent as given."""
        extra, tag = self.request_headers()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        started = time.monotonic()
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in list(headers) + extra:
                connection.putheader(name, value)
            connection.endheaders(body)
            response = connection.getresponse()
            data = response.read()
            elapsed = time.monotonic() - started
            answered = time.time()
            response_headers = {name.lower(): value for name, value in response.getheaders()}
            status = response.status
        finally:
            connection.close()
        self.answered(tag)
        try:
            parsed = json.loads(data.decode('utf-8')) if data else None
        except ValueError:
            parsed = None
        return Response(status, response_headers, data, parsed, elapsed, answered)

    def form(self, path, fields, headers=()):
        """POST fields as an application/x-www-form-urlencoded body, as the join page does."""
        body = urllib.parse.urlencode(fields).encode()
        return self.request('POST', path, body, [
            ('Host', '127.0.0.1:%d' % self.port),
            ('Content-Type', 'application/x-www-form-urlencoded'),
            ('Content-Length', str(len(body)))] + list(headers))

    def join(self, name, pin):
        """A browser's first getticket request: the user id it issues, or None."""
        r = self.form('/cgi-bin/getticket.cgi', {'name': name, 'pin': pin})
        return (r.json or {}).get('userId') if r.status == 200 else None

    def post(self, event, sign=True, headers=None, method='POST', path=CALLBACK_PATH,
             content_type=CONTENT_TYPE, timestamp=None, sign_path=None, sign_content_type=None,
             sign_body=None, sign_method=None, key=KEY, secret=SECRET, scheme='Application',
             timeout=30):
        """Send event (a dict, or raw bytes) as Sinch would.

        sign=False leaves Authorization and X-Timestamp out.  sign_path,
        sign_content_type and sign_body sign something other than what is sent.
        headers: {name: value} overrides after signing; a value of None drops the header.
        """
        body = encode(event)
        send = collections.OrderedDict()
        send['Host'] = self.authority()
        if content_type is not None:
            send['Content-Type'] = content_type
        if body is not None and (body or method in ('POST', 'PUT')):
            send['Content-Length'] = str(len(body))
        if sign:
            timestamp = timestamp or iso_now()
            send['X-Timestamp'] = timestamp
            send['Authorization'] = _authorization(
                sign_method or method, sign_path or path, body if sign_body is None else sign_body,
                content_type if sign_content_type is None else sign_content_type,
                timestamp, key, secret, scheme)
        for name, value in (headers or {}).items():
            for existing in [k for k in send if k.lower() == name.lower()]:
                del send[existing]
            if value is not None:
                send[name] = value
        return self.request(method, path, body if body else None, list(send.items()), timeout)

    # The CGIs' stderr: the lines as the CGIs wrote them, whichever server relayed them.

    def sync(self):
        """Wait until every answered request's CGI stderr is in the log (where a server can tell)."""

    def cgi_lines(self, text):
        """The CGIs' own lines in text read from self.cgi_log."""
        return text.splitlines()

    def log_mark(self):
        self.sync()
        try:
            return os.path.getsize(self.cgi_log)
        except OSError:
            return 0

    def log_since(self, mark):
        """Lines the CGIs wrote to stderr since mark (from log_mark())."""
        self.sync()
        with open(self.cgi_log, 'rb') as f:
            f.seek(mark)
            return self.cgi_lines(f.read().decode('utf-8', errors='replace'))

    def log_all(self):
        return self.log_since(0)

    def url(self, path=CALLBACK_PATH):
        return 'http://%s%s' % (self.authority(), path)

    def authority(self):
        """host:port as a Host header or URL has it ([::1]:port for IPv6)."""
        return ('[%s]:%d' if ':' in self.host else '%s:%d') % (self.host, self.port)
