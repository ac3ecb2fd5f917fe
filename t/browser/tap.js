/* tap.js: a minimal TAP producer for the browser tests, in the flat form
 * automake's tap-driver.sh reads: a plan, then one "ok N - name" a test. */
'use strict';

const tests = [];

/* Register a test: a sentence that names a behaviour, and an async body that throws on failure. */
function test(name, body, { timeout = 60000 } = {}) {
	tests.push({ name, body, timeout });
}

function escapeName(name) {
	return String(name).replace(/\s+/g, ' ').replace(/#/g, '\\#');
}

function diag(text) {
	for (const line of String(text).split('\n'))
		console.log('# ' + line);
}

function withTimeout(promise, milliseconds, name) {
	let timer;
	const expired = new Promise((resolve, reject) => {
		timer = setTimeout(() => reject(new Error(`timed out after ${milliseconds} ms: ${name}`)),
			milliseconds);
	});
	return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/* Run every test in order; setup() and teardown() bracket them, afterEach(fixture)
 * follows every test, passed or failed (to close what a failed test left open).
 * Returns the exit status. */
async function run({ setup, teardown, afterEach } = {}) {
	console.log(`1..${tests.length}`);
	let failed = 0;
	let fixture;
	try {
		fixture = setup ? await setup() : undefined;
	} catch (error) {
		diag('setup failed: ' + (error.stack || error));
		tests.forEach((t, i) => console.log(`not ok ${i + 1} - ${escapeName(t.name)}`));
		return 1;
	}
	for (const [index, t] of tests.entries()) {
		const started = Date.now();
		try {
			await withTimeout(Promise.resolve().then(() => t.body(fixture)), t.timeout, t.name);
			console.log(`ok ${index + 1} - ${escapeName(t.name)}`);
		} catch (error) {
			failed++;
			console.log(`not ok ${index + 1} - ${escapeName(t.name)}`);
			diag(error.stack || String(error));
		}
		if (afterEach) {
			try {
				await afterEach(fixture);
			} catch (error) {
				diag('after ' + escapeName(t.name) + ': ' + (error.stack || error));
			}
		}
		if (process.env.PINCONF_TEST_VERBOSE)
			diag(`${Date.now() - started} ms`);
	}
	if (teardown) {
		try {
			await teardown(fixture);
		} catch (error) {
			diag('teardown failed: ' + (error.stack || error));
		}
	}
	if (failed > 0)
		diag(`${failed} of ${tests.length} tests failed`);
	return failed > 0 ? 1 : 0;
}

module.exports = { test, run, diag };
