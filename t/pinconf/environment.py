"""environment.py: what this run is, from make check's environment: server kind and mode
(PINCONF_SERVER, PINCONF_MODE), the web server's user, the sanitizer settings for the CGIs."""

import os


WEB_USER = 'www-data'
WEB_GROUP = 'www-data'


def _running_as_root():
    return os.geteuid() == 0


def _web_ids():
    import grp
    import pwd
    return pwd.getpwnam(WEB_USER).pw_uid, grp.getgrnam(WEB_GROUP).gr_gid


def server_kind():
    """The web server the tests run under: $PINCONF_SERVER, lighttpd by default."""
    return os.environ.get('PINCONF_SERVER') or 'lighttpd'


MODES = ('cgi', 'fastcgi')


def server_mode():
    """How the server runs the programs: $PINCONF_MODE, cgi (a process a request) by default,
    or fastcgi (processes the server starts once, each serving many requests)."""
    return os.environ.get('PINCONF_MODE') or 'cgi'


# The sanitizer runtimes' settings: the servers give CGIs a clean environment,
# so these are passed on through the server's configuration (the test's only,
# never the shipped snippets) when the test's environment sets them.
SANITIZER_VARIABLES = ('ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS')


def _sanitizer_environment():
    return [(name, os.environ[name]) for name in SANITIZER_VARIABLES if os.environ.get(name)]


_sanitized = None


def cgis_are_sanitized():
    """Whether the installed CGIs are built with AddressSanitizer (--enable-asan)."""
    global _sanitized
    if _sanitized is None:
        try:
            with open(os.path.join(os.environ['PINCONF_CGIBINDIR'], 'callback.cgi'), 'rb') as f:
                _sanitized = b'__asan_init' in f.read()
        except OSError:
            _sanitized = False
    return _sanitized


_alone = []


def alone():
    """Wait for a turn alone among the tests that measure time or load the machine.

    contrib/run-tests runs its builds' suites side by side and sets
    PINCONF_ALONE_LOCK: the browser runs, the burst of callbacks and the lock
    timings then take turns (an flock held until the test exits), instead of
    meeting each other's load.  Without it, as in a plain make check, no wait.
    """
    path = os.environ.get('PINCONF_ALONE_LOCK')
    if path and not _alone:
        import fcntl
        import sys
        import time
        lock = open(path, 'a')
        began = time.monotonic()
        fcntl.flock(lock, fcntl.LOCK_EX)
        _alone.append(lock)
        # run-tests starts its runs niced (10 and more): the test whose turn
        # it is takes the ordinary priority back, where it may (root, or an
        # RLIMIT_NICE that allows it), and its servers, node and Chromium
        # with it, so that the others' load runs in the gaps it leaves.
        try:
            os.setpriority(os.PRIO_PROCESS, 0, 0)
        except OSError:
            pass
        # t/timed-driver takes this off the file's time: waiting is not running.
        print('# waited %.1f s for a turn alone' % (time.monotonic() - began), flush=True)
