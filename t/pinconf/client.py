"""client.py: requests as the browser sends them to getticket.cgi and roster.cgi (form
POSTs), and check_refusal(), the shape every refused request must have."""

import collections


GETTICKET_PATH = '/cgi-bin/getticket.cgi'
ROSTER_PATH = '/cgi-bin/roster.cgi'
FORM_TYPE = 'application/x-www-form-urlencoded'


def post_form(server, path, fields, headers=None, content_type=FORM_TYPE, method='POST'):
    """A form POST as the join page sends it: fields is a dict or [(name, value)]
    (None values left out), or bytes sent as they are.  headers: {name: value}
    added or replacing (None drops one); no Origin or Sec-Fetch-Site unless given."""
    import urllib.parse
    if isinstance(fields, (bytes, bytearray)):
        body = bytes(fields)
    else:
        items = fields.items() if isinstance(fields, dict) else fields
        body = urllib.parse.urlencode([(k, v) for k, v in items if v is not None]).encode('utf-8')
    send = collections.OrderedDict([('Host', server.authority())])
    if content_type is not None:
        send['Content-Type'] = content_type
    send['Content-Length'] = str(len(body))
    for name, value in (headers or {}).items():
        for existing in [k for k in send if k.lower() == name.lower()]:
            del send[existing]
        if value is not None:
            send[name] = value
    return server.request(method, path, body, list(send.items()))


def getticket(server, name, pin, user_id=None, headers=None):
    """POST name, pin (and userId for a renewal) to getticket.cgi."""
    return post_form(server, GETTICKET_PATH, [('name', name), ('pin', pin), ('userId', user_id)],
                     headers=headers)


def roster(server, user_id, headers=None):
    return post_form(server, ROSTER_PATH, [('userId', user_id)], headers=headers)


def issue_identity(server, name, pin, headers=None):
    """A user id getticket issued for pin (fails loudly if it refuses)."""
    r = getticket(server, name, pin, headers=headers)
    if r.status != 200 or not isinstance(r.json, dict) or 'userId' not in r.json:
        raise RuntimeError('getticket refused %s/%s: %s %r' % (name, pin, r.status, r.body[:200]))
    return r.json['userId']


def check_refusal(t, server, scratch, response, mark, before, what, statuses, todo=None):
    """The shared shape of every refusal: status, JSON error, no db write, one log line."""
    statuses = statuses if isinstance(statuses, (tuple, list)) else (statuses,)
    t.ok(response.status in statuses, '%s is refused with %s' % (
        what, ' or '.join(str(s) for s in statuses)), todo=todo,
        diag='  got status %r, body %r' % (response.status, response.body[:300]))
    t.like(response.headers.get('content-type', ''), r'^application/json\b',
           '%s: the refusal is application/json' % what)
    body = response.json
    t.ok(isinstance(body, dict) and isinstance(body.get('error'), str) and body['error'] != '',
         '%s: the refusal body is {"error": "..."}' % what, todo=todo, diag='  got: %r' % response.body[:300])
    t.is_(scratch.counts(), before, '%s: nothing is written to the database' % what, todo=todo)
    lines = server.log_since(mark)
    t.is_(len(lines), 1, '%s: exactly one log line is written' % what, todo=todo)
    return lines
