"""servers.py: the web server kinds the harness can drive (lighttpd, Apache),
start_server(), which starts the one a run asks for, and why a run cannot happen here."""

import os

from .apache import ApacheServer
from .environment import MODES, server_kind, server_mode
from .lighttpd import LighttpdServer
from .webserver import Server


_SERVER_KINDS = {'lighttpd': LighttpdServer, 'apache': ApacheServer}


def start_server(scratch, kind=None, config=None, extra_conf='', host='127.0.0.1'):
    """Start a web server of kind serving the installed CGIs for scratch.

    kind: 'lighttpd', 'apache' or a Server subclass; default $PINCONF_SERVER
    (lighttpd when that is unset).
    config: the pinconf.conf the CGIs read (default scratch.config).
    extra_conf: server configuration text appended after the shipped snippet;
    a dict {kind: text} gives each kind its own.
    host: the loopback address to listen on, '127.0.0.1' or '::1'.
    The server is stopped at exit, whatever happens.
    """
    if kind is None:
        kind = server_kind()
    if isinstance(kind, type) and issubclass(kind, Server):
        cls = kind
    elif kind in _SERVER_KINDS:
        cls = _SERVER_KINDS[kind]
    else:
        raise ValueError('no web server kind %r (known: %s)' % (kind, ', '.join(_SERVER_KINDS)))
    if isinstance(extra_conf, dict):
        extra_conf = extra_conf.get(cls.kind, '')
    why = cls.missing()
    if why:
        raise RuntimeError('cannot start %s: %s' % (cls.kind, why))
    for attempt in range(3):
        try:
            return cls(scratch, config=config, extra_conf=extra_conf, host=host).start()
        except RuntimeError as e:
            # free_port() closed its socket before the server bound it: in a
            # parallel make check someone else may have taken it meanwhile.
            if 'Address already in use' not in str(e) or attempt == 2:
                raise


def missing_prerequisite(kinds=None):
    """Why the end-to-end tests cannot run here (for a SKIP), or None.

    kinds: the web servers the test needs (default: the one PINCONF_SERVER picks).
    """
    missing = [name for name in ('PINCONF_CGIBINDIR', 'PINCONF_PKGDATADIR', 'SQLITE3')
               if not os.environ.get(name)]
    if missing:
        return '%s not set: run through make check' % ', '.join(missing)
    if server_mode() not in MODES:
        return 'PINCONF_MODE=%s is no mode this harness knows (%s)' % (server_mode(), ', '.join(MODES))
    for kind in kinds or (server_kind(),):
        if kind not in _SERVER_KINDS:
            return 'PINCONF_SERVER=%s is no web server kind this harness knows (%s)' % (
                kind, ', '.join(sorted(_SERVER_KINDS)))
        why = _SERVER_KINDS[kind].missing()
        if why:
            return why
    return None
