"""sinchfake.py: t/fake-sinch-api.py in a process of its own, and its control endpoints, for tests."""
import http.client
import json
import os
import re
import subprocess
import sys

import pinconf


class FakeSinch:
    """Sinch's Calling API on loopback, posting its callbacks to callback_url."""

    def __init__(self, callback_url):
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fake-sinch-api.py')
        self.process = subprocess.Popen(
            [sys.executable, script, '--key', pinconf.KEY, '--secret', pinconf.SECRET,
             '--callback', callback_url],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, preexec_fn=pinconf._die_with_parent())
        line = self.process.stdout.readline().decode()
        self.port = int(re.match(r'port (\d+)', line).group(1))
        self.url = 'http://127.0.0.1:%d' % self.port
        self.host = '127.0.0.1:%d' % self.port

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:	# a machine too loaded to let it exit: no test's concern
            self.process.kill()
            self.process.wait(10)

    def control(self, path, document=None, method='POST'):
        connection = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)
        body = json.dumps(document).encode() if document is not None else None
        connection.request(method, '/control/' + path, body, {'Content-Type': 'application/json'})
        answer = json.loads(connection.getresponse().read() or b'null')
        connection.close()
        return answer

    def state(self):
        return self.control('state', method='GET')

    def requests(self):
        return self.state()['requests']

    def participant(self, conference, callid):
        return (self.state()['conferences'].get(conference) or {}).get(callid)

    def add(self, conference, callid, cli=''):
        self.control('participants', {'conference': conference, 'id': callid, 'cli': cli})

    def wait_for(self, condition, timeout=10):
        return pinconf.wait_for(condition, timeout)

    def wait_request(self, method, path, after=0, timeout=10):
        """The first request of method to path that arrived after time.time() after and has
        been answered (its status recorded), or None."""
        return self.wait_for(lambda: next((q for q in self.requests() if q['method'] == method and
                                           q['path'] == path and q['at'] >= after
                                           and q.get('status') is not None), None), timeout)
