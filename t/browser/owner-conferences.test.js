/* owner-conferences.test.js: an owner runs a conference in headless Chromium,
 * against the real owner.cgi and the fake Sinch Calling API (issue 18): log in
 * -> New conference -> its details -> Call a number (the fake gets a signed
 * callout) -> Mute one of two participants -> Remove one -> add an attendee
 * with an e-mail -> Send invitation (a mail with an .ics) -> End conference
 * -> Delete conference.  My conferences, New conference and the details page
 * pass the checks of owner.test.js (axe-core, no CSP violation, no console
 * error).  Prints TAP.
 *
 * Run by t/browser.t (setup_owner_conferences), which sets:
 *   PINCONF_TEST_OWNER_URL       a server whose owner.cgi talks to the fake Sinch
 *   PINCONF_TEST_OWNER_EMAIL, PINCONF_TEST_OWNER_PASSWORD   a confirmed owner
 *   PINCONF_TEST_MAILBOX         the folder where its sendmail (t/sendmail) puts each mail
 *   PINCONF_TEST_DATABASE        its database (the call rows of the fake's participants)
 *   PINCONF_TEST_SINCH_URL       the fake Sinch (t/fake-sinch-api.py): /control/state, /control/participants
 *   PINCONF_TEST_SCREENSHOT_DIRS, PINCONF_CHROMIUM   as for join.test.js
 */
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { chromium } = require('playwright-core');
const { test, run, diag } = require('./tap');
const { instrumentPage } = require('./instrument');

const BASE = process.env.PINCONF_TEST_OWNER_URL;
const EMAIL = process.env.PINCONF_TEST_OWNER_EMAIL;
const PASSWORD = process.env.PINCONF_TEST_OWNER_PASSWORD;
const MAILBOX = process.env.PINCONF_TEST_MAILBOX;
const DATABASE = process.env.PINCONF_TEST_DATABASE;
const SINCH = process.env.PINCONF_TEST_SINCH_URL;
const CHROMIUM = process.env.PINCONF_CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT_DIRS = (process.env.PINCONF_TEST_SCREENSHOT_DIRS || '')
	.split(path.delimiter).filter((dir) => dir !== '');
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

const OWNER = '/cgi-bin/owner.cgi';
const NAME = 'Board meeting';
const ATTENDEE = 'anna@example.org';

/* ------------------------------------------------------------- helpers */

/* One value of the database, as the sqlite3 shell prints it (the admin's view). */
function sql(statement) {
	return execFileSync('sqlite3', ['-cmd', '.timeout 5000', DATABASE, statement], { encoding: 'utf8' }).trim();
}

/* The fake Sinch's control endpoint (never signed, not Sinch's API). */
async function fake(what, document) {
	const response = await fetch(SINCH + '/control/' + what, document === undefined ? {} : {
		method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(document)
	});
	assert.equal(response.status, 200, 'the fake answers /control/' + what);
	return response.json();
}

/* The first request the fake Sinch answered of method to a path matching pattern, waiting a little. */
async function sinchRequest(method, pattern, timeout = 15000) {
	const deadline = Date.now() + timeout;
	for (;;) {
		const { requests } = await fake('state');
		const found = requests.find((q) => q.method === method && pattern.test(q.path) && q.status !== null);
		if (found || Date.now() > deadline)
			return found;
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

/* The next mail to address that t/sendmail stored, raw; waits a little. */
async function mailTo(address, timeout = 15000) {
	const deadline = Date.now() + timeout;
	for (;;) {
		for (const name of fs.readdirSync(MAILBOX).filter((n) => n.endsWith('.eml')).sort()) {
			const raw = fs.readFileSync(path.join(MAILBOX, name), 'utf8');
			const headers = raw.slice(0, raw.search(/\r?\n\r?\n/));
			if (new RegExp('^To:.*' + address.replace(/\./g, '\\.'), 'mi').test(headers))
				return raw;
		}
		if (Date.now() > deadline)
			throw new Error('no mail to ' + address + ' in ' + MAILBOX);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

async function open(page, where) {
	return page.goto(BASE + OWNER + where);
}

/* Press a button (or follow a link) and wait for the page it leads to; returns its status. */
async function press(page, role, name) {
	const loaded = page.waitForEvent('load');
	await page.getByRole(role, { name, exact: true }).click();
	await loaded;
	return page.seen.status;
}

async function screenshot(page, name) {
	for (const dir of SCREENSHOT_DIRS) {
		fs.mkdirSync(dir, { recursive: true });
		await page.screenshot({ path: path.join(dir, name), fullPage: true });
	}
}

async function axeViolations(page) {
	if (!await page.evaluate(() => window.axe !== undefined))
		await page.evaluate(AXE_SOURCE);
	const results = await page.evaluate((tags) =>
		window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), TAGS);
	return results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(', ')})`);
}

/* As owner.test.js: the title, our style sheet, no CSP violation, no console error, axe-core clean. */
async function checkPage(page, title) {
	assert.equal(await page.locator('h1').textContent(), title, 'the page is ' + title);
	assert.equal(await page.locator('main').evaluate((main) => getComputedStyle(main).borderTopLeftRadius),
		'12px', title + ': pinconf.css is applied');
	assert.deepEqual(await page.evaluate(() => __pinconfTest.cspViolations), [], title + ': no CSP violation');
	assert.deepEqual(page.seen.problems, [], title + ': no console or page errors');
	const found = await axeViolations(page);
	if (found.length > 0) {
		diag(found.join('\n'));
		assert.fail(`${title}: ${found.length} axe violations`);
	}
}

async function notice(page, pattern) {
	assert.match(await page.locator('main').textContent(), pattern);
}

/* ------------------------------------------------------------- the flow */

test('log in leads to My conferences, which passes the page checks', async ({ page }) => {
	await open(page, '/login');
	await page.getByLabel('E-mail').fill(EMAIL);
	await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
	assert.equal(await press(page, 'button', 'Log in'), 200);
	await checkPage(page, 'My conferences');
	assert.equal(await page.getByRole('link', { name: 'New conference' }).count(), 1);
});

test('New conference: Name filled, Create leads to the details page, which passes the page checks', async (fixture) => {
	const { page } = fixture;
	assert.equal(await press(page, 'link', 'New conference'), 200);
	await checkPage(page, 'New conference');
	assert.equal(await page.getByLabel('Name', { exact: true }).getAttribute('required'), '');
	await page.getByLabel('Name', { exact: true }).fill(NAME);
	assert.equal(await press(page, 'button', 'Create'), 200);
	const id = new URL(page.url()).searchParams.get('id');
	assert.match(id || '', /^\d+$/, 'the details page of the new conference: ' + page.url());
	fixture.id = Number(id);
	[fixture.pin, fixture.sinchId] = sql(`SELECT pin || '|' || sinch_id FROM conference WHERE id = ${fixture.id}`).split('|');
	await checkPage(page, NAME);
	await notice(page, /The conference is made/);
	assert.match(await page.locator('main').textContent(), new RegExp('join\\.cgi\\?pin=' + fixture.pin));
});

test('Call a number: the fake Sinch takes a signed callout with callout_cli as caller id', async ({ page }) => {
	await page.getByLabel('Number to call').fill('+46701112233');
	assert.equal(await press(page, 'button', 'Call'), 200);
	await notice(page, /Sinch is calling the number/);
	const callout = await sinchRequest('POST', /^\/calling\/v1\/callouts$/);
	assert.ok(callout, 'the fake got a callout');
	assert.equal(callout.status, 200, 'the fake accepted its signature');
	assert.match(callout.headers.Authorization || callout.headers.authorization || '', /^Application /);
	const body = JSON.parse(callout.body);
	assert.equal(body.conferenceCallout.destination.endpoint, '+46701112233');
	assert.equal(body.conferenceCallout.cli, '+46101234567');
});

test('with two participants in, Mute one: the page says so and the call table has it muted', async ({ page, id, sinchId }) => {
	for (const [callid, origin, caller, cli] of [['c-phone', 'pstn', '+46709876543', '+46709876543'],
		['c-web', 'mxp', 'Webby', 'u-web']]) {
		sql(`INSERT INTO call(callid, origin, caller, conference_id, conference_name, joined) VALUES ('${callid}',` +
		    ` '${origin}', '${caller}', ${id}, '${NAME}', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))`);
		await fake('participants', { conference: sinchId, id: callid, cli });
	}
	await open(page, `/conference?id=${id}`);
	await checkPage(page, NAME);
	const live = page.locator('section[aria-labelledby="live"]');
	assert.match(await live.textContent(), /Webby/);
	assert.match(await live.textContent(), /\+46\u2022/, 'the phone number is masked');
	assert.equal(await press(page, 'button', 'Mute Webby'), 200);
	await notice(page, /The participant is muted\./);
	assert.equal(await page.getByRole('button', { name: 'Unmute Webby', exact: true }).count(), 1);
	assert.equal(sql("SELECT muted FROM call WHERE callid = 'c-web'"), '1');
});

test('Remove one: the fake Sinch no longer has it', async ({ page, sinchId }) => {
	assert.equal(await press(page, 'button', 'Remove Webby'), 200);
	await notice(page, /The participant is removed from the conference\./);
	const { conferences } = await fake('state');
	assert.equal((conferences[sinchId] || {})['c-web'], undefined, 'c-web is out at Sinch');
	assert.ok((conferences[sinchId] || {})['c-phone'], 'c-phone is still in');
	assert.equal(await page.getByRole('button', { name: 'Remove Webby', exact: true }).count(), 0);
});

test('add an attendee with an e-mail: listed with a personal PIN (screenshot)', async (fixture) => {
	const { page, id } = fixture;
	await page.getByLabel('Name', { exact: true }).fill('Anna Svensson');
	await page.getByLabel('E-mail', { exact: true }).fill(ATTENDEE);
	assert.equal(await press(page, 'button', 'Add attendee'), 200);
	await notice(page, /The attendee is added, with a personal PIN\./);
	fixture.attendeePin = sql(`SELECT pin FROM attendee WHERE conference_id = ${id} AND email = '${ATTENDEE}'`);
	assert.match(fixture.attendeePin, /^\d+$/);
	assert.match(await page.locator('main').textContent(), new RegExp(fixture.attendeePin));
	await checkPage(page, NAME);
	await page.setViewportSize({ width: 960, height: 700 });
	await screenshot(page, 'owner-details.png');	/* one participant in, one attendee */
});

test('Send invitation: a mail to the attendee with the personal PIN and an .ics', async ({ page, attendeePin }) => {
	assert.equal(await press(page, 'button', 'Send invitation to Anna Svensson'), 200);
	await notice(page, /The invitation is sent\./);
	const raw = await mailTo(ATTENDEE);
	assert.match(raw, /^Content-Type: text\/calendar/mi, 'it has a calendar attachment');
	assert.ok(raw.includes(attendeePin), 'it holds the personal PIN');
	await checkPage(page, NAME);
});

test('End conference asks first, then the fake Sinch deletes the conference', async ({ page, id, sinchId }) => {
	await open(page, `/end?id=${id}`);
	await checkPage(page, 'End conference');
	assert.equal(await press(page, 'button', 'End conference'), 200);
	await notice(page, /Everyone is out/);
	assert.ok(await sinchRequest('DELETE', new RegExp('^/calling/v1/conferences/id/' + sinchId + '$')),
		'the fake got the DELETE');
});

test('Delete conference asks first, then it is gone from My conferences', async ({ page, id }) => {
	assert.equal(await press(page, 'link', 'Delete conference'), 200);
	await checkPage(page, 'Delete conference');
	assert.equal(await press(page, 'button', 'Delete conference'), 200);
	assert.match(await page.locator('main').textContent(), /is deleted/);
	assert.equal(sql(`SELECT count(*) FROM conference WHERE id = ${id}`), '0');
});

test('My conferences passes the page checks with conferences in it (screenshot)', async ({ page }) => {
	/* Two more, so that the screenshot shows the table and its sections. */
	for (const name of ['Weekly sync', 'Quarterly review']) {
		await open(page, '/new');
		await page.getByLabel('Name', { exact: true }).fill(name);
		assert.equal(await press(page, 'button', 'Create'), 200);
	}
	await open(page, '/');
	await checkPage(page, 'My conferences');
	const text = await page.locator('main').textContent();
	assert.ok(text.includes('Weekly sync') && !text.includes(NAME), 'the new ones listed, the deleted one not');
	await page.setViewportSize({ width: 900, height: 560 });
	await screenshot(page, 'owner-conferences.png');
});

/* ------------------------------------------------------------- running */

async function newPage(context) {
	const page = await context.newPage();
	page.seen = { problems: [], status: null };
	page.on('response', (response) => {
		if (response.request().isNavigationRequest() && response.frame() === page.mainFrame())
			page.seen.status = response.status();
	});
	page.on('console', (message) => {
		if (message.type() === 'error' &&
		    !/^Failed to load resource: the server responded with a status of 4\d\d/.test(message.text()))
			page.seen.problems.push(message.text());
	});
	page.on('pageerror', (error) => page.seen.problems.push(String(error)));
	return page;
}

async function setup() {
	if (!BASE || !MAILBOX || !DATABASE || !SINCH)
		throw new Error('PINCONF_TEST_OWNER_URL and the others are not set: run through t/browser.t');
	const browser = await chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync']
	});
	const context = await browser.newContext({ viewport: { width: 900, height: 700 }, locale: 'en-GB' });
	context.setDefaultTimeout(20000);
	await context.addInitScript(instrumentPage);
	return { browser, context, page: await newPage(context) };
}

async function teardown({ browser }) {
	await browser.close();
}

run({ setup, teardown }).then((status) => { process.exitCode = status; }, (error) => {
	diag(error.stack || String(error));
	process.exitCode = 1;
});
