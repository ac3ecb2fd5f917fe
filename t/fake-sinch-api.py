#!/usr/bin/env python3
"""fake-sinch-api.py: Sinch's Calling REST API, played on loopback for pinconf's tests.

Implements exactly the paths of section 5 of sinch-api.md, checks every
request's signature as Sinch's validator does (section 3), holds conferences
and their participants, records every request, and for a conference callout
posts a signed ACE, and later a signed DiCE, to the callback URL, as Sinch
would.  Python 3 standard library only.

    fake-sinch-api.py --key KEY --secret SECRET --callback URL

It prints "port N" once it listens on 127.0.0.1:N, then serves until SIGTERM.
The tests steer it through /control/ (never signed, not part of Sinch's API):

    POST /control/participants {"conference", "id", "cli", "duration", "muted", "onhold"}
    POST /control/fail     {"status", "errorCode", "message", "delay", "hold", "times", "method"}
                           the next `times` API requests (of `method`, if given)
                           wait `delay` seconds (with "hold": true, until
                           /control/release, at most `delay`), then answer
                           status and error body (status "client gone" if the
                           client hung up meanwhile)
    POST /control/release  {}: the requests held now are answered
    POST /control/clock    {"offset": seconds}: this Sinch's clock is that far off
    POST /control/hangup   {"callId"}: the callee hangs up; DiCE follows
    GET  /control/state    {"conferences", "requests", "callbacks"}
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import select
import signal
import socket
import threading
import time
import urllib.parse
import uuid

CONFERENCE_PATH = re.compile(r'^/calling/v1/conferences/id/([^/]+)$')
PARTICIPANT_PATH = re.compile(r'^/calling/v1/conferences/id/([^/]+)/([^/]+)$')
CALLOUT_PATH = '/calling/v1/callouts'
E164 = re.compile(r'^\+[1-9][0-9]{6,14}$')
TIMESTAMP_WINDOW = 15 * 60	# seconds either side of this Sinch's now
COMMANDS = ('mute', 'unmute', 'onhold', 'resume')


class Refusal(Exception):
    """An answer other than 200/204, with Sinch's error body."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def content_md5(body):
    return base64.b64encode(hashlib.md5(body).digest()).decode('ascii') if body else ''


def signature(secret, method, content_type, timestamp, path, body):
    text = '\n'.join([method, content_md5(body), content_type or '', 'x-timestamp:' + timestamp, path])
    mac = hmac.new(base64.b64decode(secret), text.encode('utf-8'), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode('ascii')


def parse_timestamp(text):
    match = re.match(r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$', text or '')
    if not match:
        return None
    when = datetime.datetime.strptime(match.group(1), '%Y-%m-%dT%H:%M:%S')
    return when.replace(tzinfo=datetime.timezone.utc).timestamp() + float(match.group(2) or 0)


def iso_now():
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (now.microsecond // 1000)


class FakeSinch:
    """The state: conferences, planned failures, and what was asked and posted."""

    def __init__(self, key, secret, callback):
        self.key, self.secret, self.callback = key, secret, callback
        self.lock = threading.Lock()
        self.conferences = {}		# conferenceId -> {callId: participant}
        self.failures = []
        self.released = threading.Condition(self.lock)
        self.releases = 0
        self.clock_offset = 0.0
        self.requests = []
        self.callbacks = []
        self.callouts = {}		# callId -> {"conference", "number", "answered": Event}

    # Sinch's validator.

    def authenticate(self, method, path, headers, body):
        header = headers.get('Authorization')
        if not header:
            raise Refusal(401, 40100, 'Missing authorization header')
        scheme, _, credentials = header.partition(' ')
        if scheme.lower() == 'basic':
            try:
                decoded = base64.b64decode(credentials, validate=True).decode('utf-8')
            except ValueError:
                raise Refusal(401, 40100, 'Invalid authorization header')
            if not hmac.compare_digest(decoded, '%s:%s' % (self.key, self.secret)):
                raise Refusal(401, 40102, 'Invalid signature')
            return
        if scheme.lower() != 'application' or ':' not in credentials:
            raise Refusal(401, 40100, 'Invalid authorization header')
        key, _, given = credentials.partition(':')
        if key != self.key:
            raise Refusal(401, 40100, 'Invalid authorization header: unknown application key')
        timestamp = headers.get('X-Timestamp')
        stamp = parse_timestamp(timestamp)
        if stamp is None or abs(stamp - (time.time() + self.clock_offset)) > TIMESTAMP_WINDOW:
            raise Refusal(401, 40101, 'Invalid timestamp')
        expected = signature(self.secret, method, headers.get('Content-Type'), timestamp, path, body)
        if not hmac.compare_digest(given, expected):
            raise Refusal(401, 40102, 'Invalid signature')

    def planned_failure(self, method):
        with self.lock:
            for failure in self.failures:
                if failure.get('method') in (None, method) and failure.get('times', 1) > 0:
                    failure['times'] = failure.get('times', 1) - 1
                    return dict(failure)
        return None

    def wait_failure(self, failure):
        """A planned failure's wait: its delay, or, held, until released (at most its delay)."""
        if not failure.get('hold'):
            time.sleep(failure.get('delay', 0))
            return
        with self.lock:
            releases = self.releases
            self.released.wait_for(lambda: self.releases != releases, timeout=failure.get('delay', 60))

    def release(self):
        with self.lock:
            self.releases += 1
            self.released.notify_all()

    # The documented operations.

    def participants(self, conference):
        with self.lock:
            members = self.conferences.get(conference) or {}
            if not members:
                raise Refusal(404, 40400, 'Conference not found')
            now = time.monotonic()
            return {'participants': [
                {'cli': p['cli'], 'id': callid, 'duration': p['duration'] + int(now - p['since']),
                 'muted': p['muted'], 'onhold': p['onhold']}
                for callid, p in members.items()]}

    def command(self, conference, callid, body):
        try:
            command = json.loads(body.decode('utf-8'))['command']
        except (ValueError, KeyError, TypeError, AttributeError):
            raise Refusal(400, 40001, 'Invalid parameter: command')
        if command not in COMMANDS:
            raise Refusal(400, 40001, 'Invalid parameter: command')
        with self.lock:
            participant = (self.conferences.get(conference) or {}).get(callid)
            if participant is None:
                raise Refusal(404, 40400, 'Call not found')
            if command in ('mute', 'unmute'):
                participant['muted'] = command == 'mute'
            else:
                participant['onhold'] = command == 'onhold'

    def kick(self, conference, callids=None):
        with self.lock:
            members = self.conferences.get(conference) or {}
            if callids is None:
                if not members:
                    raise Refusal(404, 40400, 'Conference not found')
                callids = list(members)
            elif any(callid not in members for callid in callids):
                raise Refusal(404, 40400, 'Call not found')
            gone = [(callid, members.pop(callid)) for callid in callids]
        for callid, participant in gone:
            self.later(self.post_dice, callid, 'MANAGERHANGUP', participant)

    def callout(self, body):
        try:
            request = json.loads(body.decode('utf-8'))
            callout = request['conferenceCallout']
            number = callout['destination']['endpoint']
            ok = (request['method'] == 'conferenceCallout' and E164.match(callout['cli'])
                  and callout['destination']['type'] == 'number' and E164.match(number)
                  and isinstance(callout['conferenceId'], str) and callout['conferenceId'])
        except (ValueError, KeyError, TypeError, AttributeError):
            ok = False
        if not ok:
            raise Refusal(400, 40001, 'Invalid parameter')
        callid = uuid.uuid4().hex
        with self.lock:
            self.callouts[callid] = {'conference': callout['conferenceId'], 'number': number,
                                     'custom': str(callout.get('custom', ''))[:1024],
                                     'answered': threading.Event()}
        self.later(self.answer_callout, callid)
        return {'callId': callid}

    # Callbacks, signed as Sinch signs them.

    def later(self, function, *arguments):
        threading.Thread(target=function, args=arguments, daemon=True).start()

    def post_callback(self, event):
        body = json.dumps(event, separators=(',', ':')).encode('utf-8')
        url = urllib.parse.urlsplit(self.callback)
        timestamp = iso_now()
        content_type = 'application/json; charset=utf-8'
        headers = {'Content-Type': content_type, 'X-Timestamp': timestamp,
                   'Authorization': 'Application %s:%s' % (self.key, signature(
                       self.secret, 'POST', content_type, timestamp, url.path, body))}
        record = {'event': event['event'], 'callid': event.get('callid'), 'status': None, 'answer': None}
        try:
            connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
            connection.request('POST', url.path, body, headers)
            response = connection.getresponse()
            text = response.read().decode('utf-8', errors='replace')
            record['status'] = response.status
            record['answer'] = json.loads(text) if text else None
            connection.close()
        except (OSError, ValueError) as e:
            record['error'] = str(e)
        with self.lock:
            self.callbacks.append(record)
        return record

    def event(self, name, callid, **fields):
        event = {'event': name, 'callid': callid, 'timestamp': iso_now()[:19] + 'Z', 'version': 1,
                 'custom': '', 'applicationKey': self.key}
        event.update(fields)
        return event

    def answer_callout(self, callid):
        time.sleep(0.2)		# the callee picks up
        callout = self.callouts[callid]
        record = self.post_callback(self.event('ace', callid, custom=callout['custom']))
        action = (record.get('answer') or {}).get('action') or {}
        # With enableAce, Sinch adds the callee only when the ACE's answer is
        # connectConf (sinch-api.md 5); continue leaves them outside.
        if action.get('name') == 'connectConf' and action.get('conferenceId') == callout['conference']:
            with self.lock:
                self.conferences.setdefault(callout['conference'], {})[callid] = {
                    'cli': callout['number'], 'duration': 0, 'since': time.monotonic(),
                    'muted': False, 'onhold': False}
        callout['answered'].set()

    def post_dice(self, callid, reason, participant=None):
        callout = self.callouts.get(callid)
        if callout is not None:
            callout['answered'].wait(10)
        duration = int(time.monotonic() - participant['since']) if participant else 0
        number = callout['number'] if callout else (participant or {}).get('cli', '')
        self.post_callback(self.event('dice', callid, reason=reason, result='ANSWERED',
                                      duration=duration, to={'type': 'number', 'endpoint': number},
                                      **{'from': ''}))

    def hangup(self, callid):
        with self.lock:
            participant = None
            for members in self.conferences.values():
                participant = members.pop(callid, None) or participant
        self.later(self.post_dice, callid, 'CALLEEHANGUP', participant)

    # Control.

    def add_participant(self, request):
        with self.lock:
            self.conferences.setdefault(request['conference'], {})[request['id']] = {
                'cli': request.get('cli', ''), 'duration': int(request.get('duration', 0)),
                'since': time.monotonic(), 'muted': bool(request.get('muted', False)),
                'onhold': bool(request.get('onhold', False))}

    def state(self):
        with self.lock:
            return {'conferences': {conference: {callid: {k: v for k, v in p.items() if k != 'since'}
                                                 for callid, p in members.items()}
                                    for conference, members in self.conferences.items()},
                    'requests': list(self.requests), 'callbacks': list(self.callbacks)}


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = 'fake-sinch-api'
    protocol_version = 'HTTP/1.1'
    record = None

    def log_message(self, format, *args):
        pass

    def send(self, status, document=None):
        body = json.dumps(document).encode('utf-8') if document is not None else b''
        # Recorded before the answer leaves: a client that has it may ask
        # /control/state at once, before this thread would run on.
        if self.record is not None:
            self.record['status'] = status
        self.send_response(status)
        if document is not None:
            self.send_header('Content-Type', 'application/json; charset=utf-8')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return status

    def refuse(self, refusal):
        return self.send(refusal.status, {'errorCode': refusal.code, 'message': refusal.message,
                                          'reference': uuid.uuid4().hex})

    def client_gone(self):
        """The client closed its end (a process killed while it waited for us does)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b''
        except OSError:
            return True

    def body(self):
        length = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(length) if length else b''

    def handle_any(self):
        fake = self.server.fake
        self.record = None		# one handler serves every request of a kept-alive connection
        body = self.body()
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith('/control/'):
            return self.control(fake, path, body)
        record = {'at': time.time(), 'method': self.command, 'path': self.path, 'body': body.decode('utf-8', errors='replace'),
                  'headers': dict(self.headers.items()), 'status': None}
        with fake.lock:
            fake.requests.append(record)
        self.record = record
        try:
            failure = fake.planned_failure(self.command)
            if failure is not None:
                fake.wait_failure(failure)
                if self.client_gone():
                    record['status'] = 'client gone'
                    return
                raise Refusal(failure.get('status', 500), failure.get('errorCode', 50000),
                              failure.get('message', 'Internal error'))
            fake.authenticate(self.command, path, self.headers, body)
            record['status'] = self.route(fake, path, body)
        except Refusal as refusal:
            record['status'] = self.refuse(refusal)
        except (BrokenPipeError, ConnectionResetError):
            record['status'] = 'client gone'

    def route(self, fake, path, body):
        conference = CONFERENCE_PATH.match(path)
        participant = PARTICIPANT_PATH.match(path)
        if self.command == 'GET' and conference:
            return self.send(200, fake.participants(conference.group(1)))
        if self.command == 'PATCH' and participant:
            fake.command(participant.group(1), participant.group(2), body)
            return self.send(204)
        if self.command == 'DELETE' and participant:
            fake.kick(participant.group(1), [participant.group(2)])
            return self.send(204)
        if self.command == 'DELETE' and conference:
            fake.kick(conference.group(1))
            return self.send(200)
        if self.command == 'POST' and path == CALLOUT_PATH:
            return self.send(200, fake.callout(body))
        raise Refusal(404, 40400, 'Not found')

    def control(self, fake, path, body):
        request = json.loads(body.decode('utf-8')) if body else {}
        if path == '/control/state':
            return self.send(200, fake.state())
        if path == '/control/participants':
            fake.add_participant(request)
        elif path == '/control/fail':
            with fake.lock:
                fake.failures.append(request)
        elif path == '/control/clock':
            fake.clock_offset = float(request['offset'])
        elif path == '/control/release':
            fake.release()
        elif path == '/control/hangup':
            fake.hangup(request['callId'])
        else:
            return self.send(404, {'error': 'no such control'})
        return self.send(200, {})

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = handle_any


def main():
    parser = argparse.ArgumentParser(description='A fake Sinch Calling API on loopback.')
    parser.add_argument('--key', required=True)
    parser.add_argument('--secret', required=True)
    parser.add_argument('--callback', required=True, help='where ACE and DiCE are posted')
    parser.add_argument('--port', type=int, default=0)
    options = parser.parse_args()
    server = http.server.ThreadingHTTPServer(('127.0.0.1', options.port), Handler)
    server.daemon_threads = True
    server.fake = FakeSinch(options.key, options.secret, options.callback)
    # Nothing to flush or close: gone at once, whatever its threads are doing.
    signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(0))
    print('port %d' % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == '__main__':
    main()
