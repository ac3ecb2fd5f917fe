/* join.test.js: the join page in headless Chromium, served by the real
 * join.cgi and getticket.cgi, calling through fake-sinch.js; prints TAP.
 *
 * Run by t/browser.t, which starts the servers and sets:
 *   PINCONF_TEST_URL          a server with conference PIN 4321, no dial-in numbers,
 *                             guess_limit 3, sinch_js_url = /fake-sinch.js
 *   PINCONF_TEST_DIAL_IN_URL  the same with dial-in number Sweden +46850551234
 *   PINCONF_TEST_KEY, PINCONF_TEST_SECRET   the application key and secret of both
 *   PINCONF_TEST_SCREENSHOT_DIRS            where to save PNGs (path.delimiter separated)
 *   PINCONF_CHROMIUM          the browser (default /usr/bin/chromium)
 */
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { test, run, diag } = require('./tap');

const BASE = process.env.PINCONF_TEST_URL;
const DIAL_IN_BASE = process.env.PINCONF_TEST_DIAL_IN_URL;
const KEY = process.env.PINCONF_TEST_KEY;
const SECRET = process.env.PINCONF_TEST_SECRET;
const CHROMIUM = process.env.PINCONF_CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT_DIRS = (process.env.PINCONF_TEST_SCREENSHOT_DIRS || '')
	.split(path.delimiter).filter((dir) => dir !== '');

const PIN = '4321';
const JOIN = '/cgi-bin/join.cgi';
const MESSAGES = {
	sdkLoad: 'The calling service could not be loaded. Check your connection and reload the page.',
	unknownPin: 'No conference has that PIN, or it has ended.',
	microphone: 'Microphone access was denied. Allow it in the browser\'s site settings and try again.',
	nameMissing: 'Enter your name or e-mail address.',
	pinMissing: 'Enter the conference PIN.',
	pinDigits: 'The PIN is 4 to 8 digits, 0 to 9 only.'
};

/* Instruments every page before its scripts run: tones started, CSP violations. */
function instrumentPage() {
	const seen = { oscillators: [], cspViolations: [] };
	window.__pinconfTest = seen;
	document.addEventListener('securitypolicyviolation', (event) =>
		seen.cspViolations.push(event.violatedDirective + ' ' + event.blockedURI));
	const createOscillator = BaseAudioContext.prototype.createOscillator;
	BaseAudioContext.prototype.createOscillator = function () {
		const oscillator = createOscillator.call(this);
		const entry = { frequency: null, started: false, stopped: false };
		seen.oscillators.push(entry);
		const start = oscillator.start, stop = oscillator.stop;
		oscillator.start = function (...args) {
			entry.frequency = oscillator.frequency.value;
			entry.started = true;
			return start.apply(this, args);
		};
		oscillator.stop = function (...args) {
			entry.stopped = true;
			return stop.apply(this, args);
		};
		return oscillator;
	};
}

/* A fresh tab whose console errors, page errors, dialogs and ticket requests are kept. */
async function newPage(browser, { viewport } = {}) {
	const page = await browser.newPage();
	if (viewport)
		await page.setViewportSize(viewport);
	const seen = { consoleErrors: [], pageErrors: [], dialogs: [], ticketRequests: [] };
	page.on('console', (message) => {
		if (message.type() === 'error')
			seen.consoleErrors.push(message.text());
	});
	page.on('pageerror', (error) => seen.pageErrors.push(String(error)));
	page.on('dialog', (dialog) => {
		seen.dialogs.push(dialog.type() + ': ' + dialog.message());
		dialog.dismiss().catch(() => {});
	});
	page.on('request', (request) => {
		if (request.url().includes('/cgi-bin/getticket.cgi'))
			seen.ticketRequests.push(new URL(request.url()));
	});
	page.seen = seen;
	return page;
}

/* Open the join page and wait until the (fake) SDK has loaded. */
async function openJoin(page, { base = BASE, query = '', waitForSdk = true } = {}) {
	/* "load" waits for the SDK script too, which a test may hold back. */
	const response = await page.goto(base + JOIN + query, { waitUntil: 'domcontentloaded' });
	assert.equal(response.status(), 200, 'join.cgi answers 200');
	if (waitForSdk)
		await page.waitForFunction(() => window.fakeSinch !== undefined && window.SinchClient !== undefined);
	return response;
}

async function fillAndJoin(page, name, pin) {
	await page.fill('#name', name);
	await page.fill('#pin', pin);
	await page.click('#join');
}

/* Join and wait until the call is placed and shown. */
async function joinCall(page, name, pin = PIN) {
	const calls = await fake(page, () => fakeSinch.calledIds.length);
	await fillAndJoin(page, name, pin);
	await page.waitForFunction((n) => fakeSinch.calledIds.length > n, calls);
	await page.waitForSelector('#in-call', { state: 'visible' });
}

/* Hang up and wait for the form to come back. */
async function hangUp(page) {
	await page.click('#hangup');
	await page.waitForSelector('#join-form', { state: 'visible' });
}

/* Evaluate in the page (the fake SDK lives there). */
function fake(page, fn, arg) {
	return page.evaluate(fn, arg);
}

const text = (page, selector) => page.locator(selector).textContent();
const isHidden = (page, selector) => page.locator(selector).evaluate((el) => el.hidden);

async function waitForError(page) {
	await page.waitForSelector('#error', { state: 'visible' });
	return text(page, '#error');
}

async function screenshot(page, name) {
	for (const dir of SCREENSHOT_DIRS) {
		fs.mkdirSync(dir, { recursive: true });
		await page.screenshot({ path: path.join(dir, name), fullPage: true });
	}
}

/* HMAC-SHA256 of the ticket's JSON under the application secret, base64. */
function ticketMac(json) {
	return crypto.createHmac('sha256', Buffer.from(SECRET, 'base64')).update(json, 'utf8').digest('base64');
}

function noProblemsSeen(page) {
	assert.deepEqual(page.seen.pageErrors, [], 'no uncaught errors in the page');
	assert.deepEqual(page.seen.dialogs, [], 'no alert, confirm or prompt');
}

/* ------------------------------------------------------------- the page */

test('the join page labels its name and PIN fields and has a Join conference button', async ({ browser }) => {
	const page = await newPage(browser);
	const response = await openJoin(page);
	assert.match(response.headers()['content-security-policy'] || '', /script-src 'self'/);
	assert.equal(await page.title(), 'Join a conference');
	assert.equal(await page.getByLabel('Name or e-mail').getAttribute('id'), 'name');
	assert.equal(await page.getByLabel('Conference PIN').getAttribute('id'), 'pin');
	assert.ok(await page.getByRole('button', { name: 'Join conference' }).isVisible());
	assert.ok(await isHidden(page, '#in-call'), 'the call panel starts hidden');
	assert.ok(await isHidden(page, '#error'), 'no error shown');
	assert.equal(await page.locator('main').evaluate((main) => getComputedStyle(main).borderTopLeftRadius),
		'12px', 'pinconf.css is applied (served as text/css)');
	await page.close();
});

test('the join page has no dial-in link when no numbers are configured', async ({ browser }) => {
	const page = await newPage(browser);
	await openJoin(page);
	assert.equal(await page.locator('#dial-in-link').count(), 0);
	assert.equal(await page.locator('#dial-in').count(), 0);
	await page.close();
});

test('the dial-in link opens a dialog listing the numbers; Close and Escape close it', async ({ browser }) => {
	const page = await newPage(browser, { viewport: { width: 720, height: 580 } });
	await openJoin(page, { base: DIAL_IN_BASE, query: '?pin=' + PIN });
	await screenshot(page, 'join.png');
	const dialogOpen = () => page.locator('#dial-in').evaluate((dialog) => dialog.open);
	assert.equal(await dialogOpen(), false, 'closed at first');
	await page.click('#dial-in-link');
	assert.equal(await dialogOpen(), true, 'the link opens it');
	assert.ok(await page.locator('#dial-in').evaluate((dialog) => dialog.matches(':modal')), 'as a modal');
	assert.equal((await text(page, '#dial-in li')).trim(), 'Sweden: +46850551234');
	assert.equal(await page.locator('#dial-in a').getAttribute('href'), 'tel:+46850551234');
	await screenshot(page, 'dial-in.png');
	await page.click('#dial-in-close');
	assert.equal(await dialogOpen(), false, 'Close closes it');
	assert.equal(await page.evaluate(() => document.activeElement.id), 'dial-in-link', 'focus returns to the link');
	await page.click('#dial-in-link');
	assert.equal(await dialogOpen(), true, 'it opens again');
	await page.keyboard.press('Escape');
	assert.equal(await dialogOpen(), false, 'Escape closes it');
	noProblemsSeen(page);
	await page.close();
});

test('without JavaScript the page shows the dial-in numbers beside its notice', async ({ browser }) => {
	const page = await newPage(browser);
	const cdp = await browser.newCDPSession(page);
	await cdp.send('Emulation.setScriptExecutionDisabled', { value: true });
	await openJoin(page, { base: DIAL_IN_BASE, waitForSdk: false });
	assert.match(await text(page, 'noscript p'), /needs JavaScript/);
	/* Wait for the state, not just look: the stylesheet may still be on its way. */
	const visible = async (selector, what) => {
		try {
			await page.locator(selector).waitFor({ state: 'visible', timeout: 5000 });
		} catch (error) {
			assert.fail(what);
		}
	};
	await visible('noscript p', 'the notice shows');
	await visible('#dial-in', 'the numbers show without opening the dialog');
	await visible('#dial-in a[href="tel:+46850551234"]', 'the number is a tel: link');
	assert.ok(await page.locator('#dial-in-link').isHidden(), 'no link that needs JavaScript');
	await page.close();
});

test('?pin=4321 fills in the PIN field', async ({ browser }) => {
	const page = await newPage(browser);
	await openJoin(page, { query: '?pin=4321' });
	assert.equal(await page.inputValue('#pin'), '4321');
	assert.equal(await page.inputValue('#name'), '');
	await page.close();
});

test('the join page and the call panel fit a 320 px wide screen without sideways scrolling', async ({ browser }) => {
	const page = await newPage(browser, { viewport: { width: 320, height: 640 } });
	await openJoin(page, { base: DIAL_IN_BASE });
	const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
	assert.ok(await overflow() <= 0, 'join form fits');
	await joinCall(page, 'someone.with.a.long.address@example.com');
	await fake(page, () => { fakeSinch.progress(); fakeSinch.establish(); });
	assert.ok(await overflow() <= 0, 'call panel fits');
	await hangUp(page);
	assert.ok(await overflow() <= 0, 'call log fits');
	await page.close();
});

/* ------------------------------------------------------------- the form */

test('empty fields block joining with the form\'s messages and ask nothing of the server', async ({ browser }) => {
	const page = await newPage(browser);
	await openJoin(page);
	await page.fill('#pin', '');
	await page.click('#join');
	const validity = await page.evaluate(() => ['name', 'pin'].map((id) => {
		const input = document.getElementById(id);
		return { valid: input.validity.valid, message: input.validationMessage,
			shown: document.getElementById(id + '-message').textContent,
			invalid: input.getAttribute('aria-invalid') };
	}));
	assert.deepEqual(validity, [
		{ valid: false, message: MESSAGES.nameMissing, shown: MESSAGES.nameMissing, invalid: 'true' },
		{ valid: false, message: MESSAGES.pinMissing, shown: MESSAGES.pinMissing, invalid: 'true' }
	]);
	await page.fill('#name', 'Ada');
	assert.equal(await page.evaluate(() => document.getElementById('name').validity.valid), true,
		'typing clears the name\'s message');
	assert.ok(await page.locator('#name-message').isHidden());
	await page.fill('#name', '   ');
	await page.click('#join');
	assert.equal(await page.evaluate(() => document.getElementById('name').validationMessage),
		MESSAGES.nameMissing, 'spaces are no name');
	assert.equal(page.seen.ticketRequests.length, 0, 'no ticket requested');
	assert.equal(await fake(page, () => fakeSinch.clients.length), 0, 'no SinchClient made');
	noProblemsSeen(page);
	await page.close();
});

test('a PIN with letters or too few digits is refused before any request', async ({ browser }) => {
	const page = await newPage(browser);
	await openJoin(page);
	for (const pin of ['12ab', '123', '12 34', '\u0661\u0662\u0663\u0664']) {
		await fillAndJoin(page, 'Ada', pin);
		assert.equal(await page.evaluate(() => document.getElementById('pin').validationMessage),
			MESSAGES.pinDigits, `PIN ${pin} refused`);
		assert.equal(await text(page, '#pin-message'), MESSAGES.pinDigits);
	}
	assert.equal(page.seen.ticketRequests.length, 0, 'no ticket requested');
	await page.fill('#pin', '4321 ');
	await page.click('#join');
	await page.waitForFunction(() => fakeSinch.calledIds.length === 1);
	assert.equal(page.seen.ticketRequests.length, 1, 'a valid PIN (spaces trimmed) is sent');
	assert.equal(page.seen.ticketRequests[0].searchParams.get('pin'), PIN);
	await page.close();
});

/* ------------------------------------------------------------- a whole call */

test('joining sends the typed name and PIN to getticket and starts one SinchClient with Sinch\'s ticket', async (fixture) => {
	const page = fixture.callPage = await newPage(fixture.browser, { viewport: { width: 720, height: 580 } });
	await openJoin(page);
	await joinCall(page, 'Ada Lovelace', PIN);
	const [request] = page.seen.ticketRequests;
	assert.equal(request.searchParams.get('id'), 'Ada Lovelace');
	assert.equal(request.searchParams.get('pin'), PIN);
	const sinch = await fake(page, () => ({
		clients: fakeSinch.clients, tickets: fakeSinch.tickets, json: fakeSinch.ticketJson,
		decoded: fakeSinch.decodedTickets, problems: fakeSinch.ticketProblems,
		calledIds: fakeSinch.calledIds, listeners: fakeSinch.listenersAdded
	}));
	assert.deepEqual(sinch.clients, [{ applicationKey: KEY, capabilities: { calling: true },
		startActiveConnection: false, onLogMessage: 'function' }]);
	assert.deepEqual(sinch.problems, [], 'the ticket has Sinch\'s format');
	const ticket = sinch.decoded[0];
	assert.deepEqual(Object.keys(ticket), ['applicationKey', 'identity', 'created', 'expiresIn']);
	assert.equal(ticket.applicationKey, KEY);
	assert.deepEqual(ticket.identity, { type: 'username', endpoint: 'Ada Lovelace' });
	assert.match(ticket.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/);
	assert.ok(Number.isInteger(ticket.expiresIn) && ticket.expiresIn > 0);
	assert.equal(sinch.tickets[0], Buffer.from(sinch.json[0]).toString('base64') + ':' + ticketMac(sinch.json[0]),
		'the ticket is signed with the application secret');
	assert.deepEqual(sinch.calledIds, [PIN], 'the conference called is the PIN');
	assert.equal(sinch.listeners, 1);
	assert.equal(await isHidden(page, '#join-form'), true, 'the form is hidden');
	assert.equal(await text(page, '#call-state'), 'Connecting');
});

test('a progressing call shows Ringing and plays a 425 Hz ringback tone', async ({ callPage: page }) => {
	await fake(page, () => fakeSinch.progress());
	assert.equal(await text(page, '#call-state'), 'Ringing');
	assert.match(await text(page, '#status'), /Ringing/);
	const tones = await page.evaluate(() => __pinconfTest.oscillators);
	assert.deepEqual(tones, [{ frequency: 425, started: true, stopped: false }]);
});

test('an established call shows Connected, plays the remote stream and the timer passes 00:00:01', async ({ callPage: page }) => {
	await fake(page, () => fakeSinch.establish());
	assert.equal(await text(page, '#call-state'), 'Connected');
	assert.match(await text(page, '#status'), /Connected/);
	const ringback = await page.evaluate(() => __pinconfTest.oscillators.find((o) => o.frequency === 425));
	assert.equal(ringback.stopped, true, 'the ringback stopped');
	assert.equal(await page.evaluate(() => {
		const audio = document.getElementById('remote-audio');
		return audio.srcObject === fakeSinch.currentCall().incomingStreamURL && audio.srcObject instanceof MediaStream;
	}), true, 'the audio element plays the call\'s MediaStream');
	await page.waitForTimeout(2200);
	const timer = await text(page, '#timer');
	assert.match(timer, /^00:00:0[23]$/, 'timer after 2.2 s');
	await screenshot(page, 'in-call.png');
});

test('Mute mutes the call, reads Unmute and is pressed', async ({ callPage: page }) => {
	await page.click('#mute');
	assert.equal(await page.getAttribute('#mute', 'aria-pressed'), 'true');
	assert.equal(await text(page, '#mute'), 'Unmute');
	assert.deepEqual(await fake(page, () => [fakeSinch.muteCalls, fakeSinch.currentCall().muted]), [1, true]);
	assert.match(await text(page, '#status'), /muted/);
});

test('Unmute unmutes the call, reads Mute and is not pressed', async ({ callPage: page }) => {
	await page.click('#mute');
	assert.equal(await page.getAttribute('#mute', 'aria-pressed'), 'false');
	assert.equal(await text(page, '#mute'), 'Mute');
	assert.deepEqual(await fake(page, () => [fakeSinch.unmuteCalls, fakeSinch.currentCall().muted]), [1, false]);
});

test('Hang up brings the form back, focuses Join and logs the call with PIN, cause and duration', async ({ callPage: page }) => {
	await hangUp(page);
	assert.equal(await fake(page, () => fakeSinch.hangupCalls), 1);
	assert.equal(await isHidden(page, '#in-call'), true);
	assert.equal(await page.evaluate(() => document.activeElement.id), 'join');
	const entries = await page.locator('#call-log li').evaluateAll((items) => items.map((li) => ({
		name: li.querySelector('.log-name').textContent,
		pin: li.querySelector('.log-pin').textContent,
		cause: li.querySelector('.log-cause').textContent,
		duration: li.querySelector('.log-duration').textContent,
		rawCause: li.dataset.cause,
		time: li.querySelector('time').dateTime
	})));
	assert.equal(entries.length, 1);
	const [entry] = entries;
	assert.equal(entry.name, 'Ada Lovelace');
	assert.equal(entry.pin, 'PIN 4321');
	assert.equal(entry.cause, 'hung up');
	assert.equal(entry.rawCause, 'HUNG_UP');
	assert.match(entry.duration, /^00:00:0[2-4]$/);
	assert.ok(Math.abs(Date.parse(entry.time) - Date.now()) < 60000, 'logged now');
	assert.equal(await page.evaluate(() => document.getElementById('remote-audio').srcObject), null,
		'the remote audio is released');
	assert.match(await text(page, '#status'), /ended/);
	assert.equal(await isHidden(page, '#error'), true);
});

test('a second join reuses the same SinchClient', async ({ callPage: page }) => {
	await page.click('#join');
	await page.waitForFunction(() => fakeSinch.calledIds.length === 2);
	assert.equal(page.seen.ticketRequests.length, 2, 'the PIN is checked again');
	assert.deepEqual(await fake(page, () => [fakeSinch.clients.length, fakeSinch.starts]), [1, 1]);
	await fake(page, () => { fakeSinch.progress(); fakeSinch.establish(); });
	await hangUp(page);
	assert.equal(await page.locator('#call-log li').count(), 2);
});

test('the happy path logs no console errors, page errors or CSP violations', async ({ callPage: page }) => {
	assert.deepEqual(page.seen.consoleErrors, []);
	assert.deepEqual(page.seen.pageErrors, []);
	assert.deepEqual(await page.evaluate(() => __pinconfTest.cspViolations), []);
	assert.deepEqual(page.seen.dialogs, []);
	await page.close();
});

/* ------------------------------------------------------------- failures */

test('an unknown PIN says no conference has it and places no call', async ({ browser }) => {
	const page = await newPage(browser);
	await openJoin(page);
	await fillAndJoin(page, 'Ada', '9999');
	assert.equal(await waitForError(page), MESSAGES.unknownPin);
	assert.deepEqual(await fake(page, () => [fakeSinch.clients.length, fakeSinch.calledIds.length]), [0, 0]);
	assert.equal(await isHidden(page, '#join-form'), false);
	assert.equal(await page.locator('#join').isEnabled(), true);
	noProblemsSeen(page);
	await page.close();
});

test('a failing SDK start is shown, and a retry reuses the same client', async ({ browser }) => {
	const page = await newPage(browser);
	await openJoin(page);
	await fake(page, () => fakeSinch.failNextStart({ message: 'Authentication failed' }));
	await fillAndJoin(page, 'Ada', PIN);
	assert.equal(await waitForError(page), 'The calling service did not start (Authentication failed).');
	assert.equal(await fake(page, () => fakeSinch.calledIds.length), 0, 'no call placed');
	assert.equal(await isHidden(page, '#join-form'), false);
	await page.click('#join');
	await page.waitForFunction(() => fakeSinch.calledIds.length === 1);
	assert.equal(await isHidden(page, '#error'), true, 'the error is cleared');
	assert.deepEqual(await fake(page, () => [fakeSinch.clients.length, fakeSinch.starts]), [1, 2]);
	noProblemsSeen(page);
	await page.close();
});

test('a call that ends with an error says so in plain words and logs it', async ({ browser }) => {
	const page = await newPage(browser);
	await openJoin(page);
	await joinCall(page, 'Ada');
	await fake(page, () => { fakeSinch.progress(); fakeSinch.end('FAILURE', { message: 'Network connection lost', code: 40003 }); });
	assert.equal(await waitForError(page), 'The call failed (Network connection lost).');
	assert.equal(await text(page, '#call-log .log-cause'), 'failure');
	assert.equal(await isHidden(page, '#join-form'), false);
	assert.equal(await page.evaluate(() => __pinconfTest.oscillators.every((o) => o.stopped)), true,
		'the ringback stopped');
	noProblemsSeen(page);
	await page.close();
});

test('a denied microphone is explained, whether start or the call reports it', async ({ browser }) => {
	const page = await newPage(browser);
	await openJoin(page);
	await fake(page, () => fakeSinch.failNextStart({ name: 'NotAllowedError', message: 'Permission denied' }));
	await fillAndJoin(page, 'Ada', PIN);
	assert.equal(await waitForError(page), MESSAGES.microphone);
	await page.click('#join');
	await page.waitForSelector('#in-call', { state: 'visible' });
	await fake(page, () => fakeSinch.end('FAILURE', { name: 'NotAllowedError', message: 'Permission denied by user' }));
	assert.equal(await waitForError(page), MESSAGES.microphone);
	await page.close();
});

test('a failing callConference is shown and the form stays', async ({ browser }) => {
	const page = await newPage(browser);
	await openJoin(page);
	await fake(page, () => fakeSinch.failNextCall({ message: 'Conference id not valid' }));
	await fillAndJoin(page, 'Ada', PIN);
	assert.equal(await waitForError(page), 'The call could not be placed (Conference id not valid).');
	assert.equal(await isHidden(page, '#join-form'), false);
	assert.equal(await isHidden(page, '#in-call'), true);
	noProblemsSeen(page);
	await page.close();
});

test('remote audio given as incomingStreamURL plays through the audio element\'s src', async ({ browser }) => {
	const page = await newPage(browser);
	await openJoin(page);
	await fake(page, () => fakeSinch.useRemoteAudio('url'));
	await joinCall(page, 'Ada');
	await fake(page, () => fakeSinch.establish());
	const audio = await page.evaluate(() => {
		const element = document.getElementById('remote-audio');
		return { src: element.src, srcObject: element.srcObject, url: fakeSinch.currentCall().incomingStreamURL };
	});
	assert.match(audio.src, /^blob:/);
	assert.equal(audio.src, audio.url);
	assert.equal(audio.srcObject, null);
	await hangUp(page);
	assert.deepEqual(await page.evaluate(() => __pinconfTest.cspViolations), [], 'the CSP allows it');
	noProblemsSeen(page);
	await page.close();
});

test('an SDK script that fails to load is reported, also when joining', async ({ browser }) => {
	const page = await newPage(browser);
	await page.route('**/fake-sinch.js', (route) => route.abort());
	await openJoin(page, { waitForSdk: false });
	assert.equal(await waitForError(page), MESSAGES.sdkLoad);
	await fillAndJoin(page, 'Ada', PIN);
	await page.waitForFunction(() => document.getElementById('join').disabled === false &&
		document.getElementById('status').textContent.startsWith('Could not join'));
	assert.equal(await text(page, '#error'), MESSAGES.sdkLoad);
	assert.equal(await isHidden(page, '#in-call'), true);
	await page.close();
});

test('Join waits for an SDK that is still loading, then calls', async ({ browser }) => {
	const page = await newPage(browser);
	let release;
	const released = new Promise((resolve) => { release = resolve; });
	await page.route('**/fake-sinch.js', async (route) => { await released; await route.continue(); });
	await openJoin(page, { waitForSdk: false });
	await fillAndJoin(page, 'Ada', PIN);
	await page.waitForFunction(() => document.getElementById('status').textContent !== '');
	assert.equal(await page.evaluate(() => typeof window.SinchClient), 'undefined', 'SDK not loaded yet');
	assert.equal(await page.locator('#join').isDisabled(), true, 'Join is busy');
	await page.waitForTimeout(300);
	release();
	await page.waitForFunction(() => window.fakeSinch && fakeSinch.calledIds.length === 1);
	assert.equal(await isHidden(page, '#in-call'), false);
	assert.equal(await isHidden(page, '#error'), true);
	await page.close();
});

test('a name written as HTML stays text: no element, no alert', async ({ browser }) => {
	const page = await newPage(browser);
	const name = '<img src=x onerror=alert(1)>';
	await openJoin(page);
	await joinCall(page, name);
	assert.equal(await fake(page, () => fakeSinch.decodedTickets[0].identity.endpoint), name,
		'the ticket carries the name as typed');
	await fake(page, () => { fakeSinch.progress(); fakeSinch.establish(); });
	await hangUp(page);
	assert.equal(await text(page, '#call-log .log-name'), name);
	assert.match(await text(page, '#name-hint'), /Signed in as <img src=x/);
	await page.waitForTimeout(200);
	assert.equal(await page.locator('img').count(), 0, 'no <img> in the page');
	assert.deepEqual(page.seen.dialogs, [], 'no alert');
	assert.deepEqual(page.seen.pageErrors, []);
	await page.close();
});

/* Last: it locks this address out of the server for guess_window. */
test('too many wrong PINs asks to wait, in minutes', async ({ browser }) => {
	const page = await newPage(browser);
	await openJoin(page);
	let message = '';
	for (let attempt = 0; attempt < 5 && !message.startsWith('Too many'); attempt++) {
		const answered = page.waitForResponse((r) => r.url().includes('/cgi-bin/getticket.cgi'));
		await fillAndJoin(page, 'Mallory', '000' + attempt);
		const response = await answered;
		message = await waitForError(page);
		if (response.status() === 429)
			assert.ok(Number(response.headers()['retry-after']) > 0, 'Retry-After is given');
	}
	assert.match(message, /^Too many wrong PINs from this network\. Try again in ([1-9]|1[0-5]) minutes?\.$/);
	assert.equal(await fake(page, () => fakeSinch.calledIds.length), 0);
	await page.close();
});

/* ------------------------------------------------------------- running */

async function setup() {
	for (const [name, value] of Object.entries({ PINCONF_TEST_URL: BASE,
		PINCONF_TEST_DIAL_IN_URL: DIAL_IN_BASE, PINCONF_TEST_KEY: KEY, PINCONF_TEST_SECRET: SECRET }))
		if (!value)
			throw new Error(name + ' is not set: run through t/browser.t');
	const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pinconf-chromium-'));
	const browser = await chromium.launchPersistentContext(userDataDir, {
		executablePath: CHROMIUM,
		headless: true,
		args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync',
			'--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'],
		viewport: { width: 800, height: 700 },
		locale: 'en-GB',
		timezoneId: 'UTC'
	});
	browser.setDefaultTimeout(8000);
	await browser.addInitScript(instrumentPage);
	/* The persistent context opens a blank tab of its own. */
	for (const page of browser.pages())
		await page.close();
	return { browser, userDataDir };
}

async function teardown({ browser, userDataDir }) {
	await browser.close();
	fs.rmSync(userDataDir, { recursive: true, force: true });
}

run({ setup, teardown }).then((status) => { process.exitCode = status; }, (error) => {
	diag(error.stack || String(error));
	process.exitCode = 1;
});
