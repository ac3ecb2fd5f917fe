"""signing.py: Sinch's callback signature (sinch-api.md section 3), written from the
documentation, not from the C code, and checked against its vectors; the test KEY and SECRET."""

import base64
import datetime
import hashlib
import hmac


KEY = '5b0f3a4e-9c1d-4e2f-8a7b-2c3d4e5f6a7b'
SECRET = 'zLq1b3hJ9kQ2Zk5tM0c3dA=='
CALLBACK_PATH = '/cgi-bin/callback.cgi'
CONTENT_TYPE = 'application/json; charset=utf-8'

# The documentation's vectors (sinch-api.md section 3) for the signer's self-check.
DOC_VECTOR = {
    'key': '669E367E-6BBA-48AB-AF15-266871C28135',
    'secret': 'BeIukql3pTKJ8RGL5zo0DA==',
    'method': 'POST',
    'path': '/sinch/callback/ace',
    'content_type': 'application/json',
    'timestamp': '2014-09-24T10:59:41Z',
    'body': b'{"event":"ace","callid":"822aa4b7-05b4-4d83-87c7-1f835ee0b6f6_257",'
            b'"timestamp":"2014-09-24T10:59:41Z","version":1}',
    'content_md5': 'REWF+X220L4/Gw1spXOU7g==',
    'signature': 'Tg6fMyo8mj9pYfWQ9ssbx3Tc1BNC87IEygAfLbJqZb4=',
}
ICE_VECTOR = {
    'key': KEY,
    'secret': SECRET,
    'method': 'POST',
    'path': CALLBACK_PATH,
    'content_type': CONTENT_TYPE,
    'timestamp': '2026-11-24T10:00:00.123Z',
    'body': ('{"event":"ice","callid":"4398599d1ba84a2b9c8b4e4c2f3a7e6d",'
             '"timestamp":"2026-11-24T10:00:00Z","version":1,"cli":"46700000000",'
             '"to":{"type":"did","endpoint":"+14158544909"},"domain":"pstn",'
             '"applicationKey":"' + KEY + '","originationType":"PSTN"}').encode(),
    'content_md5': '1C5wpkYHlMQ7hav6Ihc0Rg==',
    'authorization': 'Application ' + KEY + ':lX0Nq+dqr41dGIjQUZuEIz6aTV60PROEH0Olucvt3p4=',
}


def content_md5(body):
    """Base64(MD5(body)); the empty string when there is no body."""
    if not body:
        return ''
    return base64.b64encode(hashlib.md5(body).digest()).decode('ascii')


def string_to_sign(method, content_type, timestamp, path, body):
    return '\n'.join([method, content_md5(body), content_type or '',
                      'x-timestamp:' + timestamp, path])


def signature(secret, method, content_type, timestamp, path, body):
    mac = hmac.new(base64.b64decode(secret, validate=True),
                   string_to_sign(method, content_type, timestamp, path, body).encode('utf-8'),
                   hashlib.sha256)
    return base64.b64encode(mac.digest()).decode('ascii')


def sign(method, path, body, content_type, timestamp, key=KEY, secret=SECRET, scheme='Application'):
    """The Authorization header value Sinch sends."""
    return '%s %s:%s' % (scheme, key, signature(secret, method, content_type, timestamp, path, body))


_authorization = sign	# Server.post() has a parameter called sign


def basic(key=KEY, secret=SECRET):
    return 'Basic ' + base64.b64encode(('%s:%s' % (key, secret)).encode()).decode('ascii')


def iso_now(offset=0.0):
    """Now (+offset seconds) as ISO 8601 UTC with milliseconds and Z."""
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset)
    return when.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (when.microsecond // 1000)


def signer_self_check():
    """[(description, got, want)] for the documented vectors."""
    d = DOC_VECTOR
    v = ICE_VECTOR
    return [
        ('Content-MD5 of the documentation vector', content_md5(d['body']), d['content_md5']),
        ('signature of the documentation vector',
         signature(d['secret'], d['method'], d['content_type'], d['timestamp'], d['path'], d['body']),
         d['signature']),
        ('Content-MD5 of the pinconf ICE vector', content_md5(v['body']), v['content_md5']),
        ('Authorization of the pinconf ICE vector',
         sign(v['method'], v['path'], v['body'], v['content_type'], v['timestamp'], v['key'], v['secret']),
         v['authorization']),
    ]
