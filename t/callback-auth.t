#!/usr/bin/env python3
# callback-auth.t: only Sinch's signed callbacks get through; refusals leak nothing.
import base64
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
from pinconf import ice_phone, new_callid, iso_now, KEY, SECRET, CALLBACK_PATH, CONTENT_TYPE  # noqa: E402

WRONG_SECRET = base64.b64encode(b'not the right secret!').decode()


def secret_forms():
    """Every way the secret could show up in text."""
    raw = base64.b64decode(SECRET)
    return [SECRET, raw.hex(), raw.hex().upper(),
            base64.b64encode(('%s:%s' % (KEY, SECRET)).encode()).decode()]


def main(t):
    # The signer itself, against Sinch's documented vectors.
    for what, got, want in pinconf.signer_self_check():
        t.is_(got, want, 'the test signer reproduces the %s' % what)

    scratch = pinconf.Scratch('callback-auth')
    scratch.add_conference('Weekly sync', '4321')
    server = pinconf.start_server(scratch)
    bodies = []

    def accepted(what, **post):
        call = new_callid()
        r = server.post(ice_phone(call), **post)
        bodies.append(r.body)
        t.is_(r.status, 200, '%s is accepted' % what)
        t.is_(pinconf.action_name(r.json), 'runMenu', '%s: answered with the PIN menu' % what)
        t.ok(scratch.call(call), '%s: the call is recorded' % what)
        return r

    def refused(what, event=None, **post):
        event = event or ice_phone(new_callid())
        before = scratch.counts()
        mark = server.log_mark()
        r = server.post(event, **post)
        bodies.append(r.body)
        lines = pinconf.check_refusal(t, server, scratch, r, mark, before, what, 401)
        t.ok(lines and '401' in lines[0], '%s: the log line says 401' % what, diag='  log: %r' % lines)
        return lines

    accepted('a request signed as Sinch signs')
    accepted('the lowercase "application" scheme', scheme='application')
    accepted('the uppercase "APPLICATION" scheme', scheme='APPLICATION')
    accepted('an X-Timestamp without milliseconds', timestamp=iso_now()[:19] + 'Z')
    accepted('an X-Timestamp 9 minutes old (inside the default 600 s window)', timestamp=iso_now(-540))
    accepted('a signed Content-Type without charset', content_type='application/json')

    refused('a request without Authorization', sign=False)
    refused('a request with X-Timestamp but no Authorization', headers={'Authorization': None})
    refused('a signed request without X-Timestamp', headers={'X-Timestamp': None})
    refused('an X-Timestamp that is not ISO 8601', headers={'X-Timestamp': 'yesterday'})
    refused('a wrong signature', secret=WRONG_SECRET)
    event, stamp = ice_phone(new_callid()), iso_now()
    good = pinconf.sign('POST', CALLBACK_PATH, pinconf.encode(event), CONTENT_TYPE, stamp)
    refused('a signature one character short', event, timestamp=stamp, headers={'Authorization': good[:-1]})
    refused('a signature with one character changed', event, timestamp=stamp,
            headers={'Authorization': good[:-2] + ('A' if good[-2] != 'A' else 'B') + good[-1]})
    refused('a valid signature with a character appended', event, timestamp=stamp,
            headers={'Authorization': good + 'A'})
    refused('another application key', key='11111111-2222-3333-4444-555555555555')
    refused('our key with a prefix', key='x' + KEY)
    refused('an X-Timestamp 11 minutes old', timestamp=iso_now(-660))
    refused('an X-Timestamp 11 minutes in the future', timestamp=iso_now(660))
    refused('a signature over another path', sign_path='/cgi-bin/other.cgi')
    refused('a signature over the path with a query string', sign_path=CALLBACK_PATH + '?x=1')
    refused('a Content-Type changed after signing', sign_content_type='application/json')
    refused('a body changed after signing', sign_body=b'{"event":"ace","callid":"x"}')
    refused('a signature made for GET', sign_method='GET')
    # Basic covers neither body nor timestamp: refused unless accept_basic_auth = yes.
    lines = refused('Basic base64(key:secret) by default', sign=False,
                    headers={'Authorization': pinconf.basic()})
    t.ok(lines and 'accept_basic_auth' in lines[0],
         'a refused Basic names accept_basic_auth in the log', diag='  log: %r' % lines)
    refused('lowercase basic by default', sign=False,
            headers={'Authorization': 'basic ' + pinconf.basic()[6:]})
    scratch.write_config(accept_basic_auth='no')
    refused('Basic base64(key:secret) with accept_basic_auth = no', sign=False,
            headers={'Authorization': pinconf.basic()})
    scratch.write_config(accept_basic_auth='yes')
    accepted('accept_basic_auth = yes: Basic base64(key:secret)', sign=False,
             headers={'Authorization': pinconf.basic()})
    refused('accept_basic_auth = yes: Basic with a wrong secret', sign=False,
            headers={'Authorization': pinconf.basic(secret=WRONG_SECRET)})
    refused('accept_basic_auth = yes: Basic with another key', sign=False,
            headers={'Authorization': pinconf.basic(key='11111111-2222-3333-4444-555555555555')})
    refused('accept_basic_auth = yes: Basic that is not base64', sign=False,
            headers={'Authorization': 'Basic !!!'})
    accepted('accept_basic_auth = yes: signed requests still pass')
    scratch.write_config()
    refused('the Bearer scheme', sign=False, headers={'Authorization': 'Bearer ' + SECRET})
    refused('an Authorization without key:signature', headers={'Authorization': 'Application ' + KEY})

    # A window of 60 s refuses a timestamp 2 minutes old.
    scratch.write_config(timestamp_window=60)
    refused('timestamp_window = 60: an X-Timestamp 2 minutes old', timestamp=iso_now(-120))
    accepted('timestamp_window = 60: a fresh X-Timestamp')
    scratch.write_config()

    # verify_signatures = no: unsigned requests pass, each with a WARNING.
    scratch.write_config(verify_signatures='no')
    for n in (1, 2):
        mark = server.log_mark()
        accepted('verify_signatures = no: unsigned request %d' % n, sign=False)
        lines = server.log_since(mark)
        t.ok(len(lines) == 1 and 'WARNING' in lines[0],
             'verify_signatures = no: unsigned request %d logs one WARNING line' % n, diag='  log: %r' % lines)
    scratch.write_config()
    refused('an unsigned request once verify_signatures is back on', sign=False)

    # Nothing anywhere shows the secret.
    log = '\n'.join(server.log_all())
    texts = [b.decode('utf-8', errors='replace') for b in bodies]
    for form in secret_forms():
        t.ok(form not in log, 'the CGI log never contains the secret (as %s...)' % form[:6])
        t.ok(all(form not in text for text in texts),
             'no response body contains the secret (as %s...)' % form[:6])
    t.ok(len(server.log_all()) > 20, 'the secret check looked at a log with the refusals in it',
         diag='  log lines: %d' % len(server.log_all()))


pinconf.run(main)
