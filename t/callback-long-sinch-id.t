#!/usr/bin/env python3
# callback-long-sinch-id.t: a conference whose sinch_id does not fit is a fault
# with a clear reason, never a cut id that could put callers into another conference.
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
from pinconf import ice_phone, pie  # noqa: E402


def post(scratch, event):
    body = pinconf.encode(event)
    status, headers, data, lines = pinconf.run_cgi('callback.cgi', scratch.config, method='POST', body=body,
                                                   headers=pinconf.signed_callback_headers(body))
    try:
        return status, json.loads(data.decode()), lines
    except ValueError:
        return status, None, lines


def main(t):
    scratch = pinconf.Scratch('callback-long-sinch-id')
    scratch.add_conference('Weekly sync', '4321')
    for length, fits in ((71, True), (72, False), (200, False)):
        sinch_id = 'x' * length
        # The schema may refuse such ids one day; the C code must not rely on it.
        try:
            scratch.execute('UPDATE conference SET sinch_id = ?', (sinch_id,))
        except Exception as e:
            t.skip('a sinch_id of %d bytes' % length, 'the schema refuses it: %s' % e)
            continue
        callid = 'c-long-%d' % length
        post(scratch, ice_phone(callid))
        status, svaml, lines = post(scratch, pie(callid, '4321'))
        action = (svaml or {}).get('action') or {}
        if fits:
            t.is_(action.get('conferenceId'), sinch_id, 'a sinch_id of %d bytes is passed whole' % length)
            continue
        t.ok(status == 200 and pinconf.says(svaml) == [pinconf.APOLOGY] and action.get('name') == 'hangup',
             'a sinch_id of %d bytes: the caller hears the apology, not a cut id' % length,
             diag='  %r %r' % (status, svaml))
        t.ok(any('sinch_id longer than 71 bytes' in line for line in lines),
             'a sinch_id of %d bytes: the log says the sinch_id is too long' % length, diag='  log: %r' % lines)
        t.is_((scratch.call(callid) or {}).get('joined'), None,
              'a sinch_id of %d bytes: the call is not recorded as joined' % length)


pinconf.run(main)
