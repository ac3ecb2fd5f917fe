/* fake-sinch-rtc.js: stands in for Sinch's current sinch-rtc-min.js (2.x) in
 * the browser tests.  It offers exactly the interface of sinch-api.md section
 * 4b, records every use on window.fakeSinch, checks each registration JWT has
 * Sinch's shape, and lets the test drive the client and its calls. */
'use strict';

(function () {
	const BASE64URL = /^[A-Za-z0-9_-]+$/;
	const USER_ID = /^[A-Za-z0-9_=-]+$/;
	const END_CAUSE = { NONE: 0, TIMEOUT: 1, DENIED: 2, NO_ANSWER: 3, FAILURE: 4, HUNG_UP: 5,
		CANCELED: 6, OTHER_DEVICE_ANSWERED: 7, INACTIVE: 8 };

	const record = {
		kind: 'current',
		builds: [],		/* { applicationKey, userId, environmentHost } of each build() */
		clients: [],		/* every FakeSinchClient */
		userIds: [],		/* the user id of each client, in order */
		starts: 0,		/* calls of start(), including refused ones */
		registrations: [],	/* { userId, jwt, header, payload, problems } of each register() */
		jwtProblems: [],	/* why a JWT does not look like Sinch's; [] is good */
		registerFailedCalls: 0,
		credentialRequests: 0,	/* times onCredentialsRequired fired */
		clientStops: 0,		/* terminate() calls */
		calledIds: [],
		calls: [],
		muteCalls: 0,
		unmuteCalls: 0,
		hangupCalls: 0,
		listenersAdded: 0,	/* call listeners */
		nextStartError: null,
		nextCallError: null
	};

	/* Sinch's errors carry message, code and domain. */
	class SinchError extends Error {
		constructor(message, code = 0, domain = 'fake') {
			super(message);
			this.name = 'SinchError';
			this.code = code;
			this.domain = domain;
		}
	}

	function toError(error) {
		if (error instanceof Error)
			return error;
		const made = new SinchError(error && error.message ? error.message : String(error),
			error && error.code, error && error.domain);
		if (error && error.name)
			made.name = error.name;
		return made;
	}

	function decodeBase64url(text) {
		const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
		return Uint8Array.from(atob(base64 + '='.repeat((4 - base64.length % 4) % 4)),
			(c) => c.charCodeAt(0));
	}

	function decodeJsonPart(text) {
		return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(decodeBase64url(text)));
	}

	function utcDay(seconds) {
		return new Date(seconds * 1000).toISOString().slice(0, 10).replace(/-/g, '');
	}

	/* Problems of a registration JWT for this client, against section 4b. */
	function jwtProblems(jwt, client) {
		const parts = typeof jwt === 'string' ? jwt.split('.') : [];
		if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part)))
			return { problems: ['not three base64url parts: ' + jwt] };
		let header, payload;
		try {
			header = decodeJsonPart(parts[0]);
			payload = decodeJsonPart(parts[1]);
		} catch (error) {
			return { problems: ['a part is not base64url of UTF-8 JSON: ' + error.message] };
		}
		const problems = [];
		const base = '//rtc.sinch.com/applications/' + client.applicationKey;
		if (Object.keys(header).sort().join(',') !== 'alg,kid' || header.alg !== 'HS256')
			problems.push('header is ' + JSON.stringify(header) + ', not {alg: HS256, kid}');
		if (!Number.isInteger(payload.iat) || Math.abs(payload.iat - Date.now() / 1000) > 300)
			problems.push('iat ' + payload.iat + ' is not now in whole seconds');
		else if (header.kid !== 'hkdfv1-' + utcDay(payload.iat))
			problems.push('kid ' + header.kid + ' is not hkdfv1- and the UTC day of iat');
		if (!Number.isInteger(payload.exp) || payload.exp < payload.iat + 60)
			problems.push('exp ' + payload.exp + ' is not at least iat + 60');
		if (payload.iss !== base)
			problems.push('iss ' + payload.iss + ' is not ' + base);
		if (payload.sub !== base + '/users/' + client.userId)
			problems.push('sub ' + payload.sub + ' is not ' + base + '/users/' + client.userId);
		if (typeof payload.nonce !== 'string' || payload.nonce === '')
			problems.push('no nonce');
		if (decodeBase64url(parts[2]).length !== 32)
			problems.push('the signature is not the 32 bytes of HMAC-SHA256');
		return { header, payload, problems };
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
		return { stream: destination.stream, stop: () => { oscillator.stop(); context.close(); } };
	}

	class FakeCall {
		constructor(id) {
			this.id = id;
			this.listeners = [];
			this.state = 'INITIATING';
			this.muted = false;
			this.remote = remoteToneStream();
			this.incomingStream = this.remote.stream;
			this.fakeDetails = { startedTime: new Date(), establishedTime: undefined,
				endedTime: undefined, duration: 0, endCause: END_CAUSE.NONE, error: undefined };
		}

		get details() { return Object.assign({}, this.fakeDetails); }

		addListener(listener) {
			record.listenersAdded++;
			this.listeners.push(listener);
		}

		removeListener(listener) {
			this.listeners = this.listeners.filter((l) => l !== listener);
		}

		emit(name, ...args) {
			for (const listener of this.listeners)
				if (typeof listener[name] === 'function')
					listener[name](this, ...args);
		}

		mute() { record.muteCalls++; this.muted = true; }
		unmute() { record.unmuteCalls++; this.muted = false; }

		hangup() {
			record.hangupCalls++;
			if (this.state !== 'ENDED')
				setTimeout(() => this.finish(END_CAUSE.HUNG_UP, null), 10);
		}

		progress() {
			this.state = 'PROGRESSING';
			this.emit('onCallProgressing');
		}

		establish() {
			this.state = 'ESTABLISHED';
			this.fakeDetails.establishedTime = new Date();
			this.emit('onCallAnswered');
			this.emit('onCallEstablished');
		}

		finish(cause, error) {
			if (this.state === 'ENDED')
				return;
			this.state = 'ENDED';
			const details = this.fakeDetails;
			details.endCause = cause;
			details.error = error ? toError(error) : undefined;
			details.endedTime = new Date();
			details.duration = details.establishedTime ? details.endedTime - details.establishedTime : 0;
			this.remote.stop();
			this.emit('onCallEnded');
		}
	}

	class FakeCallClient {
		constructor(client) {
			this.client = client;
		}

		callConference(id) {
			record.calledIds.push(id);
			if (!this.client.started)
				return Promise.reject(new SinchError('callConference() before the client started'));
			if (typeof id !== 'string' || id === '' || id.length > 64)
				return Promise.reject(new SinchError('conference id must be 1 to 64 characters'));
			if (record.nextCallError !== null) {
				const error = record.nextCallError;
				record.nextCallError = null;
				return Promise.reject(toError(error));
			}
			const call = new FakeCall(id);
			record.calls.push(call);
			return new Promise((resolve) => setTimeout(() => resolve(call), 10));
		}
	}

	class FakeSinchClient {
		constructor(settings) {
			Object.assign(this, settings);
			this.listeners = [];
			this.started = false;
			this.starting = false;
			this.terminated = false;
			this.callClient = new FakeCallClient(this);
			this.registrationPending = null;
			record.clients.push(this);
			record.userIds.push(settings.userId);
		}

		addListener(listener) { this.listeners.push(listener); }
		removeListener(listener) { this.listeners = this.listeners.filter((l) => l !== listener); }

		emit(name, ...args) {
			for (const listener of this.listeners)
				if (typeof listener[name] === 'function')
					listener[name](this, ...args);
		}

		/* What onCredentialsRequired hands over; settles with true (registered) or an error. */
		askCredentials() {
			record.credentialRequests++;
			return new Promise((settle) => {
				const registration = {};
				registration.register = (jwt) => {
					const checked = jwtProblems(jwt, this);
					record.registrations.push(Object.assign({ userId: this.userId, jwt }, checked));
					record.jwtProblems.push(...checked.problems);
					if (checked.problems.length > 0) {
						const error = new SinchError('invalid registration JWT: ' +
							checked.problems.join('; '), 40100);
						settle(error);
						return Promise.reject(error);
					}
					settle(true);
					return new Promise((resolve) => setTimeout(resolve, 5));
				};
				registration.registerFailed = () => {
					record.registerFailedCalls++;
					settle(new SinchError('no credentials were given', 40101));
				};
				this.emit('onCredentialsRequired', registration);
			});
		}

		start() {
			record.starts++;
			if (this.started || this.starting)
				throw new SinchError('the client is already started');
			this.starting = true;
			const failure = record.nextStartError;
			record.nextStartError = null;
			return new Promise((resolve, reject) => {
				setTimeout(async () => {
					const outcome = failure !== null ? toError(failure) : await this.askCredentials();
					this.starting = false;
					if (outcome !== true) {
						this.emit('onClientFailed', outcome);
						reject(outcome);
						return;
					}
					this.started = true;
					this.emit('onClientStarted');
					resolve();
				}, 10);
			});
		}

		terminate() {
			record.clientStops++;
			this.terminated = true;
			this.started = false;
		}
	}

	class FakeBuilder {
		constructor() { this.settings = {}; }
		applicationKey(key) { this.settings.applicationKey = key; return this; }
		userId(id) { this.settings.userId = id; return this; }
		environmentHost(host) { this.settings.environmentHost = host; return this; }

		build() {
			const s = this.settings;
			record.builds.push(Object.assign({}, s));
			if (typeof s.applicationKey !== 'string' || s.applicationKey === '')
				throw new SinchError('applicationKey is required');
			if (typeof s.userId !== 'string' || !USER_ID.test(s.userId) ||
			    new TextEncoder().encode(s.userId).length > 255)
				throw new SinchError('userId must be 1 to 255 bytes of A-Z a-z 0-9 - _ =');
			if (typeof s.environmentHost !== 'string' || !/^https:\/\/[a-z0-9.-]+$/.test(s.environmentHost))
				throw new SinchError('environmentHost must be an https:// host');
			return new FakeSinchClient(Object.assign({}, s));
		}
	}

	function currentCall() {
		const call = record.calls[record.calls.length - 1];
		if (call === undefined)
			throw new Error('fake-sinch-rtc: no call placed');
		return call;
	}

	function currentClient() {
		const client = record.clients[record.clients.length - 1];
		if (client === undefined)
			throw new Error('fake-sinch-rtc: no client built');
		return client;
	}

	window.Sinch = {
		version: '2.44.4-fake',
		getSinchClientBuilder: () => new FakeBuilder()
	};
	window.fakeSinch = Object.assign(record, {
		END_CAUSE,
		currentCall,
		currentClient,
		progress: () => currentCall().progress(),
		establish: () => currentCall().establish(),
		end: (cause, error) => currentCall().finish(cause === undefined ? END_CAUSE.HUNG_UP : cause,
			error || null),
		/* Fire onCredentialsRequired again, as a registration renewal does. */
		requireCredentials: () => currentClient().askCredentials(),
		/* The client fails after it started (the service dropped it). */
		failClient: (error) => currentClient().emit('onClientFailed', toError(error)),
		failNextStart: (error) => { record.nextStartError = error; },
		failNextCall: (error) => { record.nextCallError = error; },
		callState: () => currentCall().state
	});
})();
