"""apache.py: the Apache 2.4 driver: a minimal main config including the shipped
apache-pinconf.conf (or -fcgid) as pinconf(7) says; the CGIs' own lines in Apache's error log."""

import itertools
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

from .environment import WEB_GROUP, WEB_USER, _running_as_root, _sanitizer_environment, _web_ids, server_mode
from .webserver import Server


def _apache_word(text):
    """An Apache directive argument: bare as pinconf(7) writes paths, quoted when it must be."""
    text = str(text)
    if text and re.fullmatch(r'[A-Za-z0-9_./:+=,@%-]+', text):
        return text
    return '"%s"' % text.replace('\\', '\\\\').replace('"', '\\"')


def _which(name):
    return shutil.which(name, path=os.environ.get('PATH', '') + ':/usr/sbin:/sbin:/usr/local/sbin')


# An Apache error-log line (ErrorLogFormat's default): "[Tue Nov 24 10:00:00.123456 2026] [module:level] ...".
_APACHE_LOG_LINE = re.compile(r'^\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ 0-9]\d '
                              r'\d\d:\d\d:\d\d(?:\.\d+)? \d{4}\] \[')
# A CGI's stderr line relayed by mod_cgi (or mod_cgid built with fd passing):
# "AH01215: stderr from /path/x.cgi: LINE" (2.4.47 on), "AH01215: LINE: /path/x.cgi" before.
_APACHE_CGI_LINE = re.compile(r'^\[[^\]]*\] \[[^\]]*\] \[pid [^\]]*\](?: \[client [^\]]*\])? AH01215: (.*)$')
_APACHE_STDERR_FROM = re.compile(r'^stderr from /[^:]*: (.*)$')
_APACHE_SCRIPT_SUFFIX = re.compile(r'^(.*): /[^:]*$')
_APACHE_REFERER = re.compile(r', referer: \S*$')


def apache_cgi_lines(text):
    """The CGIs' own lines in Apache error-log text, whatever way Apache relayed them.

    Debian's mod_cgid has no fd passing: the CGIs write straight into the
    ErrorLog, lines as they are.  mod_cgi (and mod_cgid with fd passing)
    logs each line itself, under its prefix and AH01215.  Apache's own lines
    (start, stop, "End of script output before headers") are left out.
    """
    lines = []
    for line in text.splitlines():
        if not _APACHE_LOG_LINE.match(line):
            lines.append(line)
            continue
        relayed = _APACHE_CGI_LINE.match(line)
        if not relayed:
            continue
        message = _APACHE_REFERER.sub('', relayed.group(1))
        match = _APACHE_STDERR_FROM.match(message) or _APACHE_SCRIPT_SUFFIX.match(message)
        lines.append(match.group(1) if match else message)
    return lines


class ApacheServer(Server):
    """Apache 2.4 in the foreground, with the installed apache-pinconf.conf.

    The main config is the least a distribution's apache2.conf provides, then
    the three Defines and the Include exactly as pinconf(7) shows them.
    """

    kind = 'apache'
    # mod_cgid with the event MPM, as Debian enables them; PINCONF_APACHE_CGI=cgi
    # takes mod_cgi with prefork instead (it relays CGI stderr under AH01215).
    # unixd and log_config are loaded only where they are not compiled in.
    MODULES = ('unixd', 'log_config', 'authz_core', 'alias', 'env', 'mime', 'dir')
    CGI_MODULES = {'cgid': ('mpm_event', 'cgid'), 'cgi': ('mpm_prefork', 'cgi')}
    FASTCGI_MODULES = ('mpm_event', 'fcgid')
    MODULE_DIRS = ('/usr/lib/apache2/modules', '/usr/lib64/httpd/modules', '/usr/lib/httpd/modules',
                   '/usr/libexec/apache2', '/usr/local/apache2/modules')
    # Every request the harness sends carries this header; the access log
    # records it after the handler (and so the CGI, its stderr included) is done.
    TAG_HEADER = 'X-Pinconf-Test-Request'
    _tags = itertools.count(1)
    _builtin = None

    @staticmethod
    def binary():
        return os.environ.get('APACHE2') or _which('apache2') or _which('httpd')

    @classmethod
    def module_dir(cls):
        candidates = [os.environ['APACHE_MODULES']] if os.environ.get('APACHE_MODULES') else cls.MODULE_DIRS
        for directory in candidates:
            if os.path.isfile(os.path.join(directory, 'mod_cgid.so')):
                return directory
        return None

    @classmethod
    def builtin_modules(cls):
        """Modules compiled into the binary (apache2 -l): mod_unixd.c -> unixd."""
        if cls._builtin is None:
            done = subprocess.run([cls.binary(), '-l'], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  stdin=subprocess.DEVNULL)
            cls._builtin = set(re.findall(r'^\s*mod_(\w+)\.c\s*$', done.stdout.decode(errors='replace'), re.M))
        return cls._builtin

    @staticmethod
    def cgi_module():
        return os.environ.get('PINCONF_APACHE_CGI') or 'cgid'

    @classmethod
    def missing(cls):
        if not cls.binary():
            return 'apache2 not found (apt-get install apache2, or set APACHE2)'
        if cls.cgi_module() not in cls.CGI_MODULES:
            return 'PINCONF_APACHE_CGI=%s: only cgid or cgi' % cls.cgi_module()
        if not cls.module_dir():
            return 'no Apache module directory with mod_cgid.so (set APACHE_MODULES)'
        if server_mode() == 'fastcgi' and not os.path.isfile(os.path.join(cls.module_dir(), 'mod_fcgid.so')):
            return 'mod_fcgid.so not found (apt-get install libapache2-mod-fcgid)'
        return None

    def __init__(self, scratch, config=None, extra_conf='', host='127.0.0.1'):
        super().__init__(scratch, config=config, extra_conf=extra_conf, host=host)
        self.cgi_log = self.error_log		# the CGIs' stderr goes to the ErrorLog
        self.access_log = os.path.join(self.dir, 'access.log')
        self.pid_file = os.path.join(self.dir, 'httpd.pid')
        self.script_sock = os.path.join(self.dir, 'cgid.sock')
        if len(self.script_sock) + 8 > 100:	# mod_cgid appends .PID; sun_path holds 107
            # A deep build dir (make distcheck): a short one of our own, which
            # the workers (www-data) must be able to enter.
            self.socket_dir = tempfile.mkdtemp(prefix='pinconf-cgid-')
            os.chmod(self.socket_dir, 0o755)
            scratch.chown(self.socket_dir)
            self.script_sock = os.path.join(self.socket_dir, 'cgid.sock')
        self._lock = threading.Lock()
        self._answered = set()
        self._logged = set()
        self._access_offset = 0

    def site_conf(self):
        """The part of the main config that serves pinconf: the shipped snippet, as pinconf(7) says."""
        snippet = 'apache-pinconf-fcgid.conf' if self.mode == 'fastcgi' else 'apache-pinconf.conf'
        shipped = os.path.join(self.scratch.pkgdatadir, 'examples', snippet)
        return [
            'Define PINCONF_CGIBIN %s' % _apache_word(os.environ['PINCONF_CGIBINDIR']),
            'Define PINCONF_HTDOCS %s' % _apache_word(self.scratch.path('htdocs')),
            'Define PINCONF_CONFIG %s' % _apache_word(self.config),
            'Include %s' % _apache_word(shipped),
        ]

    def configure(self):
        modules = self.module_dir()
        builtin = self.builtin_modules()
        lines = [
            '# main.conf written by t/pinconf/apache.py',
            'ServerRoot %s' % _apache_word(self.dir),
            'DefaultRuntimeDir %s' % _apache_word(self.dir),
            'PidFile %s' % _apache_word(self.pid_file),
            'Listen %s' % self.authority(),
            'ServerName 127.0.0.1',
        ]
        wanted = self.FASTCGI_MODULES if self.mode == 'fastcgi' else self.CGI_MODULES[self.cgi_module()]
        for module in wanted + self.MODULES:
            if module not in builtin:
                lines.append('LoadModule %s_module %s' % (module, _apache_word(
                    os.path.join(modules, 'mod_%s.so' % module))))
        if _running_as_root():
            lines += ['User %s' % WEB_USER, 'Group %s' % WEB_GROUP]
        lines += [
            'ErrorLog %s' % _apache_word(self.error_log),
            'LogLevel warn',
            'LogFormat "%%{%s}i %%>s \\"%%r\\" %%D" pinconf_test' % self.TAG_HEADER,
            'CustomLog %s pinconf_test' % _apache_word(self.access_log),
        ]
        if self.mode == 'fastcgi':
            # mod_fcgid's sockets and shared process table, ours and not /var/lib/apache2/fcgid.
            sockets = self.short_dir(os.path.join(self.dir, 'fcgid'), 'pinconf-fcgid-')
            lines += ['FcgidIPCDir %s' % _apache_word(sockets),
                      'FcgidProcessTableFile %s' % _apache_word(os.path.join(self.dir, 'fcgid-shm'))]
        elif self.cgi_module() == 'cgid':
            lines.append('ScriptSock %s' % _apache_word(self.script_sock))
        if os.path.isfile('/etc/mime.types'):
            lines.append('TypesConfig /etc/mime.types')
        else:
            lines += ['TypesConfig /dev/null', 'AddType text/html .html', 'AddType text/css .css',
                      'AddType text/javascript .js']
        lines += ['SetEnv %s %s' % (name, _apache_word(value)) for name, value in _sanitizer_environment()]
        if self.mode == 'fastcgi':
            # mod_fcgid hands SetEnv to each request; the runtimes read their process's environment.
            lines += ['FcgidInitialEnv %s %s' % (name, _apache_word(value))
                      for name, value in _sanitizer_environment()]
        lines += self.site_conf()
        lines.append(self.extra_conf)
        self.main_conf = os.path.join(self.dir, 'main.conf')
        with open(self.main_conf, 'w') as out:
            out.write('\n'.join(lines) + '\n')
        open(self.access_log, 'a').close()

    def started(self):
        """The ErrorLog says "resuming normal operations", the PidFile names our
        process, and mod_cgid's daemon is ready for the workers.

        The daemon binds its socket as root, mode 0700, and hands it to User
        only after listen(): a worker that connects before that gets EACCES,
        which mod_cgid does not retry, and the request a 503.
        """
        try:
            with open(self.error_log, errors='replace') as f:
                if 'resuming normal operations' not in f.read():
                    return False
            with open(self.pid_file) as f:
                if int(f.read().strip() or 0) != self.process.pid:
                    return False
            if self.mode == 'cgi' and self.cgi_module() == 'cgid':
                # mod_cgid names its socket ScriptSock.PID, the PID of the main process.
                owner = os.stat('%s.%d' % (self.script_sock, self.process.pid)).st_uid
                if _running_as_root() and owner != _web_ids()[0]:
                    return False
            return True
        except (OSError, ValueError):
            return False

    def command(self):
        return [self.binary(), '-f', self.main_conf, '-DFOREGROUND']

    def stop(self):
        super().stop()
        if self.socket_dir:
            shutil.rmtree(self.socket_dir, ignore_errors=True)

    # Requests are tagged, so that log_since() can wait for their CGIs' stderr.

    def request_headers(self):
        tag = str(next(self._tags))
        return [(self.TAG_HEADER, tag)], tag

    def answered(self, tag):
        with self._lock:
            self._answered.add(tag)

    def _read_access_log(self):
        try:
            with open(self.access_log, 'rb') as f:
                f.seek(self._access_offset)
                data = f.read()
        except OSError:
            return
        end = data.rfind(b'\n') + 1		# whole lines only
        self._access_offset += end
        tags = {line.split(b' ', 1)[0].decode('ascii', errors='replace') for line in data[:end].splitlines()}
        with self._lock:
            self._logged |= tags

    def sync(self, timeout=3.0):
        """Wait until the access log has every answered request.

        Apache writes the access log line after the handler is done, and the
        handler is done once the CGI has closed its output, that is, exited:
        so then all the CGI's stderr is in the ErrorLog.  A request Apache
        never logs (none known) costs one timeout, once.
        """
        if self.process is None:
            return True
        deadline = time.monotonic() + timeout
        while True:
            self._read_access_log()
            with self._lock:
                matched = self._answered & self._logged
                self._answered -= matched
                self._logged -= matched
                waiting = set(self._answered)
            if not waiting:
                return True
            if time.monotonic() > deadline or self.process.poll() is not None:
                with self._lock:
                    self._answered -= waiting
                return False
            time.sleep(0.005)

    def cgi_lines(self, text):
        return apache_cgi_lines(text)
