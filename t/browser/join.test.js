/* join.test.js: the join page in headless Chromium, served by the real
 * join.cgi, getticket.cgi, roster.cgi and callback.cgi, calling through the
 * fakes of Sinch's SDKs; every flow runs against both; prints TAP.
 *
 * Run by t/browser.t, which starts the servers and sets:
 *   PINCONF_TEST_URL          a server whose sinch_js_url is /fake-sinch-rtc.js (current SDK)
 *   PINCONF_TEST_LEGACY_URL   the same with /fake-sinch.js (legacy SDK)
 *   PINCONF_TEST_DIAL_IN_URL  the current one with dial-in number Sweden +46850551234
 *     each with conference PIN 4321 (attendee Anna Svensson: 5678), 5555 full,
 *     6666 locked, 7777 not started; guess_limit 3
 *   PINCONF_TEST_KEY, PINCONF_TEST_SECRET   the application key and secret of all
 *   PINCONF_TEST_SCREENSHOT_DIRS            where to save PNGs (path.delimiter separated)
 *   PINCONF_CHROMIUM          the browser (default /usr/bin/chromium)
 *
 * Parts (PINCONF_TEST_PART): page current legacy
 *   t/browser.t runs each part in a node of its own, at the same time:
 *   page: the page's own tests, which ask getticket only on the dial-in server;
 *   current, legacy: the flows with each SDK, each on its own server (the last
 *   of them locks this address out of it).  Unset, all run, one after the other.
 *
 * The page polls every ROSTER_MS: the tests that wait on it move the page's
 * clock on (Playwright's page.clock) rather than wait for it.
 */
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { test, run, diag } = require('./tap');
const { instrumentPage } = require('./instrument');

const KEY = process.env.PINCONF_TEST_KEY;
const SECRET = process.env.PINCONF_TEST_SECRET;
const CHROMIUM = process.env.PINCONF_CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT_DIRS = (process.env.PINCONF_TEST_SCREENSHOT_DIRS || '')
	.split(path.delimiter).filter((dir) => dir !== '');
const DIAL_IN_BASE = process.env.PINCONF_TEST_DIAL_IN_URL;
/* Chromium resolves this name to 127.0.0.1, so a page from it is not a secure context. */
const INSECURE_HOST = 'pinconf-insecure.test';

const PIN = '4321';
const PERSONAL_PIN = '5678';
const JOIN = '/cgi-bin/join.cgi';
const ENVIRONMENT = 'https://ocra.api.sinch.com';
const ROSTER_MS = 5000;
const MESSAGES = {
	sdkLoad: 'The calling service could not be loaded. Check your connection and reload the page.',
	microphone: 'Microphone access was denied. Allow it in the browser\'s site settings and try again.',
	name: 'Your name must be 1 to 64 printable characters.',
	pinMissing: 'Enter the conference PIN.',
	pinDigits: 'The PIN is 4 to 8 digits, 0 to 9 only.',
	insecure: 'This page was not opened over HTTPS, so the browser will not let it use your ' +
		'microphone. Open it with an https:// address (or as localhost on this computer).'
};

/* The two SDKs: where each is served and how its fake names end causes. */
const SDKS = [
	{ kind: 'current', base: process.env.PINCONF_TEST_URL, script: 'fake-sinch-rtc.js',
		hungUp: 5, failure: 4, hungUpRaw: '5', failureRaw: '4' },
	{ kind: 'legacy', base: process.env.PINCONF_TEST_LEGACY_URL, script: 'fake-sinch.js',
		hungUp: 'HUNG_UP', failure: 'FAILURE', hungUpRaw: 'HUNG_UP', failureRaw: 'FAILURE' }
];
const CURRENT = SDKS[0];
const PART = process.env.PINCONF_TEST_PART || '';
const PARTS = ['page', 'current', 'legacy'];
if (PART !== '' && !PARTS.includes(PART))
	throw new Error('PINCONF_TEST_PART is ' + PART + ', not one of ' + PARTS.join(', '));
const inPart = (part) => PART === '' || PART === part;

/* A fresh tab whose console errors, page errors, dialogs and CGI requests are kept;
 * with clock, its timers run on Playwright's clock (time still flows, and
 * page.clock.runFor() moves it on). */
async function newPage(browser, { viewport, clock = false } = {}) {
	const page = await browser.newPage();
	if (viewport)
		await page.setViewportSize(viewport);
	if (clock)
		await page.clock.install();
	const seen = { consoleErrors: [], pageErrors: [], dialogs: [], ticketRequests: [],
		ticketAnswers: [], rosterRequests: [] };
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
		const url = new URL(request.url());
		const entry = { url, method: request.method(),
			form: new URLSearchParams(request.postData() || '') };
		if (url.pathname === '/cgi-bin/getticket.cgi')
			seen.ticketRequests.push(entry);
		else if (url.pathname === '/cgi-bin/roster.cgi')
			seen.rosterRequests.push(entry);
	});
	page.on('response', async (response) => {
		if (!response.url().includes('/cgi-bin/getticket.cgi'))
			return;
		let body = null;
		try {
			body = await response.json();
		} catch (error) {
			body = null;
		}
		seen.ticketAnswers.push({ status: response.status(), body });
	});
	page.seen = seen;
	return page;
}

/* Open the join page and wait until the (fake) SDK has loaded. */
async function openJoin(page, { sdk = CURRENT, base = sdk.base, query = '', waitForSdk = true } = {}) {
	/* "load" waits for the SDK script too, which a test may hold back. */
	const response = await page.goto(base + JOIN + query, { waitUntil: 'domcontentloaded' });
	assert.equal(response.status(), 200, 'join.cgi answers 200');
	if (waitForSdk)
		await page.waitForFunction((kind) => window.fakeSinch !== undefined && fakeSinch.kind === kind, sdk.kind);
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

/* How many times the page has called roster.cgi (counted in the page, at the call). */
const rosterAsked = (page) =>
	page.evaluate(() => __pinconfTest.fetches.filter((f) => f.path === '/cgi-bin/roster.cgi').length);

/* Move the page's clock on 2.5 s at a time, at most ms, until fn(arg) holds in
 * the page; between steps the page's requests get the real time they take
 * (however loaded the machine), then a moment for what follows them. */
async function runClockUntil(page, fn, arg, ms) {
	for (let ran = 0; ; ran += 2500) {
		if (await page.evaluate(fn, arg))
			return ran;
		if (ran >= ms)
			throw new Error(`not within ${ms} ms of the page's time: ${fn}`);
		await page.clock.runFor(2500);
		await page.waitForFunction(() => __pinconfTest.fetches.every((f) => f.status !== null));
		await page.waitForFunction(fn, arg, { timeout: 300 }).catch(() => {});
	}
}

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

/* HMAC-SHA256 of the legacy ticket's JSON under the application secret, base64. */
function ticketMac(json) {
	return crypto.createHmac('sha256', Buffer.from(SECRET, 'base64')).update(json, 'utf8').digest('base64');
}

/* Verify a registration JWT as Sinch does (sinch-api.md 4b); returns its payload. */
function verifyJwt(jwt) {
	const [header, payload, signature] = jwt.split('.');
	const decoded = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
	const day = decoded.kid.replace(/^hkdfv1-/, '');
	const key = crypto.createHmac('sha256', Buffer.from(SECRET, 'base64')).update(day, 'utf8').digest();
	const expected = crypto.createHmac('sha256', key).update(header + '.' + payload).digest('base64url');
	assert.equal(signature, expected, 'the JWT is signed with the key derived for ' + day);
	return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
}

/* POST a form to a CGI as a script would (no Origin, no Sec-Fetch-Site). */
async function postForm(base, cgi, fields) {
	const response = await fetch(base + cgi, { method: 'POST', body: new URLSearchParams(fields) });
	let body = null;
	try {
		body = await response.json();
	} catch (error) {
		body = null;
	}
	return { status: response.status, body };
}

/* A callback signed as Sinch signs it (sinch-api.md section 3). */
async function sinchEvent(base, event) {
	const body = JSON.stringify(Object.assign({ timestamp: new Date().toISOString().slice(0, 19) + 'Z',
		version: 1, custom: '', applicationKey: KEY }, event));
	const contentType = 'application/json';
	const timestamp = new Date().toISOString();
	const callbackPath = '/cgi-bin/callback.cgi';
	const md5 = crypto.createHash('md5').update(body).digest('base64');
	const toSign = ['POST', md5, contentType, 'x-timestamp:' + timestamp, callbackPath].join('\n');
	const signature = crypto.createHmac('sha256', Buffer.from(SECRET, 'base64')).update(toSign, 'utf8')
		.digest('base64');
	const response = await fetch(base + callbackPath, { method: 'POST', body, headers: {
		'Content-Type': contentType, 'X-Timestamp': timestamp,
		Authorization: 'Application ' + KEY + ':' + signature } });
	const answer = await response.text();
	assert.equal(response.status, 200, event.event + ' answered ' + response.status + ': ' + answer);
	return answer === '' ? {} : JSON.parse(answer);
}

/* The ICE Sinch sends when the SDK places the call for the page's id; returns the callid. */
async function sinchSeesBrowserCall(base, userId, pin = PIN) {
	const callid = 'b' + crypto.randomBytes(8).toString('hex');
	await sinchEvent(base, { event: 'ice', callid, originationType: 'MXP', user: userId, cli: userId,
		domain: 'mxp', to: { type: 'conference', endpoint: pin } });
	return callid;
}

/* The DiCE Sinch sends when that call ends. */
function sinchSeesCallEnd(base, callid) {
	return sinchEvent(base, { event: 'dice', callid, reason: 'CALLERHANGUP', result: 'ANSWERED', duration: 3 });
}

function noProblemsSeen(page) {
	assert.deepEqual(page.seen.pageErrors, [], 'no uncaught errors in the page');
	assert.deepEqual(page.seen.dialogs, [], 'no alert, confirm or prompt');
}

/* The user id the page got from the last successful getticket answer. */
function lastIssuedId(page) {
	const answers = page.seen.ticketAnswers.filter((a) => a.status === 200 && a.body);
	return answers.length > 0 ? answers[answers.length - 1].body.userId : null;
}

/* ------------------------------------------------------------- the page */

/* The page's own tests: part page. */
function pageTest(...args) {
	if (inPart('page'))
		test(...args);
}

pageTest('the join page labels its fields, posts name and pin, and carries the SDK\'s settings', async ({ browser }) => {
	const page = await newPage(browser);
	await openJoin(page);
	assert.equal(await page.title(), 'Join a conference');
	assert.equal(await page.getByLabel('Your name').getAttribute('name'), 'name');
	assert.equal(await page.getByLabel('Conference PIN').getAttribute('name'), 'pin');
	assert.equal(await page.getAttribute('#join-form', 'method'), 'post');
	assert.equal(await page.getAttribute('#name', 'maxlength'), null, 'no maxlength counting UTF-16 units');
	assert.ok(await page.getByRole('button', { name: 'Join conference' }).isVisible());
	const data = await page.locator('#pinconf').evaluate((main) => Object.assign({}, main.dataset));
	assert.deepEqual(data, { applicationKey: KEY, sdkUrl: '/fake-sinch-rtc.js', environment: ENVIRONMENT,
		ticketUrl: '/cgi-bin/getticket.cgi', rosterUrl: '/cgi-bin/roster.cgi' });
	assert.equal(await page.getAttribute('#roster-list', 'aria-live'), 'polite');
	assert.ok(await isHidden(page, '#in-call'), 'the call panel starts hidden');
	assert.ok(await isHidden(page, '#error'), 'no error shown');
	assert.equal(await page.locator('main').evaluate((main) => getComputedStyle(main).borderTopLeftRadius),
		'12px', 'pinconf.css is applied (served as text/css)');
	await page.close();
});

pageTest('the CSP allows no inline script and lets the SDK connect to its environment host over https and wss', async ({ browser }) => {
	const page = await newPage(browser);
	const response = await openJoin(page);
	const csp = response.headers()['content-security-policy'] || '';
	const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/))
		.map(([name, ...sources]) => [name, sources]));
	assert.deepEqual(directives['script-src'], ['\'self\''], 'scripts: ours and the SDK\'s origin (ours here)');
	assert.ok(!/unsafe-inline|unsafe-eval|nonce-|sha256-/.test(csp), 'no inline script allowed: ' + csp);
	for (const source of ['\'self\'', ENVIRONMENT, 'https:', 'wss:'])
		assert.ok(directives['connect-src'].includes(source), 'connect-src has ' + source + ': ' + csp);
	assert.equal(await page.locator('script:not([src])').count(), 0, 'no inline script element');
	const fromElsewhere = await page.evaluate(async () => {
		try {
			await fetch('http://127.0.0.1:9/x');
			return 'allowed';
		} catch (error) {
			/* The violation event comes a little after the refusal: wait for it (a second at most). */
			for (let waited = 0; __pinconfTest.cspViolations.length === 0 && waited < 1000; waited += 20)
				await new Promise((resolve) => setTimeout(resolve, 20));
			return __pinconfTest.cspViolations.join(' ');
		}
	});
	assert.match(fromElsewhere, /connect-src/, 'plain http elsewhere is refused by the CSP');
	await page.close();
});

pageTest('the join page has no dial-in link when no numbers are configured', async ({ browser }) => {
	const page = await newPage(browser);
	await openJoin(page);
	assert.equal(await page.locator('#dial-in-link').count(), 0);
	assert.equal(await page.locator('#dial-in').count(), 0);
	await page.close();
});

pageTest('the dial-in link opens a dialog listing the numbers; Close and Escape close it', async ({ browser }) => {
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

pageTest('without JavaScript the page shows the dial-in numbers beside its notice', async ({ browser }) => {
	const page = await newPage(browser);
	const cdp = await browser.newCDPSession(page);
	await cdp.send('Emulation.setScriptExecutionDisabled', { value: true });
	await openJoin(page, { base: DIAL_IN_BASE, waitForSdk: false });
	assert.match(await text(page, 'noscript p'), /needs JavaScript/);
	/* Wait for the state, not just look: the stylesheet may still be on its way. */
	const visible = async (selector, what) => {
		try {
			await page.locator(selector).waitFor({ state: 'visible', timeout: 15000 });
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

pageTest('?pin=4321 fills in the PIN field', async ({ browser }) => {
	const page = await newPage(browser);
	await openJoin(page, { query: '?pin=4321' });
	assert.equal(await page.inputValue('#pin'), '4321');
	assert.equal(await page.inputValue('#name'), '');
	await page.close();
});

pageTest('the join page and the call panel fit a 320 px wide screen without sideways scrolling', async ({ browser }) => {
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

pageTest('an SDK script that fails to load is reported, also when joining', async ({ browser }) => {
	const page = await newPage(browser);
	await page.route('**/fake-sinch-rtc.js', (route) => route.abort());
	await openJoin(page, { base: DIAL_IN_BASE, waitForSdk: false });
	assert.equal(await waitForError(page), MESSAGES.sdkLoad);
	await fillAndJoin(page, 'Ada', PIN);
	await page.waitForFunction(() => document.getElementById('join').disabled === false &&
		document.getElementById('status').textContent.startsWith('Could not join'));
	assert.equal(await text(page, '#error'), MESSAGES.sdkLoad);
	assert.equal(await isHidden(page, '#in-call'), true);
	await page.close();
});

pageTest('Join waits for an SDK that is still loading, then calls', async ({ browser }) => {
	const page = await newPage(browser);
	let release;
	const released = new Promise((resolve) => { release = resolve; });
	await page.route('**/fake-sinch-rtc.js', async (route) => { await released; await route.continue(); });
	await openJoin(page, { base: DIAL_IN_BASE, waitForSdk: false });
	const answered = page.waitForResponse((r) => r.url().includes('/cgi-bin/getticket.cgi'));
	await fillAndJoin(page, 'Ada', PIN);
	await page.waitForFunction(() => document.getElementById('status').textContent !== '');
	/* The ticket is in: now only the SDK is missing. */
	assert.equal((await answered).status(), 200);
	assert.equal(await page.evaluate(() => typeof window.Sinch), 'undefined', 'SDK not loaded yet');
	assert.equal(await page.locator('#join').isDisabled(), true, 'Join is busy');
	release();
	await page.waitForFunction(() => window.fakeSinch && fakeSinch.calledIds.length === 1);
	// The panel shows once callConference has resolved: a moment after the fake counts the call.
	await page.waitForSelector('#in-call', { state: 'visible' });
	assert.equal(await isHidden(page, '#error'), true);
	await page.close();
});

pageTest('a script asking getticket and roster directly sees the server\'s name rule, word for word', async () => {
	const base = DIAL_IN_BASE;
	const cyrillic = 'Д'.repeat(33);
	const accepted = await postForm(base, '/cgi-bin/getticket.cgi', { name: cyrillic, pin: PIN });
	assert.equal(accepted.status, 200, '33 Cyrillic letters (66 bytes) are a name');
	assert.equal(accepted.body.name, cyrillic);
	for (const name of ['x'.repeat(65), 'Д'.repeat(65), '   ', 'Ada\u0007Lovelace']) {
		const refused = await postForm(base, '/cgi-bin/getticket.cgi', { name, pin: PIN });
		assert.equal(refused.status, 400, JSON.stringify(name) + ' is refused');
		assert.deepEqual(refused.body, { error: MESSAGES.name });
	}
	const outsider = await postForm(base, '/cgi-bin/roster.cgi', { userId: accepted.body.userId });
	assert.equal(outsider.status, 403, 'an id not in a call gets no roster');
});

/* ------------------------------------------------------------- flows, per SDK */

function flows(sdk) {
	const name = (sentence) => '[' + sdk.kind + ' SDK] ' + sentence;
	const callPage = 'callPage' + sdk.kind;

	test(name('not in a secure context the page says the microphone needs HTTPS and starts nothing'), async ({ browser }) => {
		const page = await newPage(browser);
		const base = sdk.base.replace('127.0.0.1', INSECURE_HOST);
		await openJoin(page, { sdk, base, waitForSdk: false });
		assert.equal(await page.evaluate(() => window.isSecureContext), false, 'the test page is not secure');
		assert.equal(await waitForError(page), MESSAGES.insecure);
		assert.equal(await page.locator('#join').isDisabled(), true, 'Join is off');
		/* A script the page added while starting would hold back the load event. */
		await page.waitForLoadState('load');
		assert.equal(await page.evaluate(() => typeof window.fakeSinch), 'undefined', 'no SDK loaded');
		assert.equal(await page.locator('script[src*="fake-sinch"]').count(), 0, 'no SDK script element');
		await page.close();
	});

	test(name('a name of 65 characters or a control character is refused with the server\'s sentence, 33 Cyrillic letters join'), async ({ browser }) => {
		const page = await newPage(browser);
		await openJoin(page, { sdk });
		for (const bad of ['x'.repeat(65), 'Ж'.repeat(65), 'Ada\tLovelace', '   ']) {
			await fillAndJoin(page, bad, PIN);
			assert.equal(await page.evaluate(() => document.getElementById('name').validationMessage),
				MESSAGES.name, JSON.stringify(bad) + ' refused');
			assert.equal(await text(page, '#name-message'), MESSAGES.name);
			assert.equal(await page.getAttribute('#name', 'aria-invalid'), 'true');
		}
		assert.equal(page.seen.ticketRequests.length, 0, 'no request for a broken name');
		const cyrillic = 'Ж'.repeat(33);
		await joinCall(page, cyrillic);
		assert.equal(page.seen.ticketAnswers[0].status, 200, 'the server takes it too');
		assert.ok(await page.locator('#name-message').isHidden(), 'the message went away');
		assert.match(await text(page, '#call-who'), new RegExp(cyrillic));
		await hangUp(page);
		noProblemsSeen(page);
		await page.close();
	});

	test(name('a PIN with letters or too few digits is refused before any request'), async ({ browser }) => {
		const page = await newPage(browser);
		await openJoin(page, { sdk });
		await page.fill('#pin', '');
		await page.fill('#name', 'Ada');
		await page.click('#join');
		assert.equal(await text(page, '#pin-message'), MESSAGES.pinMissing);
		for (const pin of ['12ab', '123', '12 34', '\u0661\u0662\u0663\u0664']) {
			await fillAndJoin(page, 'Ada', pin);
			assert.equal(await page.evaluate(() => document.getElementById('pin').validationMessage),
				MESSAGES.pinDigits, `PIN ${pin} refused`);
			assert.equal(await text(page, '#pin-message'), MESSAGES.pinDigits);
		}
		assert.equal(page.seen.ticketRequests.length, 0, 'no request');
		await page.fill('#pin', '4321 ');
		await page.click('#join');
		await page.waitForFunction(() => fakeSinch.calledIds.length === 1);
		assert.equal(page.seen.ticketRequests.length, 1, 'a valid PIN (spaces trimmed) is sent');
		assert.equal(page.seen.ticketRequests[0].form.get('pin'), PIN);
		await hangUp(page);
		await page.close();
	});

	/* ---- one whole call, test by test, on one page */

	test(name('joining POSTs name and PIN to getticket and starts a client for the id the server issued'), async (fixture) => {
		const page = fixture[callPage] = await newPage(fixture.browser, { viewport: { width: 720, height: 640 },
			clock: true });
		page.keep = true;	/* for the tests that follow, on the same call */
		await openJoin(page, { sdk });
		await joinCall(page, 'Ada Lovelace', PIN);
		assert.equal(page.seen.ticketRequests.length, 1);
		const [request] = page.seen.ticketRequests;
		assert.equal(request.method, 'POST');
		assert.equal(request.url.search, '', 'nothing in the URL');
		assert.deepEqual([...request.form.entries()], [['name', 'Ada Lovelace'], ['pin', PIN]]);
		const userId = lastIssuedId(page);
		assert.match(userId, /^u-[A-Za-z0-9_-]{16,}$/, 'the server issued an id');
		if (sdk.kind === 'current') {
			const seen = await fake(page, () => ({ builds: fakeSinch.builds, registrations: fakeSinch.registrations,
				problems: fakeSinch.jwtProblems, starts: fakeSinch.starts }));
			assert.deepEqual(seen.builds, [{ applicationKey: KEY, userId, environmentHost: ENVIRONMENT }]);
			assert.equal(seen.starts, 1);
			assert.deepEqual(seen.problems, [], 'the JWT has Sinch\'s shape');
			assert.equal(seen.registrations.length, 1, 'registered once, with the JWT in hand');
			const payload = verifyJwt(seen.registrations[0].jwt);
			assert.equal(payload.sub, '//rtc.sinch.com/applications/' + KEY + '/users/' + userId);
			assert.equal(seen.registrations[0].jwt, page.seen.ticketAnswers[0].body.jwt);
		} else {
			const seen = await fake(page, () => ({ clients: fakeSinch.clients, tickets: fakeSinch.tickets,
				json: fakeSinch.ticketJson, decoded: fakeSinch.decodedTickets, problems: fakeSinch.ticketProblems }));
			assert.deepEqual(seen.clients, [{ applicationKey: KEY, capabilities: { calling: true },
				startActiveConnection: false, onLogMessage: 'function' }]);
			assert.deepEqual(seen.problems, [], 'the ticket has Sinch\'s format');
			assert.deepEqual(seen.decoded[0].identity, { type: 'username', endpoint: userId });
			assert.equal(seen.tickets[0], Buffer.from(seen.json[0]).toString('base64') + ':' + ticketMac(seen.json[0]),
				'the ticket is signed with the application secret');
		}
		assert.deepEqual(await fake(page, () => fakeSinch.calledIds), [PIN], 'the conference called is the PIN');
		assert.equal(await fake(page, () => fakeSinch.listenersAdded), 1);
		assert.equal(await isHidden(page, '#join-form'), true, 'the form is hidden');
		assert.equal(await text(page, '#call-state'), 'Connecting');
		assert.equal(await text(page, '#call-who'), 'Weekly sync: you appear as Ada Lovelace.');
		page.sinchCallid = await sinchSeesBrowserCall(sdk.base, userId);
	});

	test(name('a progressing call shows Ringing and plays a 425 Hz ringback tone'), async (fixture) => {
		const page = fixture[callPage];
		await fake(page, () => fakeSinch.progress());
		assert.equal(await text(page, '#call-state'), 'Ringing');
		assert.match(await text(page, '#status'), /Ringing/);
		const tones = await page.evaluate(() => __pinconfTest.oscillators.filter((o) => o.frequency === 425));
		assert.deepEqual(tones, [{ frequency: 425, started: true, stopped: false }]);
	});

	test(name('an established call shows Connected, plays the call\'s stream and the timer passes 00:00:01'), async (fixture) => {
		const page = fixture[callPage];
		/* The page's clock stands still (a few seconds on) until the timer is read:
		 * a loaded machine must not move it on between two looks. */
		await page.clock.pauseAt(await page.evaluate(() => Date.now() + 5000));
		await fake(page, () => fakeSinch.establish());
		assert.equal(await text(page, '#call-state'), 'Connected');
		assert.match(await text(page, '#status'), /Connected/);
		const ringback = await page.evaluate(() => __pinconfTest.oscillators.find((o) => o.frequency === 425));
		assert.equal(ringback.stopped, true, 'the ringback stopped');
		assert.equal(await page.evaluate(() => {
			const audio = document.getElementById('remote-audio');
			const call = fakeSinch.currentCall();
			const stream = call.incomingStream || call.incomingStreamURL;
			return audio.srcObject === stream && audio.srcObject instanceof MediaStream;
		}), true, 'the audio element plays the call\'s MediaStream');
		/* On the page's clock: 1.5 s after connecting it reads 00:00:01, after 2.1 s 00:00:02. */
		await page.clock.runFor(1500);
		assert.equal(await text(page, '#timer'), '00:00:01', 'no sooner than 2 s after the call connected');
		await page.clock.runFor(600);
		assert.equal(await text(page, '#timer'), '00:00:02', 'and 00:00:02 after 2.1 s');
		/* The clock stays paused until Hang up below, so the call's logged
		 * length does not depend on how fast the machine runs the tests between. */
	});

	test(name('Mute mutes the call, reads Unmute and is pressed'), async (fixture) => {
		const page = fixture[callPage];
		await page.click('#mute');
		assert.equal(await page.getAttribute('#mute', 'aria-pressed'), 'true');
		assert.equal(await text(page, '#mute'), 'Unmute');
		assert.deepEqual(await fake(page, () => [fakeSinch.muteCalls, fakeSinch.currentCall().muted]), [1, true]);
		assert.match(await text(page, '#status'), /muted/);
	});

	test(name('Unmute unmutes the call, reads Mute and is not pressed'), async (fixture) => {
		const page = fixture[callPage];
		await page.click('#mute');
		assert.equal(await page.getAttribute('#mute', 'aria-pressed'), 'false');
		assert.equal(await text(page, '#mute'), 'Mute');
		assert.deepEqual(await fake(page, () => [fakeSinch.unmuteCalls, fakeSinch.currentCall().muted]), [1, false]);
	});

	test(name('Hang up brings the form back, focuses Join and logs the call with PIN, cause in words and duration'), async (fixture) => {
		const page = fixture[callPage];
		/* The SDK ends the call 10 ms after hangup(), on the page's paused clock: 2.11 s in all. */
		await page.click('#hangup');
		await page.clock.runFor(900);
		await page.waitForSelector('#join-form', { state: 'visible' });
		await page.clock.resume();
		await sinchSeesCallEnd(sdk.base, page.sinchCallid);
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
		assert.equal(entry.rawCause, sdk.hungUpRaw);
		assert.equal(entry.duration, '00:00:02');
		assert.ok(Math.abs(Date.parse(entry.time) - Date.now()) < 60000, 'logged now');
		assert.equal(await page.evaluate(() => document.getElementById('remote-audio').srcObject), null,
			'the remote audio is released');
		assert.match(await text(page, '#status'), /ended after 00:00:02 \(hung up\)/);
		assert.equal(await isHidden(page, '#error'), true);
	});

	test(name('a second join under another name gets a new id and a new client, and stops the old one'), async (fixture) => {
		const page = fixture[callPage];
		const firstId = lastIssuedId(page);
		await joinCall(page, 'Grace Hopper');
		const secondId = lastIssuedId(page);
		assert.notEqual(secondId, firstId, 'a new id');
		assert.equal(page.seen.ticketRequests[1].form.get('userId'), null, 'a new join, not a renewal');
		assert.deepEqual(await fake(page, () => [fakeSinch.userIds.length, fakeSinch.clientStops]), [2, 1],
			'two clients, the first stopped');
		assert.deepEqual(await fake(page, () => fakeSinch.userIds), [firstId, secondId]);
		assert.equal(await text(page, '#call-who'), 'Weekly sync: you appear as Grace Hopper.');
		const callid = await sinchSeesBrowserCall(sdk.base, secondId);
		await fake(page, () => { fakeSinch.progress(); fakeSinch.establish(); });
		await page.waitForFunction(() => document.querySelectorAll('#roster-list li').length === 1);
		assert.equal(await text(page, '#roster-list .roster-name'), 'Grace Hopper', 'the roster shows the new name');
		await hangUp(page);
		await sinchSeesCallEnd(sdk.base, callid);
		assert.equal(await page.locator('#call-log li').count(), 2);
		assert.equal(await text(page, '#call-log li:first-child .log-name'), 'Grace Hopper');
	});

	test(name('the happy path logs no console errors, page errors or CSP violations'), async (fixture) => {
		const page = fixture[callPage];
		assert.deepEqual(page.seen.consoleErrors, []);
		assert.deepEqual(page.seen.pageErrors, []);
		assert.deepEqual(await page.evaluate(() => __pinconfTest.cspViolations), []);
		assert.deepEqual(page.seen.dialogs, []);
		page.keep = false;
	});

	/* ---- the roster */

	test(name('in a call the roster lists who is in, phones masked, updates, and stops asking after the call'), async ({ browser }) => {
		const page = await newPage(browser, { clock: true });
		await openJoin(page, { sdk });
		await joinCall(page, 'Ada');
		const userId = lastIssuedId(page);
		const phoneCall = 'p' + crypto.randomBytes(8).toString('hex');
		/* What Sinch sends when the SDK places the call and when a phone dials in. */
		const browserCall = await sinchSeesBrowserCall(sdk.base, userId);
		await sinchEvent(sdk.base, { event: 'ice', callid: phoneCall, originationType: 'PSTN', cli: '46700000123',
			domain: 'pstn', to: { type: 'did', endpoint: '+14158544909' } });
		await sinchEvent(sdk.base, { event: 'pie', callid: phoneCall, menuResult: { menuId: 'main',
			type: 'sequence', value: PIN, inputMethod: 'dtmf' } });
		await fake(page, () => { fakeSinch.progress(); fakeSinch.establish(); });
		await page.waitForFunction(() => document.querySelectorAll('#roster-list li').length === 2);
		const roster = () => page.locator('#roster-list li').evaluateAll((items) => items.map((li) => ({
			name: li.querySelector('.roster-name').textContent, via: li.dataset.via })));
		const shown = await roster();
		assert.deepEqual(shown.map((p) => p.via).sort(), ['browser', 'phone']);
		assert.equal(shown.find((p) => p.via === 'browser').name, 'Ada');
		const phone = shown.find((p) => p.via === 'phone').name;
		assert.match(phone, /123$/, 'the last three digits show');
		assert.doesNotMatch(await text(page, '#roster'), /46700000|700000123/, 'the number is masked');
		assert.equal(page.seen.rosterRequests[0].method, 'POST');
		assert.deepEqual([...page.seen.rosterRequests[0].form.entries()], [['userId', userId]]);
		if (sdk.kind === 'current') {
			await page.waitForFunction(() => document.getElementById('timer').textContent !== '00:00:00');
			await screenshot(page, 'in-call.png');
		}
		/* The phone leaves: the next poll, within ROSTER_MS of the page's time, shows it. */
		await sinchEvent(sdk.base, { event: 'dice', callid: phoneCall, reason: 'CALLERHANGUP', result: 'ANSWERED',
			duration: 5, from: '46700000123', to: { type: 'did', endpoint: '+14158544909' } });
		const polled = await rosterAsked(page);
		await page.clock.runFor(ROSTER_MS);
		assert.ok(await rosterAsked(page) > polled, 'the page asks again within ROSTER_MS');
		await page.waitForFunction(() => document.querySelectorAll('#roster-list li').length === 1);
		assert.deepEqual(await roster(), [{ name: 'Ada', via: 'browser' }]);
		await hangUp(page);
		const asked = await rosterAsked(page);
		await page.clock.runFor(3 * ROSTER_MS);
		assert.equal(await rosterAsked(page), asked, 'no roster request after the call ended');
		assert.equal(page.seen.rosterRequests.length, asked, 'none reached the network either');
		await sinchSeesCallEnd(sdk.base, browserCall);
		noProblemsSeen(page);
		await page.close();
	});

	test(name('a roster answer of 403 stops the polling'), async ({ browser }) => {
		const page = await newPage(browser, { clock: true });
		await page.route('**/cgi-bin/roster.cgi', (route) => route.fulfill({ status: 403,
			contentType: 'application/json', body: '{"error":"You are not in this conference."}' }));
		await openJoin(page, { sdk });
		await joinCall(page, 'Ada');
		await fake(page, () => { fakeSinch.progress(); fakeSinch.establish(); });
		/* Once the 403 is in (the page has read it by the time this sees it), a minute of polls. */
		await page.waitForFunction(() => __pinconfTest.fetches.some((f) => f.path === '/cgi-bin/roster.cgi' &&
			f.status === 403));
		await page.clock.runFor(12 * ROSTER_MS);
		assert.equal(await rosterAsked(page), 1, 'asked once, then stopped');
		assert.equal(page.seen.rosterRequests.length, 1, 'one request reached the network');
		assert.equal(await page.locator('#roster-list li').count(), 0);
		assert.equal(await isHidden(page, '#in-call'), false, 'the call goes on');
		await hangUp(page);
		await page.close();
	});

	/* ---- credentials (the current SDK asks again; the legacy one never does) */

	if (sdk.kind === 'current') {
		test(name('when the SDK asks for credentials again the page fetches a fresh JWT for the same id'), async ({ browser }) => {
			const page = await newPage(browser);
			await openJoin(page, { sdk });
			await joinCall(page, 'Ada');
			const userId = lastIssuedId(page);
			const outcome = await fake(page, () => fakeSinch.requireCredentials().then(String));
			assert.equal(outcome, 'true', 'registered again');
			assert.equal(page.seen.ticketRequests.length, 2);
			assert.deepEqual([...page.seen.ticketRequests[1].form.entries()],
				[['name', 'Ada'], ['pin', PIN], ['userId', userId]], 'a renewal names the id');
			const registrations = await fake(page, () => fakeSinch.registrations);
			assert.equal(registrations.length, 2);
			assert.notEqual(registrations[1].jwt, registrations[0].jwt, 'a fresh token');
			const [first, second] = registrations.map((r) => verifyJwt(r.jwt));
			assert.equal(second.sub, first.sub, 'for the same user');
			assert.notEqual(second.nonce, first.nonce, 'with a new nonce');
			assert.deepEqual(await fake(page, () => [fakeSinch.userIds.length, fakeSinch.registerFailedCalls]), [1, 0]);
			await fake(page, () => fakeSinch.establish());
			await hangUp(page);
			noProblemsSeen(page);
			await page.close();
		});

		test(name('a refused renewal (403) calls registerFailed and the next join starts over with a new id'), async ({ browser }) => {
			const page = await newPage(browser);
			await page.route('**/cgi-bin/getticket.cgi', (route) => {
				if (new URLSearchParams(route.request().postData() || '').has('userId'))
					route.fulfill({ status: 403, contentType: 'application/json',
						body: '{"error":"This sign-in has expired."}' });
				else
					route.continue();
			});
			await openJoin(page, { sdk });
			await joinCall(page, 'Ada');
			const firstId = lastIssuedId(page);
			assert.match(await fake(page, () => fakeSinch.requireCredentials().then((o) => String(o))),
				/no credentials were given/);
			assert.equal(await fake(page, () => fakeSinch.registerFailedCalls), 1);
			await page.waitForFunction(() => /expired/.test(document.getElementById('status').textContent));
			await hangUp(page);
			await joinCall(page, 'Ada');
			const secondId = lastIssuedId(page);
			assert.notEqual(secondId, firstId, 'a new id');
			assert.equal(page.seen.ticketRequests[2].form.get('userId'), null, 'asked as a new join');
			assert.deepEqual(await fake(page, () => [fakeSinch.userIds.length, fakeSinch.clientStops]), [2, 1],
				'a new client; the old one stopped');
			await hangUp(page);
			await page.close();
		});

		test(name('onClientFailed at start is said in plain words and no call is placed'), async ({ browser }) => {
			const page = await newPage(browser);
			await openJoin(page, { sdk });
			await fake(page, () => fakeSinch.failNextStart({ message: 'Authentication failed', code: 40100 }));
			await fillAndJoin(page, 'Ada', PIN);
			assert.equal(await waitForError(page), 'The calling service did not start (SinchError: Authentication failed).');
			assert.equal(await fake(page, () => fakeSinch.calledIds.length), 0, 'no call placed');
			assert.equal(await isHidden(page, '#join-form'), false);
			await page.click('#join');
			await page.waitForFunction(() => fakeSinch.calledIds.length === 1);
			assert.equal(await isHidden(page, '#error'), true, 'the error is cleared');
			assert.deepEqual(await fake(page, () => [fakeSinch.userIds.length, fakeSinch.clientStops]), [2, 1]);
			await hangUp(page);
			noProblemsSeen(page);
			await page.close();
		});

		test(name('a JWT the SDK refuses fails the start with a clear message'), async ({ browser }) => {
			const page = await newPage(browser);
			await page.route('**/cgi-bin/getticket.cgi', async (route) => {
				const response = await route.fetch();
				const body = await response.json().catch(() => ({}));
				/* Keep header and payload; a signature of 3 bytes is no HMAC-SHA256. */
				if (typeof body.jwt === 'string')
					body.jwt = body.jwt.split('.').slice(0, 2).join('.') + '.AAAA';
				await route.fulfill({ response, json: body });
			});
			await openJoin(page, { sdk });
			await fillAndJoin(page, 'Ada', PIN);
			assert.match(await waitForError(page), /^The calling service did not start \(SinchError: invalid registration JWT/);
			assert.equal(await fake(page, () => fakeSinch.calledIds.length), 0);
			await page.close();
		});
	} else {
		test(name('a failing SDK start is shown, and a retry builds a new client'), async ({ browser }) => {
			const page = await newPage(browser);
			await openJoin(page, { sdk });
			await fake(page, () => fakeSinch.failNextStart({ message: 'Authentication failed' }));
			await fillAndJoin(page, 'Ada', PIN);
			assert.equal(await waitForError(page), 'The calling service did not start (Authentication failed).');
			assert.equal(await fake(page, () => fakeSinch.calledIds.length), 0, 'no call placed');
			await page.click('#join');
			await page.waitForFunction(() => fakeSinch.calledIds.length === 1);
			assert.equal(await isHidden(page, '#error'), true, 'the error is cleared');
			assert.deepEqual(await fake(page, () => [fakeSinch.clients.length, fakeSinch.starts, fakeSinch.clientStops]),
				[2, 2, 1]);
			await hangUp(page);
			noProblemsSeen(page);
			await page.close();
		});
	}

	/* ---- failures */

	test(name('a call that ends with an error says so in plain words and logs the cause in words'), async ({ browser }) => {
		const page = await newPage(browser);
		await openJoin(page, { sdk });
		await joinCall(page, 'Ada');
		await fake(page, (cause) => { fakeSinch.progress(); fakeSinch.end(cause, { message: 'Network connection lost', code: 40003 }); },
			sdk.failure);
		assert.match(await waitForError(page), /^The call failed \((SinchError: )?Network connection lost\)\.$/);
		assert.equal(await text(page, '#call-log .log-cause'), 'failure');
		assert.equal(await page.getAttribute('#call-log li', 'data-cause'), sdk.failureRaw);
		assert.equal(await isHidden(page, '#join-form'), false);
		assert.equal(await page.evaluate(() => __pinconfTest.oscillators.every((o) => o.stopped)), true,
			'the ringback stopped');
		noProblemsSeen(page);
		await page.close();
	});

	test(name('every end cause reads as words in the call log'), async ({ browser }) => {
		const page = await newPage(browser);
		await openJoin(page, { sdk });
		const causes = sdk.kind === 'current' ?
			[[1, 'timeout'], [2, 'denied'], [3, 'no answer'], [6, 'canceled'], [8, 'inactive']] :
			[['TIMEOUT', 'timeout'], ['DENIED', 'denied'], ['NO_ANSWER', 'no answer'], ['CANCELED', 'canceled']];
		for (const [cause, words] of causes) {
			await joinCall(page, 'Ada');
			await fake(page, (c) => fakeSinch.end(c), cause);
			await page.waitForSelector('#join-form', { state: 'visible' });
			assert.equal(await text(page, '#call-log li:first-child .log-cause'), words, String(cause));
		}
		await page.close();
	}, { timeout: 60000 });

	test(name('a denied microphone is explained'), async ({ browser }) => {
		const page = await newPage(browser);
		await openJoin(page, { sdk });
		await fake(page, () => fakeSinch.failNextStart({ name: 'NotAllowedError', message: 'Permission denied' }));
		await fillAndJoin(page, 'Ada', PIN);
		assert.equal(await waitForError(page), MESSAGES.microphone);
		await page.close();
	});

	test(name('a failing callConference is shown and the form stays'), async ({ browser }) => {
		const page = await newPage(browser);
		await openJoin(page, { sdk });
		await fake(page, () => fakeSinch.failNextCall({ message: 'Conference id not valid' }));
		await fillAndJoin(page, 'Ada', PIN);
		assert.match(await waitForError(page), /^The call could not be placed \((SinchError: )?Conference id not valid\)\.$/);
		assert.equal(await isHidden(page, '#join-form'), false);
		assert.equal(await isHidden(page, '#in-call'), true);
		noProblemsSeen(page);
		await page.close();
	});

	test(name('a personal PIN shows the attendee\'s name from the server, whatever was typed'), async ({ browser }) => {
		const page = await newPage(browser);
		await openJoin(page, { sdk });
		await joinCall(page, 'Ann', PERSONAL_PIN);
		assert.equal(page.seen.ticketAnswers[0].body.name, 'Anna Svensson');
		assert.equal(await text(page, '#call-who'), 'Weekly sync: you appear as Anna Svensson.');
		assert.deepEqual(await fake(page, () => fakeSinch.calledIds), [PERSONAL_PIN], 'the call goes to the PIN');
		await hangUp(page);
		assert.equal(await text(page, '#call-log .log-name'), 'Anna Svensson');
		await page.close();
	});

	for (const [pin, status, what, pattern] of [['5555', 409, 'full', /full/i], ['6666', 409, 'locked', /locked/i],
		['7777', 404, 'not started', /starts on/i]]) {
		test(name(`a ${what} conference shows the server's sentence and places no call`), async ({ browser }) => {
			const page = await newPage(browser);
			await openJoin(page, { sdk });
			await fillAndJoin(page, 'Ada', pin);
			const message = await waitForError(page);
			const [answer] = page.seen.ticketAnswers;
			assert.equal(answer.status, status);
			assert.equal(message, answer.body.error, 'the server\'s words, as they are');
			assert.match(message, pattern);
			assert.equal(await fake(page, () => fakeSinch.calledIds.length), 0);
			assert.equal(await page.locator('#join').isEnabled(), true);
			await page.close();
		});
	}

	test(name('an answer that is not JSON falls back to a plain sentence by status'), async ({ browser }) => {
		const page = await newPage(browser);
		let status = 503;
		await page.route('**/cgi-bin/getticket.cgi', (route) => route.fulfill({ status, contentType: 'text/html',
			body: '<h1>Service Unavailable</h1>' }));
		await openJoin(page, { sdk });
		await fillAndJoin(page, 'Ada', PIN);
		assert.equal(await waitForError(page), 'The conference service is unavailable. Try again later.');
		status = 409;
		await page.click('#join');
		await page.waitForFunction(() => /full or locked/.test(document.getElementById('error').textContent));
		assert.equal(await page.locator('#error *').count(), 0, 'text, not markup');
		await page.close();
	});

	test(name('a name written as HTML stays text: no element, no alert'), async ({ browser }) => {
		const page = await newPage(browser);
		const html = '<img src=x onerror=alert(1)>';
		await openJoin(page, { sdk });
		await joinCall(page, html);
		await fake(page, () => { fakeSinch.progress(); fakeSinch.establish(); });
		await hangUp(page);
		assert.equal(await text(page, '#call-log .log-name'), html);
		/* No element, so nothing that could load and run onerror later. */
		assert.equal(await page.locator('img, [onerror]').count(), 0, 'no <img> in the page');
		noProblemsSeen(page);
		await page.close();
	});

	test(name('an unknown PIN shows the server\'s sentence and places no call'), async ({ browser }) => {
		const page = await newPage(browser);
		await openJoin(page, { sdk });
		await fillAndJoin(page, 'Ada', '9999');
		const message = await waitForError(page);
		assert.equal(page.seen.ticketAnswers[0].status, 404);
		assert.equal(message, page.seen.ticketAnswers[0].body.error);
		assert.ok(message.length > 10);
		assert.deepEqual(await fake(page, () => [fakeSinch.userIds.length, fakeSinch.calledIds.length]), [0, 0]);
		noProblemsSeen(page);
		await page.close();
	});

	test(name('a conference that waits for its host: the page waits, then calls once the host is in'), async ({ browser }) => {
		const page = await newPage(browser, { clock: true });
		await openJoin(page, { sdk });
		await fillAndJoin(page, 'Wanda', '4455');
		await page.waitForFunction(() => document.getElementById('pinconf').dataset.waiting === 'host');
		assert.equal(await text(page, '#join'), 'Waiting for the host…');
		const userId = lastIssuedId(page);
		assert.equal(page.seen.ticketAnswers[0].body.waitForHost, true, 'getticket says to wait');
		/* A call that came anyway is refused with the same words. */
		const refused = await sinchEvent(sdk.base, { event: 'ice', callid: 'r' + crypto.randomBytes(8).toString('hex'),
			originationType: 'MXP', user: userId, cli: userId, to: { type: 'conference', endpoint: '4455' } });
		assert.deepEqual([refused.instructions[0].text, refused.action.name],
			['The host has not joined yet.', 'hangup'], 'a call placed anyway is refused, saying why');
		/* Two more polls of the page's time without a host: still no call. */
		const asked = await rosterAsked(page);
		await runClockUntil(page, (n) => __pinconfTest.fetches.filter((f) => f.path === '/cgi-bin/roster.cgi' &&
			f.status !== null).length >= n + 2, asked, 3 * ROSTER_MS);
		assert.equal(await fake(page, () => fakeSinch.calledIds.length), 0, 'no call while no host is in');
		/* The host joins by phone. */
		const host = 'h' + crypto.randomBytes(8).toString('hex');
		await sinchEvent(sdk.base, { event: 'ice', callid: host, originationType: 'PSTN', cli: '+46700000077',
			to: { type: 'did', endpoint: '+46850551234' } });
		const answer = await sinchEvent(sdk.base, { event: 'pie', callid: host,
			menuResult: { menuId: 'main', type: 'sequence', value: '4466', inputMethod: 'dtmf' } });
		assert.equal(answer.action.name, 'connectConf', 'the host is let in');
		await runClockUntil(page, () => fakeSinch.calledIds.length > 0, null, ROSTER_MS + 2000);
		assert.deepEqual(await fake(page, () => fakeSinch.calledIds), ['4455']);
		const callid = await sinchSeesBrowserCall(sdk.base, userId, '4455');
		await sinchSeesCallEnd(sdk.base, callid);
		await sinchSeesCallEnd(sdk.base, host);
		noProblemsSeen(page);
		await page.close();
	});

	/* Last of the flows: it locks this address out of the server for guess_window. */
	test(name('too many wrong PINs shows the server\'s sentence'), async ({ browser }) => {
		const page = await newPage(browser);
		await openJoin(page, { sdk });
		let answer = null;
		for (let attempt = 0; attempt < 6; attempt++) {
			const answered = page.waitForResponse((r) => r.url().includes('/cgi-bin/getticket.cgi'));
			await fillAndJoin(page, 'Mallory', '000' + attempt);
			const response = await answered;
			await waitForError(page);
			if (response.status() === 429) {
				answer = response;
				break;
			}
		}
		assert.ok(answer !== null, 'locked out within 6 wrong PINs');
		assert.ok(Number(answer.headers()['retry-after']) > 0, 'Retry-After is given');
		await page.waitForFunction(() => !document.getElementById('join').disabled);
		assert.equal(await text(page, '#error'), (await answer.json()).error);
		assert.equal(await fake(page, () => fakeSinch.calledIds.length), 0);
		await page.close();
	});
}

for (const sdk of SDKS)
	if (inPart(sdk.kind))
		flows(sdk);

/* ------------------------------------------------------------- running */

async function setup() {
	for (const [variable, value] of Object.entries({ PINCONF_TEST_URL: SDKS[0].base,
		PINCONF_TEST_LEGACY_URL: SDKS[1].base, PINCONF_TEST_DIAL_IN_URL: DIAL_IN_BASE,
		PINCONF_TEST_KEY: KEY, PINCONF_TEST_SECRET: SECRET }))
		if (!value)
			throw new Error(variable + ' is not set: run through t/browser.t');
	const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pinconf-chromium-'));
	const browser = await chromium.launchPersistentContext(userDataDir, {
		executablePath: CHROMIUM,
		headless: true,
		args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync',
			'--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
			'--host-resolver-rules=MAP ' + INSECURE_HOST + ' 127.0.0.1'],
		viewport: { width: 800, height: 700 },
		locale: 'en-GB',
		timezoneId: 'UTC'
	});
	browser.setDefaultTimeout(20000);
	await browser.addInitScript(instrumentPage);
	/* The persistent context opens a blank tab of its own. */
	for (const page of browser.pages())
		await page.close();
	return { browser, userDataDir };
}

/* Close the tabs a test left open (a failed one ends before its page.close()),
 * but the one call that several tests follow. */
async function afterEach({ browser }) {
	for (const page of browser.pages())
		if (!page.keep)
			await page.close();
}

async function teardown({ browser, userDataDir }) {
	await browser.close();
	fs.rmSync(userDataDir, { recursive: true, force: true });
}

/* A failure in a route handler must fail its test, not end the run. */
process.on('unhandledRejection', (error) => diag('unhandled rejection: ' + (error && error.stack || error)));

run({ setup, teardown, afterEach }).then((status) => { process.exitCode = status; }, (error) => {
	diag(error.stack || String(error));
	process.exitCode = 1;
});
