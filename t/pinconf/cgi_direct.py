"""cgi_direct.py: an installed CGI run directly, as RFC 3875 says a server runs it,
for checks where a server adds nothing; the headers Sinch signs a callback with."""

import os
import re
import subprocess

from .environment import _sanitizer_environment
from .signing import CALLBACK_PATH, CONTENT_TYPE, iso_now, sign


def run_cgi(program, config, method='GET', query='', body=None, headers=None, environment=None,
            path=None, timeout=30):
    """Run an installed CGI as RFC 3875 says a server does, without a server.

    headers: {'X-Timestamp': ...} become HTTP_X_TIMESTAMP and so on;
    environment: more variables (LD_PRELOAD, PINCONF_FAULT, ...).
    Returns (status, {header: value}, body, stderr lines).
    """
    path = path or '/cgi-bin/' + program
    env = {
        'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
        'GATEWAY_INTERFACE': 'CGI/1.1', 'SERVER_PROTOCOL': 'HTTP/1.1', 'SERVER_NAME': '127.0.0.1',
        'SERVER_PORT': '80', 'REQUEST_METHOD': method, 'QUERY_STRING': query,
        'SCRIPT_NAME': path, 'REQUEST_URI': path + ('?' + query if query else ''),
        'REMOTE_ADDR': '127.0.0.1', 'PINCONF_CONFIG': config,
    }
    env.update(_sanitizer_environment())
    for name, value in (headers or {}).items():
        if name.lower() == 'content-type':
            env['CONTENT_TYPE'] = value
        else:
            env['HTTP_' + name.upper().replace('-', '_')] = value
    if body is not None:
        env['CONTENT_LENGTH'] = str(len(body))
    env.update(environment or {})
    done = subprocess.run([os.path.join(os.environ['PINCONF_CGIBINDIR'], program)], env=env,
                          input=body or b'', stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout)
    head, _, data = done.stdout.partition(b'\r\n\r\n')
    response_headers = {}
    for line in head.decode('latin-1').split('\r\n'):
        name, _, value = line.partition(':')
        response_headers[name.strip().lower()] = value.strip()
    match = re.match(r'(\d{3})\b', response_headers.get('status', ''))
    return (int(match.group(1)) if match else None, response_headers, data,
            done.stderr.decode('utf-8', errors='replace').splitlines())


def signed_callback_headers(body, path=CALLBACK_PATH, timestamp=None):
    """The headers Sinch sends with body, for run_cgi()."""
    timestamp = timestamp or iso_now()
    return {'Content-Type': CONTENT_TYPE, 'X-Timestamp': timestamp,
            'Authorization': sign('POST', path, body, CONTENT_TYPE, timestamp)}
