/* pinconf.js: the join page's client: asks getticket.cgi for a Sinch ticket,
 * starts the Sinch JS SDK and shows the conference call (ringback, timer,
 * mute, hang-up, call log).  Markup contract: join.cgi(8). */
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

	const MESSAGES = {
		sdkLoad: 'The calling service could not be loaded. Check your connection and reload the page.',
		unknownPin: 'No conference has that PIN, or it has ended.',
		microphone: 'Microphone access was denied. Allow it in the browser\'s site settings and try again.',
		network: 'The server could not be reached. Check your connection and try again.',
		startTimeout: 'The calling service did not answer. Check your connection and try again.',
		nameMissing: 'Enter your name or e-mail address.',
		pinMissing: 'Enter the conference PIN.',
		pinDigits: 'The PIN is 4 to 8 digits, 0 to 9 only.'
	};

	/* Plain-words errors for the person, as opposed to programming errors. */
	class JoinError extends Error {}

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
			callState: byId('call-state'),
			timer: byId('timer'),
			mute: byId('mute'),
			hangup: byId('hangup'),
			status: byId('status'),
			error: byId('error'),
			callLog: byId('call-log'),
			remoteAudio: byId('remote-audio'),
			dialInLink: byId('dial-in-link'),
			dialIn: byId('dial-in'),
			dialInClose: byId('dial-in-close'),
			sdk: null,		/* Promise of the SinchClient constructor */
			client: null,		/* the one SinchClient of this page */
			clientStarted: false,
			identity: null,		/* the name the client was started for */
			audioContext: null,
			ringback: null,		/* function that stops the ringback tone */
			call: null,		/* { sinchCall, name, pin, establishedAt, muted } */
			timerTimeout: null,
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
				if (typeof window.SinchClient === 'function')
					resolve(window.SinchClient);
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

	function nameProblem(name) {
		return name === '' ? MESSAGES.nameMissing : '';
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

	/* Plain words for a failed getticket answer. */
	function describeTicketFailure(status, serverError, retryAfter) {
		if (status === 404)
			return MESSAGES.unknownPin;
		if (status === 429) {
			const seconds = parseInt(retryAfter, 10);
			if (!(seconds > 0))
				return 'Too many wrong PINs from this network. Try again later.';
			const minutes = Math.max(1, Math.ceil(seconds / 60));
			return 'Too many wrong PINs from this network. Try again in ' + minutes +
				(minutes === 1 ? ' minute.' : ' minutes.');
		}
		const detail = serverError ? serverError : 'HTTP ' + status;
		if (status === 400)
			return 'The server did not accept that name (' + detail + ').';
		return 'The server could not sign you in (' + detail + ').';
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

	/* Ask getticket.cgi for a user ticket; it also checks the PIN. */
	async function fetchTicket(ticketUrl, name, pin) {
		const url = new URL(ticketUrl, document.baseURI);
		url.searchParams.set('id', name);
		url.searchParams.set('pin', pin);
		let response;
		try {
			response = await fetch(url, {
				credentials: 'same-origin',
				cache: 'no-store',
				headers: { Accept: 'application/json' },
				signal: typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(TICKET_MS) : undefined
			});
		} catch (error) {
			throw new JoinError(MESSAGES.network);
		}
		const body = await readJson(response);
		if (!response.ok) {
			throw new JoinError(describeTicketFailure(response.status,
				typeof body.error === 'string' ? body.error : '',
				response.headers.get('Retry-After')));
		}
		if (typeof body.userTicket !== 'string' || body.userTicket === '')
			throw new JoinError(describeTicketFailure(response.status, 'no ticket in the answer', null));
		return body.userTicket;
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
	 * One SinchClient a page, started for the first name that got a ticket.
	 * Later joins reuse it; their fresh ticket only served to check the PIN.
	 * Signing in again under another name would need a new client (Sinch's
	 * SDK has no way to change identity), so the name field is locked once
	 * the client runs and the person reloads the page to use another name.
	 */
	async function startedClient(page, SinchClient, ticket, name) {
		if (page.client === null) {
			page.client = new SinchClient({
				applicationKey: page.root.dataset.applicationKey,
				capabilities: { calling: true },
				startActiveConnection: false,
				onLogMessage: (message) => console.debug('sinch:', errorText(message) || message)
			});
		}
		if (!page.clientStarted) {
			try {
				await withDeadline(page.client.start({ userTicket: ticket }), START_MS,
					MESSAGES.startTimeout);
			} catch (error) {
				throw new JoinError(describeSdkError('The calling service did not start', error));
			}
			page.clientStarted = true;
			page.identity = name;
			lockName(page);
		}
		return page.client;
	}

	/* The client's identity is fixed: say so beside the name field. */
	function lockName(page) {
		page.name.readOnly = true;
		const hint = fieldMessage(page.name, 'hint');
		hint.textContent = 'Signed in as ' + page.identity + '. Reload the page to use another name.';
		hint.hidden = false;
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

	/* The SDK gives the remote sound as a URL (older builds) or a MediaStream. */
	function playRemoteAudio(audio, sinchCall) {
		const source = sinchCall.incomingStreamURL !== undefined && sinchCall.incomingStreamURL !== null ?
			sinchCall.incomingStreamURL : sinchCall.incomingStream;
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

	function resetCallPanel(page) {
		page.timer.textContent = formatDuration(0);
		page.timer.dateTime = 'PT0S';
		page.mute.textContent = 'Mute';
		page.mute.setAttribute('aria-pressed', 'false');
		page.hangup.disabled = false;
		page.callState.textContent = 'Connecting';
		page.callState.dataset.state = 'connecting';
	}

	function onCallProgressing(page) {
		if (page.ringback === null)
			page.ringback = startRingback(page.audioContext);
		setCallState(page, 'Ringing', 'Ringing: the conference is being reached.');
	}

	function onCallEstablished(page, sinchCall) {
		stopRingback(page);
		playRemoteAudio(page.remoteAudio, sinchCall);
		page.call.establishedAt = Date.now();
		setCallState(page, 'Connected', 'Connected to the conference.');
		stopTimer(page);
		runTimer(page);
	}

	/* "HUNG_UP" reads "hung up". */
	function describeEndCause(cause) {
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
		item.dataset.cause = typeof cause === 'string' ? cause : '';
		page.callLog.prepend(item);
	}

	/* Seconds the call lasted: the SDK's figure, else our own clock. */
	function callSeconds(sinchCall, call) {
		const details = typeof sinchCall.getDetails === 'function' ? sinchCall.getDetails() : null;
		if (details && Number.isFinite(Number(details.duration)))
			return Number(details.duration);
		return call.establishedAt === null ? 0 : (Date.now() - call.establishedAt) / 1000;
	}

	function onCallEnded(page, sinchCall) {
		const call = page.call;
		if (call === null || call.sinchCall !== sinchCall)
			return;
		stopRingback(page);
		stopTimer(page);
		stopRemoteAudio(page.remoteAudio);
		const cause = typeof sinchCall.getEndCause === 'function' ? sinchCall.getEndCause() : '';
		const seconds = callSeconds(sinchCall, call);
		logCall(page, call, cause, seconds);
		page.call = null;
		if (sinchCall.error) {
			showError(page, describeSdkError('The call failed', sinchCall.error));
			announce(page, 'The call failed.');
		} else {
			announce(page, 'The call ended after ' + formatDuration(seconds) + ' (' +
				describeEndCause(cause) + ').');
		}
		showInCall(page, false);
		page.join.focus();
	}

	/* Place the conference call and follow it. */
	function placeCall(page, client, name, pin) {
		let sinchCall;
		try {
			sinchCall = client.getCallClient().callConference(pin);
		} catch (error) {
			throw new JoinError(describeSdkError('The call could not be placed', error));
		}
		page.call = { sinchCall, name, pin, establishedAt: null, muted: false };
		resetCallPanel(page);
		showInCall(page, true);
		announce(page, 'Calling the conference.');
		sinchCall.addEventListener({
			onCallProgressing: () => onCallProgressing(page),
			onCallEstablished: (established) => onCallEstablished(page, established || sinchCall),
			onCallEnded: (ended) => onCallEnded(page, ended || sinchCall)
		});
		page.mute.focus();
	}

	function setJoining(page, joining) {
		page.joining = joining;
		page.join.disabled = joining;
		page.join.textContent = joining ? 'Joining…' : JOIN_LABEL;
		page.form.setAttribute('aria-busy', joining ? 'true' : 'false');
	}

	/* The whole join: check, get a ticket, start the SDK, call. */
	async function join(page) {
		const name = page.name.value.trim();
		const pin = page.pin.value.trim();
		setJoining(page, true);
		clearError(page);
		announce(page, 'Checking the PIN.');
		try {
			/* The SDK may still be loading: wait for it while the ticket comes. */
			const [ticket, SinchClient] = await Promise.all([
				fetchTicket(page.root.dataset.ticketUrl, name, pin), page.sdk]);
			announce(page, 'Starting the calling service.');
			const client = await startedClient(page, SinchClient, ticket, name);
			setJoining(page, false);
			placeCall(page, client, name, pin);
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
		if (page.joining || page.call !== null)
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
		});
	}

	function init() {
		const root = document.getElementById('pinconf');
		if (root === null || document.getElementById('join-form') === null)
			return;
		const page = createPage(root);
		/* JavaScript checks the form and says why in words; without it the browser does. */
		page.form.noValidate = true;
		page.sdk = loadSdk(root.dataset.sdkUrl);
		page.sdk.catch((error) => {
			showError(page, error.message);
			announce(page, error.message);
		});
		watchField(page.name, nameProblem);
		watchField(page.pin, pinProblem);
		page.form.addEventListener('submit', (event) => onJoinSubmit(page, event));
		page.mute.addEventListener('click', () => onMuteClick(page));
		page.hangup.addEventListener('click', () => onHangupClick(page));
		setupDialIn(page);
		hangUpOnLeave(page);
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', init);
	else
		init();
})();
