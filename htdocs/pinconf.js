/* pinconf.js: the join page's client: asks getticket.cgi for credentials,
 * starts whichever Sinch SDK the page names (the current sinch-rtc 2.x, or
 * the legacy SinchClient), and shows the conference call (ringback, timer,
 * mute, hang-up, who is in, call log).  Markup contract: join.cgi(8). */
'use strict';

(function () {
	const RINGBACK_HZ = 425;		/* European ringback: 1 s on, 3 s off */
	const RINGBACK_ON_S = 1;
	const RINGBACK_PERIOD_S = 4;
	const RINGBACK_VOLUME = 0.12;
	const JOIN_LABEL = 'Join conference';
	/* How long to wait before telling the person something is stuck. */
	const SDK_LOAD_MS = 30000;
	const TICKET_MS = 15000;
	const START_MS = 20000;
	/* The roster is asked for this often (issue 12 wants at most 10 s). */
	const ROSTER_MS = 5000;
	/* The name rule of getticket.cgi(8), word for word. */
	const NAME_MAX = 64;
	const USER_ID = /^[A-Za-z0-9_=-]{1,255}$/;

	const MESSAGES = {
		sdkLoad: 'The calling service could not be loaded. Check your connection and reload the page.',
		unknownPin: 'No conference has that PIN, or it has ended.',
		microphone: 'Microphone access was denied. Allow it in the browser\'s site settings and try again.',
		network: 'The server could not be reached. Check your connection and try again.',
		startTimeout: 'The calling service did not answer. Check your connection and try again.',
		insecure: 'This page was not opened over HTTPS, so the browser will not let it use your ' +
			'microphone. Open it with an https:// address (or as localhost on this computer).',
		name: 'Your name must be 1 to 64 printable characters.',
		pinMissing: 'Enter the conference PIN.',
		pinDigits: 'The PIN is 4 to 8 digits, 0 to 9 only.',
		renewalRefused: 'Your sign-in to the calling service has expired; the next join starts a new one.',
		waitingForHost: 'Waiting for the host…',
		hostNeverCame: 'The host has not joined. Please try again later.'
	};

	/* Plain words for getticket.cgi's statuses, when its answer is not JSON. */
	const TICKET_STATUS = {
		400: 'The server did not accept that name or PIN.',
		403: 'The server refused the request.',
		404: MESSAGES.unknownPin,
		405: 'The server refused the request.',
		409: 'The conference is full or locked.',
		503: 'The conference service is unavailable. Try again later.'
	};

	/* The current SDK's numeric end causes (sinch-api.md 4b), in words. */
	const END_CAUSES = ['ended', 'timeout', 'denied', 'no answer', 'failure', 'hung up',
		'canceled', 'answered on another device', 'inactive'];

	/* Plain-words errors for the person, as opposed to programming errors. */
	class JoinError extends Error {
		constructor(message, status = 0) {
			super(message);
			this.status = status;
		}
	}

	/* The page's elements and the state of the one call it can hold. */
	function createPage(root) {
		const byId = (id) => document.getElementById(id);
		return {
			root,
			form: byId('join-form'),
			name: byId('name'),
			pin: byId('pin'),
			join: byId('join'),
			inCall: byId('in-call'),
			callWho: byId('call-who'),
			callState: byId('call-state'),
			timer: byId('timer'),
			mute: byId('mute'),
			hangup: byId('hangup'),
			rosterList: byId('roster-list'),
			status: byId('status'),
			error: byId('error'),
			callLog: byId('call-log'),
			remoteAudio: byId('remote-audio'),
			dialInLink: byId('dial-in-link'),
			dialIn: byId('dial-in'),
			dialInClose: byId('dial-in-close'),
			sdk: null,		/* Promise of { kind: 'current'|'legacy', api } */
			session: null,		/* the client of the last join: see startSession() */
			audioContext: null,
			ringback: null,		/* function that stops the ringback tone */
			call: null,		/* { sinchCall, session, name, pin, establishedAt, muted } */
			timerTimeout: null,
			roster: null,		/* { interval, stopped, shown } while polling */
			joining: false
		};
	}

	/* promise, or a JoinError with message once milliseconds have passed. */
	function withDeadline(promise, milliseconds, message) {
		let timer;
		const expired = new Promise((resolve, reject) => {
			timer = setTimeout(() => reject(new JoinError(message)), milliseconds);
		});
		return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
	}

	/* Which SDK the script defined: the current one wins if both are there. */
	function detectSdk() {
		if (window.Sinch && typeof window.Sinch.getSinchClientBuilder === 'function')
			return { kind: 'current', api: window.Sinch };
		if (typeof window.SinchClient === 'function')
			return { kind: 'legacy', api: window.SinchClient };
		return null;
	}

	/* Load the SDK with a script element, so that a failure is seen and said. */
	function loadSdk(url) {
		return withDeadline(new Promise((resolve, reject) => {
			if (!url) {
				reject(new JoinError(MESSAGES.sdkLoad));
				return;
			}
			const script = document.createElement('script');
			script.src = url;
			script.async = true;
			script.addEventListener('load', () => {
				const sdk = detectSdk();
				if (sdk !== null)
					resolve(sdk);
				else
					reject(new JoinError(MESSAGES.sdkLoad));
			});
			script.addEventListener('error', () => reject(new JoinError(MESSAGES.sdkLoad)));
			document.head.appendChild(script);
		}), SDK_LOAD_MS, MESSAGES.sdkLoad);
	}

	/* Write a short sentence for screen readers (and sighted people). */
	function announce(page, sentence) {
		page.status.textContent = sentence;
	}

	function showError(page, message) {
		page.error.textContent = message;
		page.error.hidden = false;
	}

	function clearError(page) {
		page.error.textContent = '';
		page.error.hidden = true;
	}

	/* hh:mm:ss of a number of seconds. */
	function formatDuration(seconds) {
		const total = Math.max(0, Math.floor(Number(seconds) || 0));
		const two = (n) => String(n).padStart(2, '0');
		return two(Math.floor(total / 3600)) + ':' + two(Math.floor(total / 60) % 60) +
			':' + two(total % 60);
	}

	/* The paragraph under a field that says what is wrong with it (or a hint). */
	function fieldMessage(input, kind = 'message') {
		const id = input.id + '-' + kind;
		let message = document.getElementById(id);
		if (message === null) {
			message = document.createElement('p');
			message.id = id;
			message.className = 'field-' + kind;
			message.hidden = true;
			input.insertAdjacentElement('afterend', message);
			const described = input.getAttribute('aria-describedby');
			input.setAttribute('aria-describedby', described ? described + ' ' + id : id);
		}
		return message;
	}

	/* Set (or clear, with '') a field's error, both for the form and on screen. */
	function setFieldError(input, text) {
		const message = fieldMessage(input);
		input.setCustomValidity(text);
		message.textContent = text;
		message.hidden = text === '';
		if (text === '')
			input.removeAttribute('aria-invalid');
		else
			input.setAttribute('aria-invalid', 'true');
	}

	/*
	 * getticket.cgi's rule: trimmed, 1 to 64 characters (code points, not
	 * bytes or UTF-16 units), none of them a control character.
	 */
	/* Controls, bidirectional and invisible format characters: cgi.c's cgi_code_point_unsafe(). */
	const UNSAFE_IN_NAME = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\u{e0001}\u{e0020}-\u{e007f}]/u;

	function nameProblem(name) {
		const length = [...name].length;
		if (length < 1 || length > NAME_MAX || UNSAFE_IN_NAME.test(name))
			return MESSAGES.name;
		return '';
	}

	function pinProblem(pin) {
		if (pin === '')
			return MESSAGES.pinMissing;
		return /^[0-9]{4,8}$/.test(pin) ? '' : MESSAGES.pinDigits;
	}

	/* Check both fields; on a problem let the form show it and say no. */
	function validateForm(page) {
		/* A pasted PIN often brings spaces; the field's pattern would refuse them. */
		page.pin.value = page.pin.value.trim();
		setFieldError(page.name, nameProblem(page.name.value.trim()));
		setFieldError(page.pin, pinProblem(page.pin.value));
		return page.form.reportValidity();
	}

	/* Words for a refused getticket answer: the server's own sentence if it sent one. */
	function describeTicketFailure(status, serverError, retryAfter) {
		if (serverError !== '')
			return serverError;
		if (status === 429) {
			const seconds = parseInt(retryAfter, 10);
			if (!(seconds > 0))
				return 'Too many wrong PINs from this network. Try again later.';
			const minutes = Math.max(1, Math.ceil(seconds / 60));
			return 'Too many wrong PINs from this network. Try again in ' + minutes +
				(minutes === 1 ? ' minute.' : ' minutes.');
		}
		return TICKET_STATUS[status] || 'The server could not sign you in (HTTP ' + status + ').';
	}

	/* The body of a JSON answer, or an empty object when it is not JSON. */
	async function readJson(response) {
		try {
			const body = await response.json();
			return body !== null && typeof body === 'object' ? body : {};
		} catch (error) {
			return {};
		}
	}

	/* POST a form to one of our CGIs: nothing of it goes into a URL. */
	async function postForm(url, fields, milliseconds) {
		try {
			return await fetch(new URL(url, document.baseURI), {
				method: 'POST',
				credentials: 'same-origin',
				cache: 'no-store',
				headers: { Accept: 'application/json' },
				body: new URLSearchParams(fields),
				signal: typeof AbortSignal.timeout === 'function' ?
					AbortSignal.timeout(milliseconds) : undefined
			});
		} catch (error) {
			throw new JoinError(MESSAGES.network);
		}
	}

	/*
	 * Ask getticket.cgi for credentials: it checks the PIN and issues a user id
	 * with a registration JWT and a legacy ticket.  With userId it is a renewal
	 * for that id.  Resolves to the answer, or throws a JoinError with status.
	 */
	async function fetchCredentials(page, name, pin, userId = null) {
		const fields = { name, pin };
		if (userId !== null)
			fields.userId = userId;
		const response = await postForm(page.root.dataset.ticketUrl, fields, TICKET_MS);
		const body = await readJson(response);
		if (!response.ok) {
			throw new JoinError(describeTicketFailure(response.status,
				typeof body.error === 'string' ? body.error : '',
				response.headers.get('Retry-After')), response.status);
		}
		if (typeof body.userId !== 'string' || !USER_ID.test(body.userId) ||
		    (typeof body.jwt !== 'string' && typeof body.userTicket !== 'string'))
			throw new JoinError('The server could not sign you in (its answer was incomplete).',
				response.status);
		return {
			userId: body.userId,
			jwt: typeof body.jwt === 'string' ? body.jwt : '',
			userTicket: typeof body.userTicket === 'string' ? body.userTicket : '',
			name: typeof body.name === 'string' && body.name !== '' ? body.name : name,
			conference: typeof body.conference === 'string' ? body.conference : '',
			waitForHost: body.waitForHost === true
		};
	}

	/* The SDK and the browser report errors as objects, strings or events. */
	function errorText(error) {
		if (error === null || error === undefined)
			return '';
		if (typeof error === 'string')
			return error;
		/* "Error" says nothing; DOMException names such as NotAllowedError do. */
		const name = error.name === 'Error' ? '' : error.name;
		const parts = [name, error.message, error.description, error.code]
			.filter((part) => typeof part === 'string' && part !== '');
		return parts.length > 0 ? parts.join(': ') : String(error);
	}

	function isMicrophoneDenied(error) {
		return /NotAllowedError|PermissionDenied|permission/i.test(errorText(error));
	}

	/* Plain words for an error of the SDK: start, call placement or a call. */
	function describeSdkError(what, error) {
		if (isMicrophoneDenied(error))
			return MESSAGES.microphone;
		if (error instanceof JoinError)
			return error.message;
		const detail = errorText(error) || 'no reason given';
		return what + ' (' + detail + ').';
	}

	/*
	 * A session is one join's Sinch client: its kind, the server-issued user
	 * id, the name the server shows for it.  Each join gets a fresh id from
	 * getticket, and a Sinch client cannot change its user, so each join
	 * builds a new client and stops the one before.
	 */
	function newSession(page, sdk, credentials, typedName, pin) {
		return {
			kind: sdk.kind,
			client: null,
			userId: credentials.userId,
			name: credentials.name,
			conference: credentials.conference,
			typedName,
			pin,
			firstJwt: credentials.jwt,
			expired: false,
			stopped: false
		};
	}

	/* Stop a session's client: terminate() in the current SDK, stop() in older ones. */
	function stopSession(session) {
		if (session === null || session.stopped || session.client === null)
			return;
		session.stopped = true;
		try {
			if (typeof session.client.terminate === 'function')
				session.client.terminate();
			else if (typeof session.client.stop === 'function')
				session.client.stop();
		} catch (error) {
			console.warn('pinconf: stopping the old client:', errorText(error));
		}
	}

	/*
	 * The current SDK asks for a registration JWT at start and again later.
	 * The first time the one getticket already gave serves; each later time a
	 * fresh one is fetched for the same user id.  A refused renewal (403)
	 * ends the session: the next join starts over with a new id.
	 */
	async function provideCredentials(page, session, registration) {
		if (session.firstJwt !== '') {
			const jwt = session.firstJwt;
			session.firstJwt = '';
			registration.register(jwt).catch((error) =>
				console.warn('pinconf: register:', errorText(error)));
			return;
		}
		let credentials;
		try {
			credentials = await fetchCredentials(page, session.typedName, session.pin, session.userId);
		} catch (error) {
			registration.registerFailed();
			if (error instanceof JoinError && error.status === 403) {
				session.expired = true;
				announce(page, MESSAGES.renewalRefused);
			}
			console.warn('pinconf: credentials renewal:', errorText(error));
			return;
		}
		registration.register(credentials.jwt).catch((error) =>
			console.warn('pinconf: register:', errorText(error)));
	}

	/* Build and start a current (sinch-rtc 2.x) client; resolves once it has started. */
	function startCurrentClient(page, Sinch, session) {
		const client = Sinch.getSinchClientBuilder()
			.applicationKey(page.root.dataset.applicationKey)
			.userId(session.userId)
			.environmentHost(page.root.dataset.environment)
			.build();
		session.client = client;
		return new Promise((resolve, reject) => {
			let started = false;
			client.addListener({
				onClientStarted: () => {
					started = true;
					resolve(client);
				},
				onClientFailed: (failed, error) => {
					const message = describeSdkError('The calling service did not start', error);
					if (!started) {
						reject(new JoinError(message));
					} else if (page.session === session && page.call === null) {
						showError(page, describeSdkError('The calling service stopped', error));
					}
				},
				onCredentialsRequired: (asking, registration) =>
					provideCredentials(page, session, registration)
			});
			try {
				const starting = client.start();
				if (starting && typeof starting.catch === 'function')
					starting.catch((error) => reject(new JoinError(
						describeSdkError('The calling service did not start', error))));
			} catch (error) {
				reject(new JoinError(describeSdkError('The calling service did not start', error)));
			}
		});
	}

	/* Build and start a legacy SinchClient with the user ticket. */
	async function startLegacyClient(page, SinchClient, session, ticket) {
		const client = new SinchClient({
			applicationKey: page.root.dataset.applicationKey,
			capabilities: { calling: true },
			startActiveConnection: false,
			onLogMessage: (message) => console.debug('sinch:', errorText(message) || message)
		});
		session.client = client;
		try {
			await client.start({ userTicket: ticket });
		} catch (error) {
			throw new JoinError(describeSdkError('The calling service did not start', error));
		}
		return client;
	}

	/* Replace the page's session with a started one for these credentials. */
	async function startSession(page, sdk, credentials, typedName, pin) {
		stopSession(page.session);
		const session = newSession(page, sdk, credentials, typedName, pin);
		page.session = session;
		const starting = sdk.kind === 'current' ?
			startCurrentClient(page, sdk.api, session) :
			startLegacyClient(page, sdk.api, session, credentials.userTicket);
		try {
			await withDeadline(starting, START_MS, MESSAGES.startTimeout);
		} catch (error) {
			stopSession(session);
			throw error;
		}
		return session;
	}

	/* The browser lets a page make sound only after a click: make the context then. */
	function audioContextForCall(page) {
		const AudioContext = window.AudioContext || window.webkitAudioContext;
		if (AudioContext === undefined)
			return null;
		if (page.audioContext === null)
			page.audioContext = new AudioContext();
		if (page.audioContext.state === 'suspended')
			page.audioContext.resume().catch(() => {});
		return page.audioContext;
	}

	/* Schedule one ringback burst starting at time at (seconds of the context). */
	function scheduleRingBurst(gain, at) {
		gain.setValueAtTime(0, at);
		gain.linearRampToValueAtTime(RINGBACK_VOLUME, at + 0.02);
		gain.setValueAtTime(RINGBACK_VOLUME, at + RINGBACK_ON_S - 0.02);
		gain.linearRampToValueAtTime(0, at + RINGBACK_ON_S);
	}

	/* Play ringback until the returned function is called. */
	function startRingback(context) {
		if (context === null)
			return () => {};
		const oscillator = context.createOscillator();
		const gain = context.createGain();
		oscillator.frequency.value = RINGBACK_HZ;
		gain.gain.value = 0;
		oscillator.connect(gain).connect(context.destination);
		let next = context.currentTime + 0.05;
		const scheduleAhead = () => {
			while (next < context.currentTime + 2 * RINGBACK_PERIOD_S) {
				scheduleRingBurst(gain.gain, next);
				next += RINGBACK_PERIOD_S;
			}
		};
		scheduleAhead();
		oscillator.start();
		const interval = setInterval(scheduleAhead, RINGBACK_PERIOD_S * 1000);
		return () => {
			clearInterval(interval);
			gain.gain.cancelScheduledValues(context.currentTime);
			gain.gain.setValueAtTime(0, context.currentTime);
			oscillator.stop();
			oscillator.disconnect();
			gain.disconnect();
		};
	}

	function stopRingback(page) {
		if (page.ringback !== null) {
			page.ringback();
			page.ringback = null;
		}
	}

	function setCallState(page, state, sentence) {
		page.callState.textContent = state;
		page.callState.dataset.state = state.toLowerCase();
		announce(page, sentence);
	}

	/* Show the elapsed time since establishment, redrawn on each second. */
	function runTimer(page) {
		if (page.call === null || page.call.establishedAt === null)
			return;
		const elapsed = Date.now() - page.call.establishedAt;
		page.timer.textContent = formatDuration(elapsed / 1000);
		page.timer.dateTime = 'PT' + Math.floor(elapsed / 1000) + 'S';
		page.timerTimeout = setTimeout(() => runTimer(page), 1000 - (elapsed % 1000) + 5);
	}

	function stopTimer(page) {
		clearTimeout(page.timerTimeout);
		page.timerTimeout = null;
	}

	/* Play what the SDK gives as the remote sound: a MediaStream, or a URL in old builds. */
	function playRemoteAudio(audio, source) {
		if (typeof source === 'string' && source !== '') {
			audio.srcObject = null;
			audio.src = source;
		} else if (typeof MediaStream !== 'undefined' && source instanceof MediaStream) {
			audio.removeAttribute('src');
			audio.srcObject = source;
		} else {
			return;
		}
		const playing = audio.play();
		if (playing !== undefined)
			playing.catch((error) => console.warn('pinconf: remote audio:', errorText(error)));
	}

	/* The legacy SDK's remote sound, known once the call is established. */
	function legacyRemoteSource(sinchCall) {
		return sinchCall.incomingStreamURL !== undefined && sinchCall.incomingStreamURL !== null ?
			sinchCall.incomingStreamURL : sinchCall.incomingStream;
	}

	function stopRemoteAudio(audio) {
		audio.pause();
		audio.srcObject = null;
		audio.removeAttribute('src');
	}

	/* Swap the form and the call panel. */
	function showInCall(page, inCall) {
		page.form.hidden = inCall;
		page.inCall.hidden = !inCall;
	}

	function resetCallPanel(page, call) {
		page.timer.textContent = formatDuration(0);
		page.timer.dateTime = 'PT0S';
		page.mute.textContent = 'Mute';
		page.mute.setAttribute('aria-pressed', 'false');
		page.hangup.disabled = false;
		page.callState.textContent = 'Connecting';
		page.callState.dataset.state = 'connecting';
		page.callWho.textContent = (call.conference !== '' ? call.conference + ': ' : '') +
			'you appear as ' + call.name + '.';
		page.rosterList.replaceChildren();
	}

	function onCallProgressing(page, sinchCall) {
		if (page.call === null || page.call.sinchCall !== sinchCall)
			return;
		if (page.ringback === null)
			page.ringback = startRingback(page.audioContext);
		setCallState(page, 'Ringing', 'Ringing: the conference is being reached.');
	}

	function onCallEstablished(page, sinchCall) {
		const call = page.call;
		if (call === null || call.sinchCall !== sinchCall || call.establishedAt !== null)
			return;
		stopRingback(page);
		if (call.session.kind === 'legacy')
			playRemoteAudio(page.remoteAudio, legacyRemoteSource(sinchCall));
		call.establishedAt = Date.now();
		setCallState(page, 'Connected', 'Connected to the conference.');
		stopTimer(page);
		runTimer(page);
		startRoster(page, call);
	}

	/* "HUNG_UP" reads "hung up"; the current SDK's 5 too. */
	function describeEndCause(cause) {
		if (typeof cause === 'number')
			return END_CAUSES[cause] || 'ended';
		if (typeof cause !== 'string' || cause === '')
			return 'ended';
		return cause.toLowerCase().replace(/_/g, ' ');
	}

	/* A span of the log entry, its text never parsed as HTML. */
	function logPart(className, text) {
		const span = document.createElement('span');
		span.className = className;
		span.textContent = text;
		return span;
	}

	/* Add a line to the call log: when, who, which PIN, why it ended, how long. */
	function logCall(page, call, cause, seconds) {
		const now = new Date();
		const item = document.createElement('li');
		const time = document.createElement('time');
		time.dateTime = now.toISOString();
		time.className = 'log-time';
		time.textContent = now.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
		item.append(time, ' ',
			logPart('log-name', call.name), ' ',
			logPart('log-pin', 'PIN ' + call.pin), ' ',
			logPart('log-cause', describeEndCause(cause)), ' ',
			logPart('log-duration', formatDuration(seconds)));
		item.lastChild.title = 'Duration';
		item.dataset.cause = cause === null || cause === undefined ? '' : String(cause);
		page.callLog.prepend(item);
	}

	/*
	 * How a call ended, read the way each SDK tells it: the current one has
	 * details { duration ms, endCause number, error }, the legacy one
	 * getDetails() { duration s }, getEndCause() and error.
	 */
	function callOutcome(sinchCall, call) {
		let cause = null, seconds = null, error = sinchCall.error || null;
		if (call.session.kind === 'current') {
			const details = sinchCall.details || {};
			cause = details.endCause !== undefined ? details.endCause : sinchCall.endCause;
			if (Number.isFinite(Number(details.duration)))
				seconds = Number(details.duration) / 1000;
			error = details.error || error;
		} else {
			cause = typeof sinchCall.getEndCause === 'function' ? sinchCall.getEndCause() : '';
			const details = typeof sinchCall.getDetails === 'function' ? sinchCall.getDetails() : null;
			if (details && Number.isFinite(Number(details.duration)))
				seconds = Number(details.duration);
		}
		if (seconds === null)
			seconds = call.establishedAt === null ? 0 : (Date.now() - call.establishedAt) / 1000;
		return { cause, seconds, error };
	}

	function onCallEnded(page, sinchCall) {
		const call = page.call;
		if (call === null || call.sinchCall !== sinchCall)
			return;
		stopRingback(page);
		stopTimer(page);
		stopRoster(page);
		stopRemoteAudio(page.remoteAudio);
		const outcome = callOutcome(sinchCall, call);
		logCall(page, call, outcome.cause, outcome.seconds);
		page.call = null;
		if (outcome.error) {
			showError(page, describeSdkError('The call failed', outcome.error));
			announce(page, 'The call failed.');
		} else {
			announce(page, 'The call ended after ' + formatDuration(outcome.seconds) + ' (' +
				describeEndCause(outcome.cause) + ').');
		}
		showInCall(page, false);
		page.join.focus();
	}

	function callListener(page, sinchCall) {
		return {
			onCallProgressing: () => onCallProgressing(page, sinchCall),
			onCallEstablished: () => onCallEstablished(page, sinchCall),
			onCallEnded: () => onCallEnded(page, sinchCall)
		};
	}

	/* Start the call: a Promise of the Call (current SDK) or the Call itself (legacy). */
	async function dialConference(session, pin) {
		try {
			if (session.kind === 'current')
				return await session.client.callClient.callConference(pin);
			return session.client.getCallClient().callConference(pin);
		} catch (error) {
			throw new JoinError(describeSdkError('The call could not be placed', error));
		}
	}

	/* Place the conference call and follow it. */
	async function placeCall(page, session) {
		const sinchCall = await dialConference(session, session.pin);
		const call = { sinchCall, session, name: session.name, conference: session.conference,
			pin: session.pin, establishedAt: null, muted: false };
		page.call = call;
		/* The current SDK's stream exists from the start (Sinch's reference app does this). */
		if (session.kind === 'current')
			playRemoteAudio(page.remoteAudio, sinchCall.incomingStream);
		resetCallPanel(page, call);
		showInCall(page, true);
		announce(page, 'Calling the conference.');
		if (session.kind === 'current')
			sinchCall.addListener(callListener(page, sinchCall));
		else
			sinchCall.addEventListener(callListener(page, sinchCall));
		page.mute.focus();
	}

	/* ---------------------------------------------------------- roster */

	/* One line of the roster: the name, and how they are in. */
	function rosterItem(participant) {
		const item = document.createElement('li');
		const via = participant.via === 'phone' ? 'by phone' : 'in a browser';
		item.append(logPart('roster-name', String(participant.name)), ' ',
			logPart('roster-via', '(' + (participant.host === true ? 'host, ' : '') + via + ')'));
		item.dataset.via = participant.via === 'phone' ? 'phone' : 'browser';
		return item;
	}

	/* Redraw only on a change, so that screen readers hear news, not every poll. */
	function showRoster(page, participants) {
		const list = participants.filter((p) => p && typeof p.name === 'string');
		const shown = JSON.stringify(list.map((p) => [p.name, p.via, p.host === true]));
		if (page.roster === null || page.roster.shown === shown)
			return;
		page.roster.shown = shown;
		page.rosterList.replaceChildren(...list.map(rosterItem));
	}

	async function pollRoster(page, roster, userId) {
		let response;
		try {
			response = await postForm(page.root.dataset.rosterUrl, { userId }, ROSTER_MS);
		} catch (error) {
			return;		/* a lost poll: the next one may get through */
		}
		if (roster.stopped)
			return;
		if (response.status === 403) {
			stopRoster(page);
			return;
		}
		if (!response.ok)
			return;
		const body = await readJson(response);
		if (!roster.stopped && Array.isArray(body.participants))
			showRoster(page, body.participants);
	}

	/* Ask roster.cgi who is in, now and every ROSTER_MS, until the call ends or it says 403. */
	function startRoster(page, call) {
		stopRoster(page);
		if (!page.root.dataset.rosterUrl || page.rosterList === null)
			return;
		const roster = { interval: null, stopped: false, shown: null };
		page.roster = roster;
		const poll = () => pollRoster(page, roster, call.session.userId);
		roster.interval = setInterval(poll, ROSTER_MS);
		poll();
	}

	function stopRoster(page) {
		if (page.roster === null)
			return;
		page.roster.stopped = true;
		clearInterval(page.roster.interval);
		page.roster = null;
	}

	/* ---------------------------------------------------------- waiting for the host */

	/*
	 * The conference waits for its host (getticket said waitForHost): ask
	 * roster.cgi, at most every ROSTER_MS, until a host is in, then return.
	 * A call placed before would be refused (callback.cgi(8)).
	 */
	async function waitForHost(page, userId) {
		page.join.textContent = MESSAGES.waitingForHost;
		page.root.dataset.waiting = 'host';
		announce(page, MESSAGES.waitingForHost);
		try {
			for (;;) {
				let response = null;
				try {
					response = await postForm(page.root.dataset.rosterUrl, { userId }, ROSTER_MS);
				} catch (error) {
					/* a lost poll: the next one may get through */
				}
				if (response !== null && response.status === 403)
					throw new JoinError(MESSAGES.hostNeverCame);
				const body = response !== null && response.ok ? await readJson(response) : {};
				if (body.hostIn === true || Array.isArray(body.participants) && body.participants.length > 0)
					return;
				await new Promise((resolve) => setTimeout(resolve, ROSTER_MS));
			}
		} finally {
			delete page.root.dataset.waiting;
		}
	}

	/* ---------------------------------------------------------- joining */

	function setJoining(page, joining) {
		page.joining = joining;
		page.join.disabled = joining;
		page.join.textContent = joining ? 'Joining…' : JOIN_LABEL;
		page.form.setAttribute('aria-busy', joining ? 'true' : 'false');
	}

	/* The whole join: check, get credentials, start a client, call. */
	async function join(page) {
		const name = page.name.value.trim();
		const pin = page.pin.value.trim();
		setJoining(page, true);
		clearError(page);
		announce(page, 'Checking the PIN.');
		try {
			/* The SDK may still be loading: wait for it while the credentials come. */
			const [credentials, sdk] = await Promise.all([
				fetchCredentials(page, name, pin), page.sdk]);
			if (credentials.waitForHost)
				await waitForHost(page, credentials.userId);
			announce(page, 'Starting the calling service.');
			const session = await startSession(page, sdk, credentials, name, pin);
			await placeCall(page, session);
			setJoining(page, false);
		} catch (error) {
			setJoining(page, false);
			const message = error instanceof JoinError ? error.message :
				describeSdkError('Something went wrong', error);
			showError(page, message);
			/* The error itself is an alert: the status only says what happened. */
			announce(page, 'Could not join.');
			page.join.focus();
		}
	}

	function onJoinSubmit(page, event) {
		event.preventDefault();
		if (page.joining || page.call !== null || page.sdk === null)
			return;
		if (!validateForm(page))
			return;
		/* Here, inside the click, the browser still allows sound to start. */
		audioContextForCall(page);
		join(page);
	}

	function onMuteClick(page) {
		const call = page.call;
		if (call === null)
			return;
		if (call.muted)
			call.sinchCall.unmute();
		else
			call.sinchCall.mute();
		call.muted = !call.muted;
		page.mute.textContent = call.muted ? 'Unmute' : 'Mute';
		page.mute.setAttribute('aria-pressed', call.muted ? 'true' : 'false');
		announce(page, call.muted ? 'Your microphone is muted.' : 'Your microphone is on.');
	}

	function onHangupClick(page) {
		if (page.call === null)
			return;
		page.hangup.disabled = true;
		announce(page, 'Hanging up.');
		page.call.sinchCall.hangup();
	}

	/* Clear a field's error as soon as it is being fixed. */
	function watchField(input, problem) {
		input.addEventListener('input', () => {
			if (input.validationMessage !== '' || input.getAttribute('aria-invalid'))
				setFieldError(input, problem(input.value.trim()));
		});
	}

	/* The dial-in numbers: a modal dialog; Escape closes it by itself. */
	function setupDialIn(page) {
		if (page.dialInLink === null || page.dialIn === null ||
		    typeof page.dialIn.showModal !== 'function')
			return;
		page.dialInLink.setAttribute('aria-haspopup', 'dialog');
		page.dialInLink.addEventListener('click', (event) => {
			event.preventDefault();
			page.dialIn.showModal();
		});
		if (page.dialInClose !== null)
			page.dialInClose.addEventListener('click', () => page.dialIn.close());
		/* A click on the backdrop lands on the dialog itself. */
		page.dialIn.addEventListener('click', (event) => {
			if (event.target === page.dialIn)
				page.dialIn.close();
		});
		page.dialIn.addEventListener('close', () => page.dialInLink.focus());
	}

	/* Leaving the page ends the call rather than leaving it hanging. */
	function hangUpOnLeave(page) {
		window.addEventListener('pagehide', () => {
			if (page.call !== null)
				page.call.sinchCall.hangup();
			stopRoster(page);
		});
	}

	/* Without a secure context there is no microphone: say so, start nothing. */
	function refuseInsecure(page) {
		showError(page, MESSAGES.insecure);
		announce(page, MESSAGES.insecure);
		page.join.disabled = true;
		page.root.dataset.insecure = 'true';
	}

	function init() {
		const root = document.getElementById('pinconf');
		if (root === null || document.getElementById('join-form') === null)
			return;
		const page = createPage(root);
		/* JavaScript checks the form and says why in words; without it the browser does. */
		page.form.noValidate = true;
		watchField(page.name, nameProblem);
		watchField(page.pin, pinProblem);
		page.form.addEventListener('submit', (event) => onJoinSubmit(page, event));
		setupDialIn(page);
		if (window.isSecureContext === false) {
			refuseInsecure(page);
			return;
		}
		page.sdk = loadSdk(root.dataset.sdkUrl);
		page.sdk.catch((error) => {
			showError(page, error.message);
			announce(page, error.message);
		});
		page.mute.addEventListener('click', () => onMuteClick(page));
		page.hangup.addEventListener('click', () => onHangupClick(page));
		hangUpOnLeave(page);
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', init);
	else
		init();
})();
