/* owner.test.js: a conference owner's account in headless Chromium, against
 * the real owner.cgi (issue 17): sign up -> the confirmation mail -> confirm
 * -> log in -> log out -> Forgot your password? -> the reset mail -> a new
 * password -> log in with it.  Every page is checked on the way: no CSP
 * violation (the pages have no script and only our style sheet), axe-core's
 * WCAG 2 A/AA rules, labels and error messages tied to their fields; and the
 * forms work with JavaScript off.  Prints TAP.
 *
 * Run by t/browser.t (setup_owner), which sets:
 *   PINCONF_TEST_OWNER_URL    a server whose owner.cgi lets example.com sign up
 *   PINCONF_TEST_MAILBOX      the folder where its sendmail (t/sendmail) puts each mail
 *   PINCONF_TEST_SCREENSHOT_DIRS, PINCONF_CHROMIUM   as for join.test.js
 */
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { test, run, diag } = require('./tap');
const { instrumentPage } = require('./instrument');

const BASE = process.env.PINCONF_TEST_OWNER_URL;
const MAILBOX = process.env.PINCONF_TEST_MAILBOX;
const CHROMIUM = process.env.PINCONF_CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT_DIRS = (process.env.PINCONF_TEST_SCREENSHOT_DIRS || '')
	.split(path.delimiter).filter((dir) => dir !== '');
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

const OWNER = '/cgi-bin/owner.cgi';
const EMAIL = 'ann@example.com';
const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'tr\u00e8s s\u00fbr, vraiment';

/* ------------------------------------------------------------- mail */

const mailsSeen = new Set();

/* The next mail to address that t/sendmail stored, as { headers, text }; waits a little. */
async function nextMail(address, timeout = 15000) {
	const deadline = Date.now() + timeout;
	for (;;) {
		for (const name of fs.readdirSync(MAILBOX).filter((n) => n.endsWith('.eml')).sort()) {
			if (mailsSeen.has(name))
				continue;
			const raw = fs.readFileSync(path.join(MAILBOX, name), 'utf8');
			const split = raw.search(/\r?\n\r?\n/);
			const headers = raw.slice(0, split);
			if (!new RegExp('^To:.*' + address.replace(/\./g, '\\.'), 'mi').test(headers))
				continue;
			mailsSeen.add(name);
			return { headers, text: raw.slice(split).trim() };
		}
		if (Date.now() > deadline)
			throw new Error('no mail to ' + address + ' in ' + MAILBOX);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

/* The link a person would follow: the first web address in the mail's text. */
function linkIn(mail) {
	const found = mail.text.match(/https?:\/\/\S+/);
	assert.ok(found, 'the mail has a link:\n' + mail.text);
	return found[0];
}

/* ------------------------------------------------------------- pages */

/* Go to an owner page (or a link from a mail) and wait until it has loaded. */
async function open(page, where) {
	const response = await page.goto(where.startsWith('http') ? where : BASE + OWNER + where);
	return response;
}

/* Submit the form of button name and wait for the page it leads to (after any
 * redirect); returns that page's status. */
async function submit(page, button) {
	const loaded = page.waitForEvent('load');
	await page.getByRole('button', { name: button }).click();
	await loaded;
	return page.seen.status;
}

async function screenshot(page, name) {
	for (const dir of SCREENSHOT_DIRS) {
		fs.mkdirSync(dir, { recursive: true });
		await page.screenshot({ path: path.join(dir, name), fullPage: true });
	}
}

/* What axe-core finds on the page as it is (evaluated over CDP, which the CSP does not stop). */
async function axeViolations(page) {
	if (!await page.evaluate(() => window.axe !== undefined))
		await page.evaluate(AXE_SOURCE);
	const results = await page.evaluate((tags) =>
		window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), TAGS);
	return results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(', ')})`);
}

/* What every owner page must be: its title, our style sheet applied, no CSP
 * violation, no console or page error, nothing for axe-core to find. */
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

/* The field labelled label is invalid and its error, read with it, says pattern. */
async function fieldError(page, label, pattern) {
	const field = page.getByLabel(label, { exact: true });
	assert.equal(await field.getAttribute('aria-invalid'), 'true', label + ' is marked invalid');
	const described = (await field.getAttribute('aria-describedby') || '').split(' ');
	assert.ok(described[0], label + ' names its error (aria-describedby)');
	const message = await page.locator('#' + described[0]).textContent();
	assert.match(message, pattern, label + '\'s error: ' + message);
	return message;
}

async function loggedIn(page) {
	return await page.getByRole('button', { name: 'Log out' }).count() === 1;
}

async function fillLogin(page, email, password) {
	await page.getByLabel('E-mail').fill(email);
	await page.getByLabel('Password', { exact: true }).fill(password);
	return submit(page, 'Log in');
}

/* ------------------------------------------------------------- the flow, one page */

test('the sign-up page labels E-mail, Password and Repeat password, and passes the page checks', async ({ page }) => {
	assert.equal((await open(page, '/signup')).status(), 200);
	await checkPage(page, 'Create an account');
	assert.equal(await page.getByLabel('E-mail').getAttribute('type'), 'email');
	assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('type'), 'password');
	assert.equal(await page.getByLabel('Repeat password').getAttribute('type'), 'password');
	assert.equal(await page.locator('form').getAttribute('method'), 'post');
	assert.equal(await page.locator('script').count(), 0, 'no script element');
});

test('sign-up with another domain is refused, the error tied to the E-mail field', async ({ page }) => {
	await page.getByLabel('E-mail').fill('eve@evil.example');
	await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await page.getByLabel('Repeat password').fill(PASSWORD);
	assert.equal(await submit(page, 'Create account'), 400);
	await checkPage(page, 'Create an account');
	await fieldError(page, 'E-mail', /one of the domains above/);
	assert.match(await page.locator('main').textContent(), /example\.com/, 'the page names the domain');
	assert.equal(await page.getByLabel('E-mail').inputValue(), 'eve@evil.example', 'the address is kept');
	assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '', 'the password is not');
});

test('sign-up with a short password says the rule at the Password field', async ({ page }) => {
	const hint = await page.getByLabel('Password', { exact: true }).getAttribute('aria-describedby');
	assert.equal(hint, 'password-hint', 'the Password field names its hint');
	assert.match(await page.locator('#password-hint').textContent(), /at least 10 characters/);
	await page.getByLabel('E-mail').fill(EMAIL);
	await page.getByLabel('Password', { exact: true }).fill('short');
	await page.getByLabel('Repeat password').fill('short');
	assert.equal(await submit(page, 'Create account'), 400);
	await checkPage(page, 'Create an account');
	await fieldError(page, 'Password', /at least 10 characters/);
});

test('sign-up: the page says to check the mail, and the mail has a link to confirm', async (fixture) => {
	const { page } = fixture;
	await page.getByLabel('E-mail').fill(EMAIL);
	await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await page.getByLabel('Repeat password').fill(PASSWORD);
	assert.equal(await submit(page, 'Create account'), 200);
	assert.match(await page.locator('main').textContent(), /We sent a mail to ann@example\.com/);
	assert.deepEqual(await page.evaluate(() => __pinconfTest.cspViolations), []);
	const mail = await nextMail(EMAIL);
	assert.match(mail.headers, /^From: .*pinconf@example\.com/mi);
	fixture.confirmLink = linkIn(mail);
	assert.ok(fixture.confirmLink.startsWith(BASE + OWNER + '/confirm?token='), fixture.confirmLink);
});

test('before the address is confirmed the account cannot log in', async ({ page }) => {
	await open(page, '/login');
	assert.notEqual(await fillLogin(page, EMAIL, PASSWORD), 200);
	assert.equal(await loggedIn(page), false);
	await checkPage(page, 'Log in');
});

test('the link in the mail confirms the address (with a button: opening it changes nothing)', async ({ page, confirmLink }) => {
	assert.equal((await open(page, confirmLink)).status(), 200);
	await checkPage(page, await page.locator('h1').textContent());
	assert.equal(await submit(page, 'Confirm address'), 200);
	assert.deepEqual(await page.evaluate(() => __pinconfTest.cspViolations), []);
});

test('the login page has E-mail, Password, Log in and its two links, and looks like the join page', async ({ page }) => {
	await open(page, '/login');
	await checkPage(page, 'Log in');
	assert.equal(await page.getByLabel('E-mail').getAttribute('type'), 'email');
	assert.equal(await page.getByLabel('Password').getAttribute('type'), 'password');
	assert.equal(await page.getByRole('link', { name: 'Create an account' }).getAttribute('href'), OWNER + '/signup');
	assert.equal(await page.getByRole('link', { name: 'Forgot your password?' }).getAttribute('href'), OWNER + '/forgot');
	/* The join page's fields and button (pinconf.css: input[type="text"], #join). */
	const style = (selector) => page.locator(selector).evaluate((element) => {
		const s = getComputedStyle(element);
		return { minHeight: s.minHeight, radius: s.borderTopLeftRadius, border: s.borderTopWidth + ' ' + s.borderTopStyle,
			width: element.getBoundingClientRect().width, formWidth: element.form.getBoundingClientRect().width,
			background: s.backgroundColor, font: s.fontSize };
	});
	for (const selector of ['#email', '#password']) {
		const field = await style(selector);
		assert.deepEqual([field.minHeight, field.radius, field.border, field.font], ['48px', '8px', '1px solid', '16px'],
			selector + ' is styled as the join page\'s fields');
		assert.ok(Math.abs(field.width - field.formWidth) < 1, selector + ' is as wide as the form');
	}
	const button = await style('button');
	assert.equal(button.radius, '999px');
	assert.ok(Math.abs(button.width - button.formWidth) < 1, 'the button is as wide as the form');
	const primary = await page.evaluate(() => {
		const probe = document.body.appendChild(document.createElement('span'));
		probe.style.color = 'var(--primary)';	/* through the CSSOM, which the CSP allows */
		const colour = getComputedStyle(probe).color;
		probe.remove();
		return colour;
	});
	assert.equal(button.background, primary, 'the button has the join button\'s primary colour');
	await page.setViewportSize({ width: 720, height: 560 });
	await screenshot(page, 'owner-login.png');
});

test('log in with the e-mail and password reaches the home page, which passes the page checks', async ({ page }) => {
	assert.equal(await fillLogin(page, EMAIL, PASSWORD), 200);
	assert.ok(await loggedIn(page), 'a Log out button');
	assert.match(await page.locator('header').textContent(), /Logged in as ann@example\.com/);
	await checkPage(page, await page.locator('h1').textContent());
	await screenshot(page, 'owner-home.png');
});

test('the change-password page labels Current password, New password and Repeat password', async ({ page }) => {
	await open(page, '/password');
	await checkPage(page, await page.locator('h1').textContent());
	for (const label of ['Current password', 'New password', 'Repeat password'])
		assert.equal(await page.getByLabel(label).getAttribute('type'), 'password', label);
	assert.equal(await page.getByRole('button', { name: 'Set password' }).count(), 1);
});

test('Log out ends the session: the home page asks to log in again', async ({ page }) => {
	await submit(page, 'Log out');
	await open(page, '/');
	assert.equal(await loggedIn(page), false);
	assert.equal(await page.getByRole('button', { name: 'Log in' }).count(), 1, 'a login form');
});

test('Forgot your password? leads to a form that mails a reset link', async (fixture) => {
	const { page } = fixture;
	await open(page, '/login');
	await page.getByRole('link', { name: 'Forgot your password?' }).click();
	await page.waitForLoadState('load');
	await checkPage(page, await page.locator('h1').textContent());
	await page.getByLabel('E-mail').fill(EMAIL);
	assert.equal(await submit(page, 'Send reset link'), 200);
	await checkPage(page, await page.locator('h1').textContent());
	fixture.resetLink = linkIn(await nextMail(EMAIL));
	assert.ok(fixture.resetLink.startsWith(BASE + OWNER + '/reset?token='), fixture.resetLink);
});

test('the reset link sets a new password; two that differ are refused at Repeat password', async ({ page, resetLink }) => {
	assert.equal((await open(page, resetLink)).status(), 200);
	await checkPage(page, await page.locator('h1').textContent());
	await page.getByLabel('New password').fill(NEW_PASSWORD);
	await page.getByLabel('Repeat password').fill(NEW_PASSWORD + 'x');
	assert.equal(await submit(page, 'Set password'), 400);
	await checkPage(page, await page.locator('h1').textContent());
	await fieldError(page, 'Repeat password', /not the same/);
	await page.getByLabel('New password').fill(NEW_PASSWORD);
	await page.getByLabel('Repeat password').fill(NEW_PASSWORD);
	assert.equal(await submit(page, 'Set password'), 200);
	assert.deepEqual(await page.evaluate(() => __pinconfTest.cspViolations), []);
});

test('the old password no longer logs in; the new one does', async ({ page }) => {
	await open(page, '/login');
	assert.notEqual(await fillLogin(page, EMAIL, PASSWORD), 200);
	assert.equal(await loggedIn(page), false);
	await checkPage(page, 'Log in');
	assert.equal(await fillLogin(page, EMAIL, NEW_PASSWORD), 200);
	assert.ok(await loggedIn(page), 'logged in with the new password');
	await submit(page, 'Log out');
});

/* ------------------------------------------------------------- more */

test('without JavaScript the forms work: log in, see home, log out', async ({ browser }) => {
	const context = await browser.newContext({ javaScriptEnabled: false });
	try {
		const page = await newPage(context);
		await open(page, '/login');
		assert.equal(await fillLogin(page, EMAIL, NEW_PASSWORD), 200);
		assert.ok(await loggedIn(page), 'logged in');
		assert.match(await page.locator('header').textContent(), /Logged in as ann@example\.com/);
		await submit(page, 'Log out');
		await open(page, '/');
		assert.equal(await loggedIn(page), false, 'logged out');
	} finally {
		await context.close();
	}
});

test('a CSP violation on an owner page is seen (the check can fail)', async ({ browser }) => {
	const context = await browser.newContext();
	await context.addInitScript(instrumentPage);
	const page = await newPage(context);
	try {
		/* The real page and its CSP, with an inline style the CSP must refuse. */
		await page.route('**/cgi-bin/owner.cgi/login', async (route) => {
			const response = await route.fetch();
			const body = (await response.text()).replace('</head>', '<style>body{color:red}</style></head>');
			await route.fulfill({ response, body });
		});
		await open(page, '/login');
		await page.waitForFunction(() => __pinconfTest.cspViolations.length > 0);
		await assert.rejects(checkPage(page, 'Log in'), /no CSP violation/);
	} finally {
		await context.close();
	}
});

/* ------------------------------------------------------------- running */

/* A tab whose console errors and page errors are kept in page.seen.problems
 * (but Chromium's note on a page answered 4xx: a refused form is one). */
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
	if (!BASE || !MAILBOX)
		throw new Error('PINCONF_TEST_OWNER_URL and PINCONF_TEST_MAILBOX are not set: run through t/browser.t');
	const browser = await chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync']
	});
	const context = await browser.newContext({ viewport: { width: 800, height: 700 }, locale: 'en-GB' });
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
