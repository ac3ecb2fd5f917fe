#!/usr/bin/env python3
# join-page.t: GET /cgi-bin/join.cgi, the join page, read as plain HTTP and
# parsed with html.parser (no browser): markup contract, escaping, headers, faults.
import base64
import html.parser
import http.client
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
from pinconf import KEY, SECRET  # noqa: E402

PATH = '/cgi-bin/join.cgi'
DEFAULT_SDK = 'https://cdn.sinch.com/latest/sinch-rtc-min.js'
DEFAULT_ENVIRONMENT = 'https://ocra.api.sinch.com'
VOID = frozenset(('area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta',
                  'source', 'track', 'wbr'))


# ---------------------------------------------------------------- a small HTML tree

class Node:
    def __init__(self, tag, attrs, parent):
        self.tag = tag
        self.attrs = attrs
        self.parent = parent
        self.children = []

    def text(self):
        return ''.join(child if isinstance(child, str) else child.text() for child in self.children)

    def walk(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.walk()


class Tree(html.parser.HTMLParser):
    """Parses a page into Nodes and lists every way it is not well formed."""

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.root = Node('#document', {}, None)
        self.stack = [self.root]
        self.errors = []
        self.doctype = None
        self.feed(page)
        self.close()
        if len(self.stack) > 1:
            self.errors.append('unclosed at the end: %s' % ' > '.join(n.tag for n in self.stack[1:]))
        self.nodes = list(self.root.walk())

    def _open(self, tag, attrs):
        names = [name for name, value in attrs]
        if len(names) != len(set(names)):
            self.errors.append('<%s> has a duplicate attribute: %r' % (tag, names))
        node = Node(tag, dict(attrs), self.stack[-1])
        self.stack[-1].children.append(node)
        return node

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        node = self._open(tag, attrs)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        if tag not in VOID:
            self.errors.append('<%s/> closes a non-void element' % tag)
        self._open(tag, attrs)

    def handle_endtag(self, tag):
        if tag in VOID:
            self.errors.append('</%s> ends a void element' % tag)
        elif len(self.stack) < 2 or self.stack[-1].tag != tag:
            self.errors.append('</%s> where </%s> was due' % (tag, self.stack[-1].tag))
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.stack[-1].children.append(data)

    # Lookups.

    def all(self, tag):
        return [n for n in self.nodes if n.tag == tag]

    def ids(self, id_):
        return [n for n in self.nodes if n.attrs.get('id') == id_]

    def id(self, id_):
        found = self.ids(id_)
        return found[0] if len(found) == 1 else None


def parse(body):
    return Tree(body.decode('utf-8', errors='replace'))


def csp_directives(value):
    """{directive: [sources]} of a Content-Security-Policy value."""
    directives = {}
    for part in (value or '').split(';'):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def main(t):
    scratch = pinconf.Scratch('join-page')
    server = pinconf.start_server(scratch)
    secret_bytes = base64.b64decode(SECRET)

    def request(method='GET', query=None, body=None):
        headers = [('Host', '127.0.0.1:%d' % server.port)]
        if method in ('POST', 'PUT'):
            body = body or b''
            headers += [('Content-Type', 'application/x-www-form-urlencoded'),
                        ('Content-Length', str(len(body)))]
        mark = server.log_mark()
        r = server.request(method, PATH + ('' if query is None else '?' + query), body, headers)
        return r, server.log_since(mark)

    def page(query=None):
        r, lines = request(query=query)
        return r, parse(r.body), lines

    # ------------------------------------------------------------ the page and its headers
    before = scratch.counts()
    r, tree, lines = page()
    plain = r.body
    t.is_(r.status, 200, 'GET join.cgi gets 200')
    t.is_(r.headers.get('content-type'), 'text/html; charset=utf-8', 'the page is text/html; charset=utf-8')
    t.is_(len(lines), 0, 'the page is served without a log line')
    csp_header = r.headers.get('content-security-policy', '')
    csp = csp_directives(csp_header)
    t.is_(csp.get('default-src'), ["'none'"], "the CSP has default-src 'none'")
    t.is_(sorted(csp.get('script-src') or []), sorted(["'self'", 'https://cdn.sinch.com']),
          "with the default sinch_js_url the CSP has script-src 'self' https://cdn.sinch.com")
    t.is_(sorted(csp.get('connect-src') or []), sorted(["'self'", DEFAULT_ENVIRONMENT, 'https:', 'wss:']),
          "connect-src is 'self', the environment host, https: and wss: (the SDK's run-time messaging host)")
    t.unlike(csp_header, r"'unsafe-(inline|eval|hashes)'", "the CSP allows no 'unsafe-inline' or 'unsafe-eval' anywhere")
    t.ok(csp_header and not any(source.startswith("'nonce-") or source.startswith("'sha")
                                for sources in csp.values() for source in sources),
         'the CSP needs no nonces or hashes: the page has no inline code', diag='  CSP: %r' % csp_header)
    t.is_(r.headers.get('x-content-type-options'), 'nosniff', 'the page is sent with X-Content-Type-Options: nosniff')
    t.is_(r.headers.get('referrer-policy'), 'same-origin', 'the page is sent with Referrer-Policy: same-origin')

    # ------------------------------------------------------------ its markup
    t.is_(tree.errors, [], 'the page is well formed: every non-void element closed, in order')
    t.ok(tree.doctype is not None and tree.doctype.lower() == 'doctype html', 'the page starts with <!DOCTYPE html>',
         diag='  doctype: %r' % tree.doctype)
    ids = [n.attrs['id'] for n in tree.nodes if 'id' in n.attrs]
    t.is_(sorted(i for i in set(ids) if ids.count(i) > 1), [], 'no id is used twice on the page')
    html_elements = tree.all('html')
    t.ok(len(html_elements) == 1 and html_elements[0].attrs.get('lang') == 'en', 'the page is <html lang="en">')
    t.ok(any(m.attrs.get('charset', '').lower() == 'utf-8' for m in tree.all('meta')),
         'the page has <meta charset="utf-8">')
    t.ok(any(m.attrs.get('name') == 'viewport' and m.attrs.get('content') for m in tree.all('meta')),
         'the page has a <meta name="viewport">')
    mains = tree.all('main')
    t.ok(len(mains) == 1 and mains[0].attrs.get('id') == 'pinconf', 'the page has exactly one <main id="pinconf">',
         diag='  mains: %r' % [m.attrs for m in mains])
    main_ = mains[0] if mains else Node('main', {}, None)
    for label_text, input_id in (('Your name', 'name'), ('Conference PIN', 'pin')):
        labels = [n for n in tree.all('label') if n.text().strip() == label_text]
        target = tree.id(input_id)
        t.ok(len(labels) == 1 and labels[0].attrs.get('for') == input_id and target is not None and target.tag == 'input',
             'the label "%s" is for the input #%s' % (label_text, input_id),
             diag='  labels: %r, target: %r' % ([n.attrs for n in labels], target and target.tag))
    name = tree.id('name') or Node('missing', {}, None)
    # maxlength counts UTF-16 units, the name rule characters: pinconf.js checks it.
    t.ok(name.tag == 'input' and 'required' in name.attrs and 'maxlength' not in name.attrs,
         '#name is a required input without maxlength', diag='  attrs: %r' % name.attrs)
    t.is_(name.attrs.get('name'), 'name', '#name is submitted as name, the field getticket reads')
    form = tree.id('join-form') or Node('missing', {}, None)
    t.is_(form.attrs.get('method'), 'post', 'the form posts: name and PIN stay out of URLs and access logs')
    pin = tree.id('pin') or Node('missing', {}, None)
    t.ok(pin.tag == 'input' and 'required' in pin.attrs and pin.attrs.get('inputmode') == 'numeric' and
         pin.attrs.get('pattern') == '[0-9]{4,8}',
         '#pin is a required input with inputmode numeric and pattern [0-9]{4,8}', diag='  attrs: %r' % pin.attrs)
    t.ok('value' not in pin.attrs, 'without ?pin= the #pin input has no value attribute', diag='  attrs: %r' % pin.attrs)
    submits = [n for n in tree.all('button') if n.attrs.get('type') == 'submit']
    t.ok(len(submits) == 1 and submits[0].text().strip() == 'Join conference' and
         any(a.tag == 'form' for a in ancestors(submits[0])),
         'the form has one submit button "Join conference"', diag='  submits: %r' % [(n.attrs, n.text()) for n in submits])
    in_call = tree.id('in-call') or Node('missing', {}, None)
    t.ok('hidden' in in_call.attrs, '#in-call has the hidden attribute', diag='  attrs: %r' % in_call.attrs)
    mute = tree.id('mute') or Node('missing', {}, None)
    t.ok(mute.tag == 'button' and mute.attrs.get('aria-pressed') == 'false' and mute.text().strip() == 'Mute',
         '#mute is a button with aria-pressed="false" and the text Mute', diag='  %r %r' % (mute.attrs, mute.text()))
    hangup = tree.id('hangup') or Node('missing', {}, None)
    t.ok(hangup.tag == 'button' and hangup.text().strip() == 'Hang up', '#hangup is a button "Hang up"')
    status = tree.id('status') or Node('missing', {}, None)
    t.is_(status.attrs.get('aria-live'), 'polite', '#status has aria-live="polite"')
    noscripts = tree.all('noscript')
    t.ok(len(noscripts) == 1 and 'JavaScript' in noscripts[0].text(), 'a <noscript> notice says the page needs JavaScript',
         diag='  noscript: %r' % [n.text() for n in noscripts])
    scripts = tree.all('script')
    t.ok(len(scripts) == 1 and scripts[0].attrs.get('src') == '/pinconf.js' and 'defer' in scripts[0].attrs,
         'the one script is <script src="/pinconf.js" defer>', diag='  scripts: %r' % [s.attrs for s in scripts])
    t.ok(all(s.text() == '' for s in scripts), 'no <script> has inline content')
    t.is_([n.tag for n in tree.nodes if 'style' in n.attrs] + [n.tag for n in tree.all('style')], [],
          'no element has a style= attribute and there is no <style> element')
    t.is_(['%s %s' % (n.tag, a) for n in tree.nodes for a in n.attrs if a.lower().startswith('on')], [],
          'no element has an on*= event handler attribute')
    t.is_(main_.attrs.get('data-application-key'), KEY, "data-application-key is the config's application_key")
    t.is_(main_.attrs.get('data-sdk-url'), DEFAULT_SDK, 'data-sdk-url is sinch_js_url (the default)')
    t.is_(main_.attrs.get('data-ticket-url'), '/cgi-bin/getticket.cgi', 'data-ticket-url is /cgi-bin/getticket.cgi')
    t.is_(main_.attrs.get('data-environment'), DEFAULT_ENVIRONMENT, 'data-environment is sinch_environment (the default)')
    t.is_(main_.attrs.get('data-roster-url'), '/cgi-bin/roster.cgi', 'data-roster-url is /cgi-bin/roster.cgi')
    roster = tree.id('roster-list') or Node('missing', {}, None)
    t.is_(roster.attrs.get('aria-live'), 'polite', '#roster-list has aria-live="polite"')
    t.is_(leaked(plain, secret_bytes), '', 'the secret, its decoded bytes and their hex are nowhere in the page')
    t.is_(scratch.counts(), before, 'serving the page writes nothing to the database')

    # Without dial-in numbers.
    t.is_((tree.ids('dial-in-link'), tree.all('dialog')), ([], []),
          'with no dial_in rows there is no #dial-in-link and no <dialog>')
    t.unlike(' '.join(n.text() for n in noscripts), r'(?i)dial|phone|number',
             'with no dial_in rows the noscript notice promises no dial-in numbers')

    # ------------------------------------------------------------ ?pin= and other parameters
    r, tree, lines = page('pin=4321')
    pin = tree.id('pin') or Node('missing', {}, None)
    t.ok(r.status == 200 and pin.attrs.get('value') == '4321' and 'value="4321"' in r.body.decode(),
         '?pin=4321 fills the #pin input: value="4321"', diag='  attrs: %r' % pin.attrs)
    t.is_(tree.errors, [], 'the page with ?pin=4321 is well formed')
    for value, what in (('12345678', '8 digits, the longest'), ('1234', '4 digits, the shortest the form takes')):
        r, tree, lines = page('pin=' + value)
        t.is_((tree.id('pin') or Node('missing', {}, None)).attrs.get('value'), value,
              '?pin=%s (%s) fills the #pin input' % (value, what))
    for query, raw, what in (('pin=%3Cscript%3E', '<script>', '?pin=%3Cscript%3E'),
                             ('pin=123456789', '123456789', '?pin=123456789 (9 digits)'),
                             ('pin=12a4', '12a4', '?pin=12a4'),
                             ('pin=123', None, '?pin=123 (3 digits, fewer than the form takes)'),
                             ('pin=7', None, '?pin=7 (1 digit)'),
                             ('pin=', None, '?pin= (empty)')):
        r, tree, lines = page(query)
        pin = tree.id('pin') or Node('missing', {}, None)
        t.ok(r.status == 200 and 'value' not in pin.attrs, '%s leaves #pin without a value attribute' % what,
             diag='  status %r, attrs %r' % (r.status, pin.attrs))
        t.is_(r.body, plain, '%s is not echoed anywhere: the page is the plain page, byte for byte' % what)
        if raw is not None:
            text = r.body.decode('utf-8', errors='replace')
            forms = (raw, query.split('=', 1)[1], raw.replace('<', '&lt;').replace('>', '&gt;'))
            t.ok(not any(form in text for form in forms),
                 '%s: neither the raw text nor an escaped form of it is in the page' % what,
                 diag='  found: %r' % [form for form in forms if form in text])
    r, tree, lines = page('name=%3Cb%3E&x=1')
    text = r.body.decode('utf-8', errors='replace')
    t.ok(r.status == 200 and not tree.all('b') and '&lt;b&gt;' not in text and '%3Cb%3E' not in text and 'x=1' not in text,
         '?name=%3Cb%3E&x=1: other parameters are echoed nowhere')
    t.is_(r.body, plain, '?name=%3Cb%3E&x=1 serves the plain page, byte for byte')

    # ------------------------------------------------------------ dial-in numbers
    label = 'Test <b>&"\''
    scratch.execute('INSERT INTO dial_in(label, number) VALUES (?, ?)', (label, '+14155550100'))
    scratch.execute('INSERT INTO dial_in(label, number) VALUES (?, ?)', ('Sweden', '+46850551234'))
    r, tree, lines = page()
    text = r.body.decode('utf-8', errors='replace')
    t.is_(r.status, 200, 'with dial_in rows the page gets 200')
    t.is_(tree.errors, [], 'with dial_in rows the page is well formed')
    link = tree.id('dial-in-link') or Node('missing', {}, None)
    dialogs = tree.all('dialog')
    t.ok(link.tag == 'a' and len(dialogs) == 1 and link.attrs.get('href') == '#' + dialogs[0].attrs.get('id', '?'),
         'with dial_in rows there is a #dial-in-link pointing at the one <dialog>',
         diag='  link %r, dialogs %r' % (link.attrs, [d.attrs for d in dialogs]))
    dialog = dialogs[0] if dialogs else Node('missing', {}, None)
    dialog_text = dialog.text()
    t.ok('Sweden' in dialog_text and '+46850551234' in dialog_text and label in dialog_text and '+14155550100' in dialog_text,
         'the dialog lists both dial-in numbers with their labels', diag='  dialog: %r' % dialog_text)
    t.ok('Test &lt;b&gt;&amp;&quot;&#39;' in text, 'the label is escaped: Test &lt;b&gt;&amp;&quot;&#39;')
    t.is_(tree.all('b'), [], 'no <b> element comes out of the label')
    tel = [a.attrs.get('href') for a in dialog.walk() if a.tag == 'a' and (a.attrs.get('href') or '').startswith('tel:')]
    t.is_(tel, ['tel:+46850551234', 'tel:+14155550100'], 'the numbers are tel: links in label order (Sweden, then Test)')
    t.like(' '.join(n.text() for n in tree.all('noscript')), r'(?i)dial', 'with dial_in rows the noscript notice points to dialling in')
    scratch.execute('DELETE FROM dial_in')

    # ------------------------------------------------------------ sinch_js_url
    scratch.write_config(sinch_js_url='/fake-sinch.js')
    r, tree, lines = page()
    csp = csp_directives(r.headers.get('content-security-policy'))
    t.is_(csp.get('script-src'), ["'self'"], "with sinch_js_url = /fake-sinch.js (relative) script-src is exactly 'self'")
    t.is_((tree.id('pinconf') or Node('missing', {}, None)).attrs.get('data-sdk-url'), '/fake-sinch.js',
          'data-sdk-url follows sinch_js_url (/fake-sinch.js)')

    scratch.write_config(sinch_environment='https://ocra-euc1.api.sinch.com')
    r, tree, lines = page()
    csp = csp_directives(r.headers.get('content-security-policy'))
    t.ok('https://ocra-euc1.api.sinch.com' in (csp.get('connect-src') or []),
         'with sinch_environment = https://ocra-euc1.api.sinch.com connect-src names it')
    t.is_((tree.id('pinconf') or Node('missing', {}, None)).attrs.get('data-environment'),
          'https://ocra-euc1.api.sinch.com', 'data-environment follows sinch_environment')

    scratch.write_config(sinch_js_url='https://sdk.example.org:8443/v1/sinch.js')
    r, tree, lines = page()
    csp = csp_directives(r.headers.get('content-security-policy'))
    t.is_(sorted(csp.get('script-src') or []), sorted(["'self'", 'https://sdk.example.org:8443']),
          'with sinch_js_url on https://sdk.example.org:8443 the CSP script-src names https://sdk.example.org:8443')

    # The SDK's origin must be allowed however the URL names it.
    for url, origins, what in (('//sdk.example.org/v1/sinch.js', ('https://sdk.example.org', 'sdk.example.org'),
                                'a protocol-relative sinch_js_url //sdk.example.org/v1/sinch.js'),
                               ('HTTPS://sdk.example.org/v1/sinch.js', ('https://sdk.example.org',),
                                'a sinch_js_url with the scheme in capitals, HTTPS://sdk.example.org/v1/sinch.js')):
        scratch.write_config(sinch_js_url=url)
        r, tree, lines = page()
        sources = csp_directives(r.headers.get('content-security-policy')).get('script-src') or []
        t.ok(any(source.lower() in origins for source in sources),
             'with %s the CSP script-src allows https://sdk.example.org' % what,
             diag='  script-src: %r' % sources)

    quoted = 'https://x.example/a"b.js'
    scratch.write_config(sinch_js_url=quoted)
    r, tree, lines = page()
    text = r.body.decode('utf-8', errors='replace')
    t.ok(r.status == 200 and 'data-sdk-url="https://x.example/a&quot;b.js"' in text,
         'a sinch_js_url with a quote is escaped in its attribute (&quot;)')
    t.is_(tree.errors, [], 'the page with a quote in sinch_js_url is still well formed')
    t.is_((tree.id('pinconf') or Node('missing', {}, None)).attrs.get('data-sdk-url'), quoted,
          'and data-sdk-url parses back to the configured URL')
    scratch.write_config()

    # ------------------------------------------------------------ methods
    r, lines = request('HEAD')
    t.is_(r.status, 200, 'HEAD join.cgi gets 200')
    t.is_(r.headers.get('content-type'), 'text/html; charset=utf-8', 'HEAD join.cgi: text/html; charset=utf-8')
    for method in ('POST', 'PUT'):
        r, lines = request(method)
        html_refusal(t, r, lines, method, 405)
        t.is_(r.headers.get('allow'), 'GET, HEAD', '%s: the 405 says Allow: GET, HEAD' % method)
    # A refused body is drained by the CGI: Apache's mod_cgid would otherwise
    # reset the connection and lose the answer.
    try:
        r, lines = request('POST', body=b'id=Ann&pin=4321' * 64)
        t.is_(r.status, 405, 'a form POST with a body join.cgi does not read gets a complete 405')
    except (OSError, http.client.HTTPException) as e:
        t.ok(False, 'a form POST with a body join.cgi does not read gets a complete 405',
             diag='  %s: %s' % (type(e).__name__, e))

    # ------------------------------------------------------------ faults
    missing = scratch.path('missing', 'pinconf.db')
    scratch.write_config(database=missing)
    r, lines = request()
    html_refusal(t, r, lines, 'the database missing', 503)
    t.ok(lines and missing in lines[0], 'the database missing: the log line names the database', diag='  log: %r' % lines)
    t.ok(not os.path.exists(missing), 'join.cgi never creates a missing database')

    v99 = scratch.make_db(scratch.path('v99', 'pinconf.db'))
    scratch.execute('PRAGMA user_version = 99', path=v99)
    scratch.write_config(database=v99)
    r, lines = request()
    html_refusal(t, r, lines, 'a database of schema version 99', 503)
    t.ok(lines and v99 in lines[0] and 'schema version 99' in lines[0],
         'a database of schema version 99: the log line names the database and the version', diag='  log: %r' % lines)

    os.unlink(scratch.config)
    r, lines = request()
    html_refusal(t, r, lines, 'the config missing', 500)
    t.ok(lines and scratch.config in lines[0], 'the config missing: the log line names the config', diag='  log: %r' % lines)
    scratch.write_config()

    # join only reads: a database the web server may not write still serves the page.
    os.chmod(scratch.db, 0o444)
    try:
        r, lines = request()
        t.is_(r.status, 200, 'with the database file read-only (0444) the page still gets 200')
        t.is_(len(lines), 0, 'with the database file read-only no log line is written')
    finally:
        os.chmod(scratch.db, 0o644)
    r, lines = request()
    t.is_(r.body, plain, 'with everything repaired the plain page is back, byte for byte')


def ancestors(node):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


def leaked(body, secret_bytes):
    text = body.decode('utf-8', errors='replace')
    for needle in (SECRET, secret_bytes.hex(), secret_bytes.hex().upper()):
        if needle in text:
            return needle
    return 'the decoded bytes' if secret_bytes in body else ''


def html_refusal(t, r, lines, what, status):
    """A refusal of join.cgi: the status, a small well-formed HTML page, one log line."""
    t.is_(r.status, status, '%s gets %d' % (what, status))
    t.like(r.headers.get('content-type', ''), r'^text/html\b', '%s: the refusal is text/html' % what)
    tree = parse(r.body)
    t.ok(r.body and not tree.errors and tree.all('html'), '%s: the refusal is a well-formed HTML page' % what,
         diag='  errors %r, body %r' % (tree.errors, r.body[:200]))
    t.is_(len(lines), 1, '%s: exactly one log line' % what)


pinconf.run(main)
