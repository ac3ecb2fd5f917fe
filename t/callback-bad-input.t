#!/usr/bin/env python3
# callback-bad-input.t: malformed requests are refused, cheaply, without a trace in the db;
# a live call we cannot use hears the apology instead.
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
from pinconf import ice_phone, ice_browser, pie, dice, new_callid  # noqa: E402


def main(t):
    scratch = pinconf.Scratch('callback-bad-input')
    scratch.add_conference('Weekly sync', '4321')
    server = pinconf.start_server(scratch)

    def refused(what, event, statuses=400, todo=None, **post):
        before = scratch.counts()
        mark = server.log_mark()
        r = server.post(event, **post)
        t.isnt(r.status, 200, '%s is never answered 200' % what, todo=todo)
        lines = pinconf.check_refusal(t, server, scratch, r, mark, before, what, statuses, todo=todo)
        return r, lines

    # The HTTP envelope.
    r, lines = refused('GET', b'', 405, method='GET', content_type=None, sign=False)
    t.is_(r.headers.get('allow'), 'POST', 'GET: the 405 says Allow: POST')
    r, lines = refused('PUT', ice_phone(new_callid()), 405, method='PUT')
    t.is_(r.headers.get('allow'), 'POST', 'PUT: the 405 says Allow: POST')
    refused('DELETE', b'', 405, method='DELETE', content_type=None, sign=False)
    refused('Content-Type text/plain', ice_phone(new_callid()), 415, content_type='text/plain')
    refused('Content-Type application/jsonp', ice_phone(new_callid()), 415, content_type='application/jsonp')
    refused('no Content-Type', ice_phone(new_callid()), 415, content_type=None)
    refused('an empty body (Content-Length 0)', b'', (400, 411))

    big = pinconf.encode(ice_phone(new_callid()))
    big = big + b' ' * (64 * 1024 + 1 - len(big))
    r, lines = refused('a signed body of 64 KiB + 1 byte', big, 413)
    t.ok(lines and '413' in lines[0], 'a body over 64 KiB: the log line says 413', diag='  log: %r' % lines)
    huge = pinconf.encode(ice_phone(new_callid()))
    huge = huge + b' ' * (1024 * 1024 - len(huge))
    refused('a signed body of 1 MiB', huge, 413)

    # Exactly 64 KiB is still fine (trailing whitespace after the object is allowed).
    call = new_callid()
    edge = pinconf.encode(ice_phone(call))
    edge = edge + b' ' * (64 * 1024 - len(edge))
    r = server.post(edge)
    t.is_(r.status, 200, 'a signed body of exactly 64 KiB is accepted')
    t.is_(pinconf.action_name(r.json), 'runMenu', 'a signed body of exactly 64 KiB gets the PIN menu')

    # The JSON (all signed, so that the parser is what refuses them).
    refused('a body that is not JSON', b'this is not json')
    refused('truncated JSON', pinconf.encode(ice_phone(new_callid()))[:-1])
    refused('a JSON array', b'[{"event":"ice"}]')
    refused('a JSON string', b'"ice"')
    refused('JSON null', b'null')
    refused('trailing bytes after the JSON object', pinconf.encode(ice_phone(new_callid())) + b'x')
    refused('two JSON objects', pinconf.encode(ice_phone(new_callid())) * 2)

    def apologised(what, event, **post):
        """A live call (ICE, PIE) with a field we cannot use: apology and hangup, logged as bad input."""
        before = scratch.counts()
        mark = server.log_mark()
        r = server.post(event, **post)
        t.is_(r.status, 200, '%s: the live call is answered 200' % what)
        t.ok(pinconf.says(r.json) == [pinconf.APOLOGY], '%s: the caller hears the apology' % what,
             diag='  got %r' % r.body[:300])
        t.is_(pinconf.action_name(r.json), 'hangup', '%s: and is hung up' % what)
        t.is_(scratch.counts(), before, '%s: nothing is written to the database' % what)
        lines = server.log_since(mark)
        t.ok(len(lines) == 1 and 'bad input' in lines[0],
             '%s: exactly one log line, naming bad input' % what, diag='  log: %r' % lines)
        return r, lines

    def without(event, *names):
        for name in names:
            del event[name]
        return event

    refused('a missing event', without(ice_phone(new_callid()), 'event'))
    refused('an unknown event', dict(ice_phone(new_callid()), event='icey'))
    refused('an event name in uppercase', dict(ice_phone(new_callid()), event='ICE'))
    refused('an event that is a number', dict(ice_phone(new_callid()), event=1))
    apologised('a callid that is a number', dict(ice_phone(new_callid()), callid=12345))
    apologised('a missing callid', without(ice_phone(new_callid()), 'callid'))
    apologised('an empty callid', dict(ice_phone(new_callid()), callid=''))
    apologised('a callid with a slash and dots', dict(ice_phone(new_callid()), callid='../../etc/passwd'))
    apologised('a callid with a space', dict(ice_phone(new_callid()), callid='a b'))
    apologised('a callid of 129 characters', dict(ice_phone(new_callid()), callid='a' * 129))
    apologised('an ICE without originationType', without(ice_phone(new_callid()), 'originationType'))
    apologised('an ICE whose originationType is a number', dict(ice_phone(new_callid()), originationType=1))
    apologised('a cli with a control character', ice_phone(new_callid(), cli='4670\u00010000'))
    apologised('a cli with a newline', ice_phone(new_callid(), cli='4670\nforged log line'))
    apologised('a cli with DEL', ice_phone(new_callid(), cli='4670\u007f'))
    apologised('a cli that is a number', ice_phone(new_callid(), cli=46700000000))
    apologised('a cli of 129 characters', ice_phone(new_callid(), cli='4' * 129))
    apologised('a cli with invalid UTF-8',
               pinconf.encode(ice_phone('c-bad-utf8', cli='XX')).replace(b'"XX"', b'"\xff\xfe"'))
    apologised('a user with a control character', ice_browser(new_callid(), '4321', user='Ann\u0007'))
    apologised('a browser ICE whose to is a string', dict(ice_browser(new_callid(), '4321'), to='4321'))
    apologised('a browser ICE whose endpoint is a number',
               dict(ice_browser(new_callid(), '4321'), to={'type': 'conference', 'endpoint': 4321}))
    apologised('a PIE without menuResult', without(pie(new_callid(), '4321'), 'menuResult'))
    apologised('a PIE whose menuResult is a string', dict(pie(new_callid(), '4321'), menuResult='4321'))
    apologised('a PIE without menuResult.type', pie(new_callid(), '4321', type=None))
    apologised('a PIE whose menuResult.value is a number',
               dict(pie(new_callid()), menuResult={'menuId': 'main', 'type': 'sequence', 'value': 4321}))
    apologised('a phone ICE whose to is an array', dict(ice_phone(new_callid()), to=['did', '+4612345']))
    apologised('an ICE whose callid is a float', dict(ice_phone(new_callid()), callid=1.5))
    apologised('an ICE whose cli is an object', ice_phone(new_callid(), cli={'number': '46700000000'}))
    apologised('a PIE whose menuResult is an array', dict(pie(new_callid(), '4321'), menuResult=['4321']))
    apologised('a PIE whose menuResult.type is true',
               dict(pie(new_callid()), menuResult={'menuId': 'main', 'type': True, 'value': '4321'}))
    # Only live calls are apologised to; the rest of the refusals stay 400.
    refused('an ACE whose callid is a number', dict(pinconf.ace(new_callid()), callid=7))
    refused('a DiCE whose callid is an array', dict(dice(new_callid()), callid=['x']))
    refused('an ICE that is a JSON array', b'[{"event":"ice","callid":"c1"}]')
    refused('an unsigned ICE with a bad field', dict(ice_phone(new_callid()), to=[1]), 401, sign=False)
    refused('a DiCE with a negative duration', dice(new_callid(), duration=-1))
    refused('a DiCE whose duration is a string', dice(new_callid(), duration='42'))
    refused('a DiCE whose reason is a number', dice(new_callid(), reason=7))

    # A refused callid or cli is not echoed into the log raw (no forged lines).
    log = server.log_all()
    t.ok(not any(line.startswith('forged log line') for line in log),
         'a newline in the input never starts a new log line')
    t.ok(all(line.startswith('callback.cgi: ') for line in log),
         'every log line starts with the program name', diag='\n'.join(log[:5]))

    # The db is exactly as the valid requests left it: one call.
    t.is_(scratch.query('SELECT callid FROM call'), [{'callid': call}],
          'after all the refusals the only call row is the valid 64 KiB ICE')

    # UTF-8: valid multibyte text is fine, invalid sequences are refused.
    def cli_bytes(raw, callid):
        return pinconf.encode(ice_phone(callid, cli='XX')).replace(b'"XX"', b'"46' + raw + b'"')

    for raw, what in ((b'\xc3\xa9', 'a two-byte character'), (b'\xe2\x82\xac', 'a three-byte character'),
                      (b'\xf0\x9f\x93\x9e', 'a four-byte character')):
        callid = new_callid()
        r = server.post(cli_bytes(raw, callid))
        t.is_(pinconf.action_name(r.json), 'runMenu', 'a cli with %s (valid UTF-8) is accepted' % what)
        t.is_(((scratch.call(callid) or {}).get('caller') or '').encode(), b'46' + raw,
              'a cli with %s is stored byte for byte' % what)
    apologised('a cli with a truncated UTF-8 sequence', cli_bytes(b'\xc3', new_callid()))
    apologised('a cli with a lone continuation byte', cli_bytes(b'\x80', new_callid()))
    apologised('a cli with the invalid byte C0', cli_bytes(b'\xc0\xaf', new_callid()))
    apologised('a cli with an overlong three-byte "/" (E0 80 AF)', cli_bytes(b'\xe0\x80\xaf', new_callid()))
    apologised('a cli with a UTF-16 surrogate (ED A0 80)', cli_bytes(b'\xed\xa0\x80', new_callid()))
    apologised('a cli above U+10FFFF (F4 90 80 80)', cli_bytes(b'\xf4\x90\x80\x80', new_callid()))

    # The shipped snippet (lighttpd's url.access-deny, Apache's FilesMatch)
    # never serves a database, its journals or a config that lands in the
    # document root.
    snippet = {'lighttpd': 'lighttpd-pinconf.conf', 'apache': 'apache-pinconf.conf'}.get(server.kind, server.kind)
    htdocs = scratch.path('htdocs')
    for name in ('pinconf.db', 'pinconf.db-wal', 'pinconf.db-shm', 'pinconf.conf', 'pinconf.conf~'):
        with open(os.path.join(htdocs, name), 'w') as out:
            out.write('secret stuff ' + pinconf.SECRET)
    with open(os.path.join(htdocs, 'index.html'), 'w') as out:
        out.write('<p>pinconf</p>')
    scratch.chown(htdocs)
    r = server.request('GET', '/index.html', None, [('Host', 'localhost')])
    t.is_(r.status, 200, 'the document root is served (so the denials below mean something)')
    for name in ('pinconf.db', 'pinconf.db-wal', 'pinconf.db-shm', 'pinconf.conf', 'pinconf.conf~'):
        r = server.request('GET', '/' + name, None, [('Host', 'localhost')])
        t.ok(r.status == 403 and pinconf.SECRET.encode() not in r.body,
             'the shipped %s refuses to serve %s from the document root' % (snippet, name),
             diag='  got %r %r' % (r.status, r.body[:80]))


pinconf.run(main)
