#!/usr/bin/env python3
# join-page-edges.t: / leads to the join page, HEAD gets headers only, the
# PIN prompt follows pin_length, a config broken anywhere gives 500 + one line.
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
from pinconf import ice_phone, new_callid  # noqa: E402

JOIN = '/cgi-bin/join.cgi'


def main(t):
    scratch = pinconf.Scratch('join-page-edges')
    scratch.add_conference('Weekly sync', '4321')
    # The installed web client, as an admin would serve it.
    for name in os.listdir(os.environ['PINCONF_HTDOCSDIR']):
        shutil.copy(os.path.join(os.environ['PINCONF_HTDOCSDIR'], name), scratch.path('htdocs', name))
    scratch.chown(scratch.path('htdocs'))
    server = pinconf.start_server(scratch)
    host = [('Host', '127.0.0.1:%d' % server.port)]

    r = server.request('GET', '/', None, host)
    t.is_(r.status, 200, '/ (the URL serve-demo prints first) is served, not 403')
    t.ok(b'<main>' in r.body and JOIN.encode() in r.body, '/ is index.html: a main landmark and a link to the join page',
         diag='  body %r' % r.body[:200])

    get = server.request('GET', JOIN, None, host)
    head = server.request('HEAD', JOIN, None, host)
    t.is_(get.status, 200, 'GET of the join page is answered 200')
    t.is_(head.status, 200, 'HEAD of the join page is answered 200')
    t.is_(head.body, b'', 'HEAD of the join page has no body')
    t.is_(head.headers.get('content-type'), get.headers.get('content-type'), 'HEAD has the Content-Type GET has')
    t.ok(head.headers.get('content-length') in (None, str(len(get.body))),
         'HEAD has the Content-Length GET would have, or none',
         diag='  HEAD %r, GET body %d' % (head.headers.get('content-length'), len(get.body)))
    # Servers drop a HEAD body themselves: ask the CGI directly, as a server would.
    status, headers, body, lines = pinconf.run_cgi('join.cgi', scratch.config, method='HEAD')
    t.ok(status == 200 and body == b'', 'join.cgi itself writes no body for HEAD',
         diag='  status %r, body %r' % (status, body[:80]))
    t.is_(headers.get('content-length'), str(len(get.body)), 'join.cgi gives HEAD the Content-Length of GET')
    for name in ('content-security-policy', 'x-content-type-options', 'referrer-policy', 'cache-control'):
        t.is_(head.headers.get(name), get.headers.get(name), 'HEAD has the %s header GET has' % name)

    # The default prompt names the digits pin_length wants; a configured one is said as it is.
    scratch.execute("DELETE FROM conference")
    scratch.execute("UPDATE setting SET value = 6 WHERE name = 'pin_length'")
    r = server.post(ice_phone(new_callid()))
    menu = ((r.json or {}).get('action') or {}).get('menus', [{}])[0]
    t.is_(menu.get('mainPrompt'), '#tts[Enter 6 digit pin]', 'pin_length 6: the default prompt asks for 6 digits')
    t.is_(menu.get('maxDigits'), 6, 'pin_length 6: the menu collects 6 digits')
    scratch.write_config(prompt_pin='Please key in your code')
    r = server.post(ice_phone(new_callid()))
    menu = ((r.json or {}).get('action') or {}).get('menus', [{}])[0]
    t.is_(menu.get('mainPrompt'), '#tts[Please key in your code]', 'a configured prompt_pin is said as it is')

    # A config problem anywhere, even on a last line without a newline, is a 500 and one line.
    good = scratch.config_text()
    broken = {
        'a bad key as the last line without a newline': good + 'bogus key = zzz',
        'database of 600 characters as the last line without a newline':
            scratch.config_text(omit=('database',)) + 'database = ' + 'd' * 600,
        'a bad key in the middle': good.replace('\n', '\nbogus = 1\n', 1),
        'a duplicate key': good + 'moh = ring\nmoh = ring\n',
        'trusted_proxies that is no list of addresses': good + 'trusted_proxies = proxy.example\n',
    }
    for what, text in broken.items():
        scratch.write_config(text=text)
        mark = server.log_mark()
        r = server.post(ice_phone(new_callid()))
        lines = server.log_since(mark)
        t.is_(r.status, 500, 'config with %s: the callback answers 500' % what)
        t.ok(len(lines) == 1 and 'config' in lines[0] and pinconf.SECRET not in lines[0],
             'config with %s: one log line names the config, never the secret' % what, diag='  log: %r' % lines)
        r = server.request('GET', JOIN, None, host)
        t.is_(r.status, 500, 'config with %s: the join page answers 500' % what)
    scratch.write_config()


pinconf.run(main)
