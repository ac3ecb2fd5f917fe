#!/usr/bin/env python3
# callback-phone.t: a caller on a phone: PIN menu, right and wrong PINs, config texts.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
from pinconf import action_name, says, ice_phone, pie, new_callid  # noqa: E402

ISO_TIME = r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$'


def check_menu(t, svaml, what, prompt=pinconf.PROMPT, locale='en-US', timeout_ms=None):
    action = (svaml or {}).get('action') or {}
    t.is_(action.get('name'), 'runMenu', '%s: the action is runMenu' % what)
    menus = action.get('menus')
    t.ok(isinstance(menus, list) and len(menus) == 1, '%s: exactly one menu' % what,
         diag='  menus: %r' % (menus,))
    menu = menus[0] if isinstance(menus, list) and menus else {}
    t.is_(menu.get('id'), 'main', '%s: the menu is called main' % what)
    t.is_(action.get('mainMenu'), 'main', '%s: mainMenu is main' % what)
    t.is_(menu.get('maxDigits'), 4, '%s: the menu collects 4 digits' % what)
    t.is_(menu.get('repeats'), 3, '%s: the prompt repeats 3 times' % what)
    if timeout_ms is None:
        t.between(menu.get('timeoutMills'), 1000, 30000,
                  '%s: the menu timeout is 1 to 30 seconds, as Sinch demands' % what)
    else:
        t.is_(menu.get('timeoutMills'), timeout_ms, '%s: the menu timeout is menu_timeout' % what)
    t.is_(menu.get('mainPrompt'), '#tts[%s]' % prompt, '%s: the main prompt asks for the PIN' % what)
    t.is_(menu.get('repeatPrompt'), '#tts[%s]' % prompt, '%s: the repeat prompt asks for the PIN' % what)
    t.is_(action.get('locale'), locale, '%s: the menu speaks %s' % (what, locale))


def check_svaml_response(t, r, what):
    t.is_(r.status, 200, '%s: answered 200' % what)
    t.like(r.headers.get('content-type', ''), r'^application/json\b', '%s: answered as application/json' % what)


def main(t):
    scratch = pinconf.Scratch('callback-phone')
    weekly = scratch.add_conference('Weekly sync', '4321')
    scratch.add_conference('Old', '5555', starts_on='2019-01-01', ends_on='2020-01-01')
    scratch.add_conference('Future', '6666', starts_on='2999-01-01')
    server = pinconf.start_server(scratch)

    # ICE from a phone: the PIN menu.
    call = new_callid()
    r = server.post(ice_phone(call))
    check_svaml_response(t, r, 'phone ICE')
    check_menu(t, r.json, 'phone ICE')
    t.is_(says(r.json), [], 'phone ICE: nothing is said before the menu')
    row = scratch.call(call) or {}
    t.is_(row.get('origin'), 'pstn', 'phone ICE: the call row has origin pstn')
    t.is_(row.get('caller'), pinconf.phone_number(call), 'phone ICE: the call row keeps the caller id (cli)')
    t.is_(row.get('pin_attempts'), 0, 'phone ICE: no PIN attempt is counted yet')
    t.like(row.get('started'), ISO_TIME, 'phone ICE: started is an ISO 8601 UTC time')

    # The right PIN.
    r = server.post(pie(call, '4321'))
    check_svaml_response(t, r, 'PIE with the right PIN')
    t.is_(pinconf.instructions(r.json), [{'name': 'say', 'text': pinconf.WELCOME, 'locale': 'en-US'},
                                         {'name': 'say', 'text': 'Press star 6 to mute yourself.',
                                          'locale': 'en-US'}],
          'PIE with the right PIN: says ", Welcome to the conference" in en-US, then the keypad hint')
    action = (r.json or {}).get('action') or {}
    t.is_(action.get('conferenceDtmfOptions'), {'mode': 'detect', 'maxDigits': 2, 'timeoutMills': 1500},
          'PIE with the right PIN: keypad on by default: conferenceDtmfOptions detect, 2 digits, 1.5 s')
    t.is_(action.get('name'), 'connectConf', 'PIE with the right PIN: connects to the conference')
    t.is_(action.get('conferenceId'), weekly['sinch_id'],
          'PIE with the right PIN: conferenceId is the conference sinch_id')
    t.is_(action.get('cli'), pinconf.phone_number(call), 'PIE with the right PIN: cli is the caller id from the ICE')
    t.is_(action.get('moh'), 'ring', 'PIE with the right PIN: music on hold is the default ring')
    row = scratch.call(call) or {}
    t.is_(row.get('conference_id'), weekly['id'], 'PIE with the right PIN: the call row names the conference')
    t.is_(row.get('conference_name'), 'Weekly sync', 'PIE with the right PIN: the call row keeps the conference name')
    t.like(row.get('joined'), ISO_TIME, 'PIE with the right PIN: joined is set')
    t.is_(row.get('pin_attempts'), 0, 'PIE with the right PIN: no wrong attempt counted')

    # Three wrong PINs: ask again twice, then hang up.
    call = new_callid()
    server.post(ice_phone(call, cli='46711111111'))
    for attempt, pin in enumerate(('1111', '2222'), 1):
        r = server.post(pie(call, pin))
        check_svaml_response(t, r, 'wrong PIN %d' % attempt)
        t.is_(says(r.json), [pinconf.INVALID], 'wrong PIN %d: says "Invalid code"' % attempt)
        t.is_(action_name(r.json), 'runMenu', 'wrong PIN %d: asks for the PIN again' % attempt)
        t.is_((scratch.call(call) or {}).get('pin_attempts'), attempt,
              'wrong PIN %d: pin_attempts is %d' % (attempt, attempt))
    check_menu(t, r.json, 'the menu after a wrong PIN')
    r = server.post(pie(call, '3333'))
    t.is_(says(r.json), [pinconf.INVALID], 'third wrong PIN: says "Invalid code"')
    t.is_(action_name(r.json), 'hangup', 'third wrong PIN: hangs up (pin_attempts default 3)')
    row = scratch.call(call) or {}
    t.is_(row.get('pin_attempts'), 3, 'third wrong PIN: pin_attempts is 3')
    t.is_(row.get('conference_id'), None, 'wrong PINs: the call joined no conference')
    t.is_(row.get('joined'), None, 'wrong PINs: joined stays empty')

    # A wrong PIN, then the right one.
    call = new_callid()
    server.post(ice_phone(call))
    server.post(pie(call, '9999'))
    r = server.post(pie(call, '4321'))
    t.is_(action_name(r.json), 'connectConf', 'the right PIN after a wrong one connects')
    t.is_((scratch.call(call) or {}).get('pin_attempts'), 1, 'the right PIN after a wrong one: 1 wrong attempt kept')

    # timeout and invalidinput count as wrong attempts.
    call = new_callid()
    server.post(ice_phone(call))
    r = server.post(pie(call, type='timeout'))
    t.is_(says(r.json), [pinconf.INVALID], 'PIE timeout: says "Invalid code"')
    t.is_(action_name(r.json), 'runMenu', 'PIE timeout: asks again')
    t.is_((scratch.call(call) or {}).get('pin_attempts'), 1, 'PIE timeout: counts as a wrong attempt')
    r = server.post(pie(call, '', type='invalidinput'))
    t.is_(action_name(r.json), 'runMenu', 'PIE invalidinput: asks again')
    t.is_((scratch.call(call) or {}).get('pin_attempts'), 2, 'PIE invalidinput: counts as a wrong attempt')
    r = server.post(pie(call, type='timeout'))
    t.is_(action_name(r.json), 'hangup', 'a third timeout hangs up')
    t.is_(says(r.json), [pinconf.INVALID], 'a third timeout: says "Invalid code" first')

    # hangup and error: hang up, count nothing.
    for kind in ('hangup', 'error'):
        call = new_callid()
        server.post(ice_phone(call))
        r = server.post(pie(call, type=kind))
        check_svaml_response(t, r, 'PIE %s' % kind)
        t.is_(action_name(r.json), 'hangup', 'PIE %s: the action is hangup' % kind)
        t.is_(says(r.json), [], 'PIE %s: nothing is said' % kind)
        t.is_((scratch.call(call) or {}).get('pin_attempts'), 0, 'PIE %s: no wrong attempt counted' % kind)

    # Malformed PINs are wrong attempts, never a lookup.
    for pin in ('12a4', '12345', '432', '４３２１'):
        call = new_callid()
        server.post(ice_phone(call))
        r = server.post(pie(call, pin))
        check_svaml_response(t, r, 'PIN %r' % pin)
        t.is_(says(r.json), [pinconf.INVALID], 'PIN %r: says "Invalid code"' % pin)
        t.is_(action_name(r.json), 'runMenu', 'PIN %r: counts as wrong and asks again' % pin)
        t.is_((scratch.call(call) or {}).get('pin_attempts'), 1, 'PIN %r: pin_attempts is 1' % pin)

    # Conferences outside their dates.
    for pin, what, spoken in (('5555', 'an expired conference', 'This conference has ended.'),
                              ('6666', 'a conference that starts in the future',
                               'This conference starts on 1 January 2999.')):
        call = new_callid()
        server.post(ice_phone(call))
        r = server.post(pie(call, pin))
        t.is_(says(r.json), [spoken], 'the PIN of %s is refused with %r' % (what, spoken))
        t.is_(action_name(r.json), 'runMenu', 'the PIN of %s: asks again' % what)
        t.is_((scratch.call(call) or {}).get('conference_id'), None, 'the PIN of %s: joins nothing' % what)

    # A conference ending today is still open today; one that ended yesterday is not.
    today = scratch.query("SELECT date('now') AS d")[0]['d']
    ends_today = scratch.add_conference('Ends today', '7777', starts_on='2020-01-01', ends_on=today)
    scratch.add_conference('Ended yesterday', '8888', starts_on='2020-01-01',
                           ends_on=scratch.query("SELECT date('now', '-1 day') AS d")[0]['d'])
    call = new_callid()
    server.post(ice_phone(call))
    r = server.post(pie(call, '7777'))
    t.is_((r.json or {}).get('action', {}).get('conferenceId'), ends_today['sinch_id'],
          'a conference whose ends_on is today can be joined')
    call = new_callid()
    server.post(ice_phone(call))
    r = server.post(pie(call, '8888'))
    t.is_(action_name(r.json), 'runMenu', 'a conference whose ends_on was yesterday cannot be joined')

    # A PIE whose ICE never arrived: connect all the same, without a cli.
    call = new_callid()
    r = server.post(pie(call, '4321'))
    action = (r.json or {}).get('action') or {}
    t.is_(action.get('name'), 'connectConf', 'a PIE without an earlier ICE still connects')
    t.ok('cli' not in action, 'a PIE without an earlier ICE: no cli is made up',
         diag='  action: %r' % (action,))

    # The ICE's cli "withheld" (empty string): no cli in connectConf.
    call = new_callid()
    server.post(ice_phone(call, cli=''))
    r = server.post(pie(call, '4321'))
    action = (r.json or {}).get('action') or {}
    t.is_(action.get('name'), 'connectConf', 'a withheld caller id still connects')
    t.ok('cli' not in action, 'a withheld caller id: connectConf carries no empty cli',
         diag='  action: %r' % (action,))

    # pin_attempts = 2 hangs up on the second wrong attempt.
    scratch.write_config(pin_attempts=2)
    call = new_callid()
    server.post(ice_phone(call))
    r = server.post(pie(call, '1111'))
    t.is_(action_name(r.json), 'runMenu', 'pin_attempts = 2: the first wrong PIN asks again')
    r = server.post(pie(call, '2222'))
    t.is_(action_name(r.json), 'hangup', 'pin_attempts = 2: the second wrong PIN hangs up')
    t.is_(says(r.json), [pinconf.INVALID], 'pin_attempts = 2: says "Invalid code" before hanging up')

    # Custom texts, locale, timeout and music on hold from the config.
    scratch.write_config(prompt_pin='Bitte geben Sie die PIN ein', say_invalid='Falscher Code',
                         say_welcome='Willkommen in der Konferenz', locale='de-DE',
                         menu_timeout=10, moh='music2')
    call = new_callid()
    r = server.post(ice_phone(call))
    check_menu(t, r.json, 'custom config ICE', prompt='Bitte geben Sie die PIN ein',
               locale='de-DE', timeout_ms=10000)
    r = server.post(pie(call, '0000'))
    t.is_(pinconf.instructions(r.json), [{'name': 'say', 'text': 'Falscher Code', 'locale': 'de-DE'}],
          'custom config: say_invalid is said in the configured locale')
    check_menu(t, r.json, 'custom config menu after a wrong PIN', prompt='Bitte geben Sie die PIN ein',
               locale='de-DE', timeout_ms=10000)
    r = server.post(pie(call, '4321'))
    t.is_(pinconf.instructions(r.json)[:1],
          [{'name': 'say', 'text': 'Willkommen in der Konferenz', 'locale': 'de-DE'}],
          'custom config: say_welcome is said in the configured locale')
    t.is_((r.json or {}).get('action', {}).get('moh'), 'music2', 'custom config: moh is used in connectConf')
    scratch.write_config()

    # The default config again: defaults are back.
    call = new_callid()
    r = server.post(ice_phone(call))
    check_menu(t, r.json, 'default config again')


pinconf.run(main)
