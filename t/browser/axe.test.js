/* axe.test.js: axe-core's WCAG 2 A and AA rules on the pages a visitor sees
 * first: / (index.html) and the join page, with and without dial-in numbers.
 * Run by t/browser.t beside join.test.js, with the same PINCONF_TEST_* variables.
 */
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { test, run, diag } = require('./tap');

const BASE = process.env.PINCONF_TEST_URL;
const DIAL_IN_BASE = process.env.PINCONF_TEST_DIAL_IN_URL;
const CHROMIUM = process.env.PINCONF_CHROMIUM || '/usr/bin/chromium';
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/* The violations of WCAG 2 A/AA that axe finds on url once it has loaded. */
async function violations(browser, url, { stay = false } = {}) {
	// The page's CSP rightly refuses inline scripts: let axe in all the same.
	const context = await browser.newContext({ bypassCSP: true });
	try {
		const page = await context.newPage();
		// index.html's refresh leads to the join page; a 204 there keeps axe on index.html.
		if (stay)
			await page.route('**/cgi-bin/join.cgi', (route) => route.fulfill({ status: 204, body: '' }));
		const response = await page.goto(url, { waitUntil: 'load' });
		if (!response || response.status() !== 200)
			throw new Error(`${url}: status ${response && response.status()}`);
		await page.addScriptTag({ content: AXE_SOURCE });
		const results = await page.evaluate((tags) =>
			window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), TAGS);
		return results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(', ')})`);
	} finally {
		await context.close();
	}
}

function none(found) {
	if (found.length > 0) {
		diag(found.join('\n'));
		throw new Error(`${found.length} axe violations`);
	}
}

test('index.html passes axe-core WCAG 2 A/AA with 0 violations', async ({ browser }) => {
	none(await violations(browser, BASE + '/index.html', { stay: true }));
}, { timeout: 60000 });

test('index.html has a main landmark', async ({ browser }) => {
	const context = await browser.newContext();
	try {
		const page = await context.newPage();
		await page.route('**/cgi-bin/join.cgi', (route) => route.fulfill({ status: 204, body: '' }));
		await page.goto(BASE + '/index.html', { waitUntil: 'domcontentloaded' });
		if (await page.locator('main').count() !== 1)
			throw new Error('no <main> in index.html');
	} finally {
		await context.close();
	}
});

test('the join page passes axe-core WCAG 2 A/AA with 0 violations', async ({ browser }) => {
	none(await violations(browser, BASE + '/cgi-bin/join.cgi'));
}, { timeout: 60000 });

test('the join page with dial-in numbers passes axe-core with 0 violations', async ({ browser }) => {
	none(await violations(browser, DIAL_IN_BASE + '/cgi-bin/join.cgi'));
}, { timeout: 60000 });

test('axe-core finds a violation when there is one (the check can fail)', async ({ browser }) => {
	const context = await browser.newContext();
	try {
		const page = await context.newPage();
		await page.setContent('<!DOCTYPE html><html><head><title>x</title></head>' +
			'<body><main><img src="data:,"></main></body></html>');
		await page.addScriptTag({ content: AXE_SOURCE });
		const results = await page.evaluate(() => window.axe.run(document, { runOnly: ['image-alt'] }));
		if (results.violations.length !== 1)
			throw new Error('an image without alt text was not reported');
	} finally {
		await context.close();
	}
});

async function setup() {
	if (!BASE || !DIAL_IN_BASE)
		throw new Error('PINCONF_TEST_URL and PINCONF_TEST_DIAL_IN_URL are not set: run through t/browser.t');
	const browser = await chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync']
	});
	return { browser, tmp: fs.mkdtempSync(path.join(os.tmpdir(), 'pinconf-axe-')) };
}

async function teardown({ browser, tmp }) {
	await browser.close();
	fs.rmSync(tmp, { recursive: true, force: true });
}

run({ setup, teardown }).then((status) => { process.exitCode = status; }, (error) => {
	diag(error.stack || String(error));
	process.exitCode = 1;
});
