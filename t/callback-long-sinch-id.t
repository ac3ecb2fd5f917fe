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


def force_sinch_id(scratch, sinch_id):
    """Past the schema's CHECK, as a database edited without its guards would hold it."""
    db = scratch.connect()
    try:
        db.execute('PRAGMA ignore_check_constraints = ON')
        db.execute('UPDATE conference SET sinch_id = ?', (sinch_id,))
        db.commit()
    finally:
        db.close()


def main(t):
    scratch = pinconf.Scratch('callback-long-sinch-id')
    scratch.add_conference('Weekly sync', '4321')
    try:
        scratch.execute('UPDATE conference SET sinch_id = ?', ('x' * 65,))
        refused = None
    except Exception as e:
        refused = str(e)
    t.like(refused or '', r'sinch_id must be 1 to 64', 'the schema refuses a sinch_id over 64 characters')
    # The C code must not rely on that: a database may have been edited without its guards.
    for length, fits in ((71, True), (72, False), (200, False)):
        sinch_id = 'x' * length
        force_sinch_id(scratch, sinch_id)
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
