/* fake-sinch.js: stands in for Sinch's sinch.min.js in the browser tests.
 * It offers the SinchClient interface pinconf.js uses (sinch-api.md section 4),
 * records every use on window.fakeSinch, checks tickets have Sinch's format
 * and are for a server-issued user id (not the name typed),
 * and lets the test drive calls: progress(), establish(), end(cause, error). */
'use strict';

(function () {
	const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
	const ISO_8601_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;

	const record = {
		kind: 'legacy',
		clients: [],		/* options of each new SinchClient (functions by type) */
		starts: 0,		/* calls of start() */
		userIds: [],		/* the identity of each ticket start() received */
		clientStops: 0,		/* stop() calls */
		tickets: [],		/* every userTicket start() received */
		decodedTickets: [],	/* their JSON part, parsed */
		ticketJson: [],		/* their JSON part, as text */
		ticketMacBytes: [],	/* length of each decoded MAC */
		ticketProblems: [],	/* why a ticket does not look like Sinch's; [] is good */
		calledIds: [],		/* ids given to callConference() */
		calls: [],		/* every FakeCall */
		muteCalls: 0,
		unmuteCalls: 0,
		hangupCalls: 0,
		listenersAdded: 0,
		logMessages: 0,
		remoteAudio: 'stream',	/* 'stream' (MediaStream) or 'url' (incomingStreamURL) */
		nextStartError: null,
		nextCallError: null
	};

	/* The test passes errors as plain data: make them look like the browser's. */
	function toError(error) {
		if (error instanceof Error)
			return error;
		const made = new Error(error && error.message ? error.message : String(error));
		if (error && error.name)
			made.name = error.name;
		if (error && error.code)
			made.code = error.code;
		return made;
	}

	function decodeBase64Utf8(text) {
		const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
		return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
	}

	/* Problems of the ticket's JSON against the documented shape. */
	function ticketJsonProblems(ticket, applicationKey) {
		const problems = [];
		const keys = Object.keys(ticket).join(',');
		if (keys !== 'applicationKey,identity,created,expiresIn')
			problems.push('keys are ' + keys + ', not applicationKey,identity,created,expiresIn');
		if (ticket.applicationKey !== applicationKey)
			problems.push('applicationKey ' + ticket.applicationKey + ' is not ' + applicationKey);
		const pageKey = document.getElementById('pinconf').dataset.applicationKey;
		if (ticket.applicationKey !== pageKey)
			problems.push('applicationKey is not the page\'s data-application-key ' + pageKey);
		const identity = ticket.identity || {};
		if (identity.type !== 'username')
			problems.push('identity.type is ' + identity.type + ', not username');
		record.userIds.push(identity.endpoint);
		const typed = document.getElementById('name').value.trim();
		/* The server issues the id; the typed name is only a label (issue 8). */
		if (typeof identity.endpoint !== 'string' || !/^[A-Za-z0-9_=-]{1,255}$/.test(identity.endpoint) ||
		    identity.endpoint === typed)
			problems.push('identity.endpoint ' + JSON.stringify(identity.endpoint) +
				' is not a server-issued user id');
		if (typeof ticket.created !== 'string' || !ISO_8601_UTC.test(ticket.created))
			problems.push('created ' + ticket.created + ' is not ISO 8601 UTC');
		else if (Math.abs(Date.parse(ticket.created) - Date.now()) > 5 * 60 * 1000)
			problems.push('created ' + ticket.created + ' is not now');
		if (!Number.isInteger(ticket.expiresIn) || ticket.expiresIn <= 0)
			problems.push('expiresIn ' + ticket.expiresIn + ' is not a positive whole number');
		return problems;
	}

	/* Base64(JSON) ":" Base64(HMAC-SHA256): check all we can without the secret. */
	function checkTicket(userTicket, applicationKey) {
		record.tickets.push(userTicket);
		const problems = [];
		const parts = typeof userTicket === 'string' ? userTicket.split(':') : [];
		if (parts.length !== 2 || !BASE64.test(parts[0]) || !BASE64.test(parts[1])) {
			problems.push('not base64 ":" base64: ' + userTicket);
			record.ticketProblems.push(...problems);
			return problems;
		}
		const macBytes = atob(parts[1]).length;
		record.ticketMacBytes.push(macBytes);
		if (macBytes !== 32)
			problems.push('the MAC has ' + macBytes + ' bytes, not the 32 of HMAC-SHA256');
		let json, ticket;
		try {
			json = decodeBase64Utf8(parts[0]);
			ticket = JSON.parse(json);
		} catch (error) {
			problems.push('the first part is not base64 of UTF-8 JSON: ' + error.message);
			record.ticketProblems.push(...problems);
			return problems;
		}
		record.ticketJson.push(json);
		record.decodedTickets.push(ticket);
		if (JSON.stringify(ticket) !== json)
			problems.push('the JSON is not compact: ' + json);
		problems.push(...ticketJsonProblems(ticket, applicationKey));
		record.ticketProblems.push(...problems);
		return problems;
	}

	/* A quiet tone as the conference's sound, as a live MediaStream. */
	function remoteToneStream() {
		const context = new AudioContext();
		const oscillator = context.createOscillator();
		const gain = context.createGain();
		const destination = context.createMediaStreamDestination();
		oscillator.frequency.value = 300;
		gain.gain.value = 0.01;
		oscillator.connect(gain).connect(destination);
		oscillator.start();
		return {
			stream: destination.stream,
			stop: () => { oscillator.stop(); context.close(); }
		};
	}

	/* Half a second of silence as a WAV blob URL: what older SDKs gave as incomingStreamURL. */
	function silentWavUrl() {
		const rate = 8000, samples = rate / 2;
		const view = new DataView(new ArrayBuffer(44 + samples));
		const text = (at, s) => [...s].forEach((c, i) => view.setUint8(at + i, c.charCodeAt(0)));
		text(0, 'RIFF'); view.setUint32(4, 36 + samples, true); text(8, 'WAVE');
		text(12, 'fmt '); view.setUint32(16, 16, true); view.setUint16(20, 1, true);
		view.setUint16(22, 1, true); view.setUint32(24, rate, true); view.setUint32(28, rate, true);
		view.setUint16(32, 1, true); view.setUint16(34, 8, true);
		text(36, 'data'); view.setUint32(40, samples, true);
		for (let i = 0; i < samples; i++)
			view.setUint8(44 + i, 128);
		return URL.createObjectURL(new Blob([view], { type: 'audio/wav' }));
	}

	class FakeCall {
		constructor(id) {
			this.id = id;
			this.listeners = [];
			this.state = 'INITIATING';
			this.error = null;
			this.endCause = 'NONE';
			this.muted = false;
			this.remote = null;
			this.details = { startedTime: new Date(), establishedTime: null, endedTime: null, duration: 0 };
		}

		addEventListener(listener) {
			record.listenersAdded++;
			this.listeners.push(listener);
		}

		removeEventListener(listener) {
			this.listeners = this.listeners.filter((l) => l !== listener);
		}

		emit(name) {
			for (const listener of this.listeners)
				if (typeof listener[name] === 'function')
					listener[name](this);
		}

		mute() { record.muteCalls++; this.muted = true; }
		unmute() { record.unmuteCalls++; this.muted = false; }

		hangup() {
			record.hangupCalls++;
			if (this.state !== 'ENDED')
				setTimeout(() => this.finish('HUNG_UP', null), 10);
		}

		getDetails() { return Object.assign({}, this.details); }
		getEndCause() { return this.endCause; }

		progress() {
			this.state = 'PROGRESSING';
			this.emit('onCallProgressing');
		}

		establish() {
			this.state = 'ESTABLISHED';
			this.details.establishedTime = new Date();
			if (record.remoteAudio === 'url') {
				this.incomingStreamURL = silentWavUrl();
			} else {
				this.remote = remoteToneStream();
				this.incomingStreamURL = this.remote.stream;
			}
			this.emit('onCallEstablished');
		}

		finish(cause, error) {
			if (this.state === 'ENDED')
				return;
			this.state = 'ENDED';
			this.endCause = cause;
			this.error = error ? toError(error) : null;
			this.details.endedTime = new Date();
			const established = this.details.establishedTime;
			this.details.duration = established ? Math.round((this.details.endedTime - established) / 1000) : 0;
			if (this.remote !== null)
				this.remote.stop();
			this.emit('onCallEnded');
		}
	}

	class FakeCallClient {
		callConference(id) {
			record.calledIds.push(id);
			if (record.nextCallError !== null) {
				const error = record.nextCallError;
				record.nextCallError = null;
				throw toError(error);
			}
			const call = new FakeCall(id);
			record.calls.push(call);
			return call;
		}
	}

	class SinchClient {
		constructor(options) {
			const seen = {};
			for (const [key, value] of Object.entries(options || {}))
				seen[key] = typeof value === 'function' ? 'function' : value;
			record.clients.push(seen);
			this.options = options || {};
			this.callClient = new FakeCallClient();
			this.started = false;
			this.log('constructed');
		}

		log(message) {
			if (typeof this.options.onLogMessage === 'function') {
				record.logMessages++;
				this.options.onLogMessage({ message: 'fake-sinch: ' + message, level: 'debug' });
			}
		}

		start(login) {
			record.starts++;
			const problems = checkTicket(login && login.userTicket, this.options.applicationKey);
			if (record.nextStartError !== null) {
				const error = record.nextStartError;
				record.nextStartError = null;
				return Promise.reject(toError(error));
			}
			/* Sinch refuses a ticket it cannot read. */
			if (problems.length > 0)
				return Promise.reject(new Error('invalid user ticket: ' + problems.join('; ')));
			this.started = true;
			this.log('started');
			return new Promise((resolve) => setTimeout(resolve, 20));
		}

		stop() {
			record.clientStops++;
			this.started = false;
			this.stopped = true;
		}

		getCallClient() {
			if (!this.started)
				throw new Error('getCallClient() before start() resolved');
			return this.callClient;
		}
	}

	function currentCall() {
		const call = record.calls[record.calls.length - 1];
		if (call === undefined)
			throw new Error('fake-sinch: no call placed');
		return call;
	}

	window.SinchClient = SinchClient;
	window.fakeSinch = Object.assign(record, {
		currentCall,
		progress: () => currentCall().progress(),
		establish: () => currentCall().establish(),
		end: (cause, error) => currentCall().finish(cause || 'HUNG_UP', error || null),
		failNextStart: (error) => { record.nextStartError = error; },
		failNextCall: (error) => { record.nextCallError = error; },
		useRemoteAudio: (kind) => { record.remoteAudio = kind; },
		callState: () => currentCall().state
	});
})();
