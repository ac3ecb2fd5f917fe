/* instrument.js: what the browser tests watch in every page, installed before
 * the page's own scripts run (context.addInitScript(instrumentPage)): CSP
 * violations, fetches, and the tones the page starts.  Kept in the page as
 * window.__pinconfTest. */
'use strict';

/* Instruments every page before its scripts run: tones started, CSP violations. */
function instrumentPage() {
	const seen = { oscillators: [], cspViolations: [], fetches: [] };
	window.__pinconfTest = seen;
	document.addEventListener('securitypolicyviolation', (event) =>
		seen.cspViolations.push(event.violatedDirective + ' ' + event.blockedURI));
	/* Every fetch, counted when the page calls it (a poll that a timer fires is
	 * seen at once), and its status once the answer is in. */
	const fetch = window.fetch;
	window.fetch = function (resource, ...rest) {
		const url = new URL(resource instanceof Request ? resource.url : String(resource), document.baseURI);
		const entry = { path: url.pathname, status: null };
		seen.fetches.push(entry);
		return fetch.call(this, resource, ...rest).then((response) => {
			entry.status = response.status;
			return response;
		}, (error) => {
			entry.status = 'error';
			throw error;
		});
	};
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

module.exports = { instrumentPage };
