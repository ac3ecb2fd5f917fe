"""events.py: the callback events Sinch sends (ice_phone, ice_browser, pie, ace, dice,
notify) as dicts, their body bytes, and readers of the SVAML the callback answers with."""

import hashlib
import json
import uuid

from .signing import KEY, iso_now


# What the callback says, as tests look for it in the SVAML.
APOLOGY = 'Sorry, the conference service is unavailable. Please try again later.'
WELCOME = ', Welcome to the conference'
INVALID = 'Invalid code'
PROMPT = 'Enter 4 digit pin'


def new_callid(prefix='c'):
    return '%s%s' % (prefix, uuid.uuid4().hex)


def _event(name, callid, **fields):
    event = {'event': name}
    if callid is not None:
        event['callid'] = callid
    event.update({'timestamp': iso_now()[:19] + 'Z', 'version': 1, 'custom': '',
                  'applicationKey': KEY})
    event.update(fields)
    return event


def phone_number(callid):
    """The caller id ice_phone() gives a call: one number a call, so that the
    per-number guess limit does not join up unrelated calls of a test."""
    return '467' + str(int(hashlib.md5(callid.encode()).hexdigest(), 16))[-8:].zfill(8)


def ice_phone(callid, cli=None, origination='PSTN', **fields):
    if cli is None:
        cli = phone_number(callid)
    return _event('ice', callid, **dict({'cli': cli, 'to': {'type': 'did', 'endpoint': '+14158544909'},
                                         'domain': 'pstn', 'originationType': origination}, **fields))


def ice_browser(callid, pin, user=None, cli=None, origination='MXP', to_type='conference', **fields):
    event = _event('ice', callid, **dict({'to': {'type': to_type, 'endpoint': pin}, 'domain': 'mxp',
                                          'originationType': origination}, **fields))
    if user is not None:
        event['user'] = user
    if cli is not None:
        event['cli'] = cli
    return event


def pie(callid, value=None, type='sequence', menu_id='main', **fields):
    result = {'menuId': menu_id, 'type': type, 'inputMethod': 'dtmf'}
    if value is not None:
        result['value'] = value
    return _event('pie', callid, menuResult=result, **fields)


def ace(callid, **fields):
    return _event('ace', callid, **fields)


def dice(callid, reason='CALLERHANGUP', result='ANSWERED', duration=42, **fields):
    event = _event('dice', callid, reason=reason, result=result,
                   **{'from': '46700000000'}, to={'type': 'did', 'endpoint': '+14158544909'},
                   **fields)
    if duration is not None:
        event['duration'] = duration
    return event


def notify(callid=None, type='recording_finished', **fields):
    return _event('notify', callid, type=type, **fields)


def encode(event):
    """The body bytes post() sends for event (a dict, or bytes as they are)."""
    if isinstance(event, (bytes, bytearray)):
        return bytes(event)
    return json.dumps(event, separators=(',', ':')).encode('utf-8')


# SVAML shortcuts for assertions.

def action_name(svaml):
    try:
        return svaml['action']['name']
    except (TypeError, KeyError):
        return None


def instructions(svaml):
    if not isinstance(svaml, dict):
        return None
    return svaml.get('instructions', [])


def says(svaml):
    """The texts of the say instructions, in order."""
    return [i.get('text') for i in instructions(svaml) or [] if i.get('name') == 'say']
