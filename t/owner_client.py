"""owner_client.py: a browser, as far as owner.cgi's pages need one: cookies, forms, tokens.

    browser = owner_client.Browser(server)
    page = browser.get('/signup')
    page = browser.submit('/signup', {'email': ..., 'password': ...})
"""
import html
import re
import urllib.parse

OWNER = '/cgi-bin/owner.cgi'


class Page:
    def __init__(self, response):
        self.status = response.status
        self.headers = response.headers
        self.body = response.body.decode('utf-8', errors='replace')
        self.location = response.headers.get('location')

    def text(self):
        """What a person reads: tags dropped, entities decoded, spaces squeezed."""
        return re.sub(r'\s+', ' ', html.unescape(re.sub(r'<[^>]*>', ' ', self.body))).strip()

    def form_token(self):
        found = re.search(r'name="form_token" value="([^"]*)"', self.body)
        return found.group(1) if found else None

    def hidden(self, name):
        found = re.search(r'name="%s" value="([^"]*)"' % re.escape(name), self.body)
        return html.unescape(found.group(1)) if found else None


class Browser:
    def __init__(self, server, address=None):
        self.server = server
        self.cookies = {}
        self.token = None	# the form token of the last page
        self.address = address	# sent as X-Forwarded-For (a trusted proxy's client)
        self.set_cookies = []

    def _headers(self, extra=()):
        headers = [('Host', self.server.authority())]
        if self.cookies:
            headers.append(('Cookie', '; '.join('%s=%s' % kv for kv in self.cookies.items())))
        if self.address:
            headers.append(('X-Forwarded-For', self.address))
        return headers + list(extra)

    def _keep_cookies(self, response):
        # http.client folds repeated headers; owner.cgi sends at most one Set-Cookie.
        value = response.headers.get('set-cookie')
        if value:
            self.set_cookies.append(value)
            name, _, rest = value.partition('=')
            token = rest.split(';')[0]
            if 'Max-Age=0' in value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = token

    def request(self, method, path, body=None, headers=()):
        url = path if path.startswith('/cgi-bin/') else OWNER + path
        response = self.server.request(method, url, body, self._headers(headers))
        self._keep_cookies(response)
        page = Page(response)
        token = page.form_token()
        if token:
            self.token = token
        return page

    def get(self, path, headers=()):
        return self.request('GET', path, headers=headers)

    def post(self, path, fields, headers=(), token=True):
        fields = dict(fields)
        if token and 'form_token' not in fields:
            fields['form_token'] = self.token or ''
        body = urllib.parse.urlencode(fields).encode()
        return self.request('POST', path, body, [
            ('Content-Type', 'application/x-www-form-urlencoded'),
            ('Content-Length', str(len(body)))] + list(headers))

    def submit(self, path, fields, headers=()):
        """Open path's page (for its form token), then post fields to it."""
        self.get(path)
        return self.post(path, fields, headers)

    def follow(self, link):
        """Open a link from a mail: only its path and query are ours to ask for."""
        parts = urllib.parse.urlsplit(link)
        return self.get(parts.path + ('?' + parts.query if parts.query else ''))

    def session(self):
        return self.cookies.get('pinconf_owner')
