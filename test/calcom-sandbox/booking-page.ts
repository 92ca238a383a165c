import { randomBytes } from 'node:crypto';
import { sanitizeMetadata } from './booking-service.js';
import type { SandboxContext } from './context.js';
import { ApiError, jsonBody, sendHtml, sendJson, type RequestContext, type Router } from './http.js';
import { bookingOutput } from './outputs.js';
import { dateKey, isValidTimeZone, zonedParts } from './time.js';
import type { SandboxEventType, SandboxUser } from './types.js';

/**
 * The Cal.com web app's booking page at the Cal link (`/{user}/{eventSlug}`),
 * plus the `/embed` variant that `@calcom/embed-core` frames
 * (`<origin>/<calLink>/embed?embed=<namespace>&embedType=…&<prefill>`).
 *
 * It books through the same BookingService as API v2 (so webhooks fire) via
 * an internal endpoint named like Cal.com's web app one (`POST /api/book/event`);
 * its body is the sandbox's own, not Cal.com's internal format.
 *
 * Inside an embed it speaks embed-iframe.ts's protocol: posts
 * `{ originator: "CAL", type, namespace, fullType: "CAL:<ns>:<type>", data }`
 * to the parent (`__iframeReady`, `__windowLoadComplete`, `__dimensionChanged`,
 * `linkReady`, `bookingSuccessful`, `bookingSuccessfulV2`, `__closeIframe`…)
 * and accepts `{ originator: "CAL", method, arg }` calls for
 * `parentKnowsIframeReady`, `ui` and `connect` — checking source, origin and shape.
 */
export function registerBookingPage(router: Router, sx: SandboxContext): void {
  router.on('POST', '/api/book/event', (ctx) => book(ctx, sx));
  router.on('GET', '/booking/:uid', (ctx) => confirmationPage(ctx, sx));
  router.on('GET', '/video/:uid', (ctx) => {
    sendHtml(ctx.res, 200, page('Cal Video (sandbox)', '', `<main><h1>Cal Video (sandbox)</h1><p>The sandbox has no video rooms.</p></main>`));
  });
  router.on('GET', '/:user/:slug', (ctx) => bookingPage(ctx, sx));
  router.on('GET', '/:user/:slug/embed', (ctx) => bookingPage(ctx, sx));
}

const UTM_KEYS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'];
const DAYS_SHOWN = 5;

function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function findEventType(sx: SandboxContext, username: string, slug: string): { user: SandboxUser; eventType: SandboxEventType } | undefined {
  const user = sx.store.userByUsername(username);
  const eventType = user && sx.store.eventTypeBySlug(user.id, slug);
  return user && eventType && !eventType.hidden ? { user, eventType } : undefined;
}

function bookingPage(ctx: RequestContext, sx: SandboxContext): void {
  const username = ctx.params['user']!;
  // API-looking paths are not Cal links: answer like the API would.
  if (username === 'v2' || username === '__sandbox' || username === 'api') throw new ApiError(404, `Cannot GET ${ctx.url.pathname}`);
  const found = findEventType(sx, username, ctx.params['slug']!);
  const nonce = randomBytes(16).toString('base64');
  if (!found) {
    // Cal.com's embed learns about a failed page through window.CalComPageStatus → linkFailed.
    sendHtml(
      ctx.res,
      404,
      page('This page could not be found', nonce, `<main><h1>This page could not be found</h1></main>`, `window.CalComPageStatus = "404";`),
      securityHeaders(nonce),
    );
    return;
  }
  const { user, eventType } = found;
  const q = ctx.url.searchParams;
  const now = sx.clock();
  const slots = sx.bookings.freeSlots(eventType, now, new Date(now.getTime() + 21 * 24 * 3600_000));
  const byDay = new Map<string, Date[]>();
  for (const s of slots) {
    const key = dateKey(s, user.timeZone);
    if (!byDay.has(key) && byDay.size >= DAYS_SHOWN) break;
    (byDay.get(key) ?? byDay.set(key, []).get(key)!).push(s);
  }
  const dayLabel = new Intl.DateTimeFormat('en-GB', { timeZone: user.timeZone, weekday: 'long', day: 'numeric', month: 'long' });
  let first = true;
  const dayGroups = [...byDay.entries()]
    .map(([key, daySlots]) => {
      const radios = daySlots
        .map((s) => {
          const p = zonedParts(s, user.timeZone);
          const label = `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
          const id = `slot-${s.getTime()}`;
          const html =
            `<li><input type="radio" id="${id}" name="start" value="${s.toISOString()}"${first ? ' required' : ''}>` +
            `<label for="${id}">${label}</label></li>`;
          first = false;
          return html;
        })
        .join('');
      return `<fieldset class="day"><legend>${esc(dayLabel.format(daySlots[0]))}</legend><ul class="slots" data-date="${key}">${radios}</ul></fieldset>`;
    })
    .join('');

  const hidden: string[] = [
    `<input type="hidden" name="eventTypeId" value="${eventType.id}">`,
    `<input type="hidden" name="timeZone" value="${esc(isValidTimeZone(q.get('timeZone') ?? '') ? q.get('timeZone')! : user.timeZone)}">`,
  ];
  for (const [k, v] of q) {
    const m = /^metadata\[([^\]]{1,40})\]$/.exec(k);
    if (m) hidden.push(`<input type="hidden" name="metadata[${esc(m[1]!)}]" value="${esc(v)}">`);
    if (UTM_KEYS.includes(k)) hidden.push(`<input type="hidden" name="${k}" value="${esc(v)}">`);
    if (k === 'guest' || k === 'guests') hidden.push(`<input type="hidden" name="guests" value="${esc(v)}">`);
    // Cal.com's reschedule link: /{user}/{slug}?rescheduleUid=<uid> (the original's metadata is not in it).
    if (k === 'rescheduleUid' && /^[\w-]{1,64}$/.test(v)) hidden.push(`<input type="hidden" name="rescheduleUid" value="${esc(v)}">`);
  }
  const body = `
<main class="main">
  <header>
    <p class="owner">${esc(user.name)}</p>
    <h1 id="title">${esc(eventType.title)}</h1>
    <p>${eventType.lengthInMinutes} min · Cal Video</p>
    ${eventType.description ? `<p>${esc(eventType.description)}</p>` : ''}
  </header>
  <form id="booking-form" method="post" action="/api/book/event" aria-labelledby="title" novalidate>
    ${hidden.join('\n    ')}
    <fieldset>
      <legend>Choose a time <span class="tz">(times in ${esc(user.timeZone)})</span></legend>
      ${dayGroups || '<p>No free times in the next three weeks.</p>'}
    </fieldset>
    <fieldset>
      <legend>Your details</legend>
      <p><label for="name">Your name</label><input id="name" name="name" autocomplete="name" required value="${esc(q.get('name') ?? '')}"></p>
      <p><label for="email">Email address</label><input id="email" name="email" type="email" autocomplete="email" required value="${esc(q.get('email') ?? '')}"></p>
      <p><label for="notes">Additional notes</label><textarea id="notes" name="notes" rows="3">${esc(q.get('notes') ?? '')}</textarea></p>
    </fieldset>
    <p id="form-error" role="alert"></p>
    <button type="submit" id="submit">Confirm booking</button>
  </form>
  <section id="success" hidden tabindex="-1" aria-labelledby="success-title">
    <h2 id="success-title">This meeting is scheduled</h2>
    <p id="success-detail"></p>
  </section>
  <p id="status" role="status" aria-live="polite"></p>
</main>`;
  sendHtml(ctx.res, 200, page(`${eventType.title} | ${user.name}`, nonce, body, FRAME_SCRIPT), securityHeaders(nonce));
}

function securityHeaders(nonce: string): Record<string, string> {
  return {
    // No external requests: everything is inline, guarded by a nonce. Any site may frame the page, like Cal.com's embed pages.
    'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; form-action 'self'; img-src 'self' data:; base-uri 'none'`,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  };
}

function page(title: string, nonce: string, body: string, script = ''): string {
  const n = nonce ? ` nonce="${nonce}"` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style${n}>
  html[data-embed] body { visibility: hidden; background: transparent; }
  body { font: 16px/1.5 system-ui, sans-serif; color: #111; margin: 0; }
  .main { max-width: 40rem; margin: 0 auto; padding: 1rem 1.25rem; background: #fff; }
  h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
  fieldset { border: 1px solid #999; border-radius: 6px; margin: 0 0 1rem; padding: .5rem 1rem 1rem; }
  fieldset.day { border: 0; padding: 0; margin: .5rem 0; }
  legend { font-weight: 600; }
  .tz { font-weight: 400; color: #444; }
  .slots { list-style: none; display: flex; flex-wrap: wrap; gap: .375rem; padding: 0; margin: .25rem 0 0; }
  .slots input { position: absolute; opacity: 0; }
  .slots label { display: inline-block; min-width: 4rem; text-align: center; border: 1px solid #555; border-radius: 4px; padding: .25rem .5rem; cursor: pointer; }
  .slots input:checked + label { background: #111; color: #fff; }
  .slots input:focus-visible + label, input:focus-visible, textarea:focus-visible, button:focus-visible { outline: 3px solid #1a5fd0; outline-offset: 2px; }
  label { display: block; }
  input:not([type=radio]), textarea { width: 100%; box-sizing: border-box; padding: .375rem; border: 1px solid #555; border-radius: 4px; font: inherit; }
  button { font: inherit; padding: .5rem 1rem; border: 0; border-radius: 4px; background: #111; color: #fff; cursor: pointer; }
  button[disabled] { opacity: .6; }
  #form-error { color: #a00000; }
</style>
</head>
<body>
${body}
${script ? `<script${n}>${script}</script>` : ''}
</body>
</html>`;
}

/** Embed-side protocol, in the page. Kept small and self-contained (no external script). */
const FRAME_SCRIPT = String.raw`
(function () {
  "use strict";
  var params = new URL(location.href).searchParams;
  var embedded = params.has("embed") && window.parent !== window;
  var ns = params.get("embed") || "";
  // The parent's origin, so messages go only there. Chromium exposes it as
  // location.ancestorOrigins; otherwise the referrer's origin (embed-core sets no
  // referrer policy, so the default strict-origin-when-cross-origin keeps it).
  // If neither is available (e.g. the host sends no-referrer on a browser without
  // ancestorOrigins) the page cannot know it and falls back to "*", like Cal.com.
  var parentOrigin = (function () {
    try { if (location.ancestorOrigins && location.ancestorOrigins.length) return location.ancestorOrigins[0]; } catch (e) {}
    try { if (document.referrer) return new URL(document.referrer).origin; } catch (e) {}
    return null;
  })();
  if (parentOrigin === "null") parentOrigin = null;
  var main = document.querySelector("main");
  if (embedded) document.documentElement.setAttribute("data-embed", ns);

  function fire(type, data) {
    if (!embedded) return;
    var fullType = ns ? "CAL:" + ns + ":" + type : "CAL::" + type;
    window.parent.postMessage({ originator: "CAL", type: type, namespace: ns, fullType: fullType, data: data }, parentOrigin || "*");
  }
  window.__calSandboxFire = fire;

  var known = { h: 0, w: 0 };
  function reportSize(first) {
    var h, w;
    if (first) { h = document.documentElement.scrollHeight; w = document.documentElement.scrollWidth; }
    else {
      var cs = getComputedStyle(main);
      h = Math.ceil(parseFloat(cs.height) + parseFloat(cs.marginTop) + parseFloat(cs.marginBottom));
      w = Math.ceil(parseFloat(cs.width) + parseFloat(cs.marginLeft) + parseFloat(cs.marginRight));
    }
    if (!h || !w || (h === known.h && w === known.w)) return;
    known = { h: h, w: w };
    fire("__dimensionChanged", { iframeHeight: h, iframeWidth: w, isFirstTime: !!first });
  }

  var linkReadySent = false;
  function linkReady() {
    document.body.style.visibility = "visible";
    if (linkReadySent) return;
    linkReadySent = true;
    fire("linkReady", {});
    var form = document.getElementById("booking-form");
    if (form) fire("availabilityLoaded", { eventId: Number(form.elements.eventTypeId.value), eventSlug: location.pathname.split("/")[2] || "" });
  }

  var methods = {
    parentKnowsIframeReady: function () { linkReady(); },
    ui: function (arg) {
      if (!arg || typeof arg !== "object") return;
      if (typeof arg.colorScheme === "string" && /^(light|dark)$/.test(arg.colorScheme)) document.documentElement.style.colorScheme = arg.colorScheme;
    },
    connect: function () {
      fire("__connectInitiated", {});
      fire("__connectCompleted", {});
      fire("linkReady", {});
    }
  };
  window.addEventListener("message", function (e) {
    if (!embedded || e.source !== window.parent) return;
    if (parentOrigin && e.origin !== parentOrigin) return;
    var d = e.data;
    if (!d || typeof d !== "object" || d.originator !== "CAL" || typeof d.method !== "string") return;
    if (!Object.prototype.hasOwnProperty.call(methods, d.method)) return;
    methods[d.method](d.arg);
  });

  document.addEventListener("click", function (e) {
    // A click outside the page content (the modal backdrop) asks the parent to close.
    if (e.target instanceof Node && main && e.target !== main && e.target.contains(main)) fire("__closeIframe", {});
  });

  function start() {
    if (!embedded) return;
    fire("__iframeReady", { isPrerendering: params.get("prerender") === "true" });
    if (window.CalComPageStatus && window.CalComPageStatus !== "200") {
      fire("linkFailed", { code: String(window.CalComPageStatus), msg: "Problem loading the link", data: { url: location.href } });
      return;
    }
    setTimeout(function () {
      fire("__windowLoadComplete", {});
      reportSize(true);
      if (window.ResizeObserver && main) new ResizeObserver(function () { reportSize(false); }).observe(main);
    }, 100);
  }
  if (document.readyState === "complete") start(); else window.addEventListener("load", start);

  var form = document.getElementById("booking-form");
  if (!form) return;
  try {
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (tz && !params.get("timeZone")) form.elements.timeZone.value = tz;
  } catch (e) {}
  var errorEl = document.getElementById("form-error");
  var statusEl = document.getElementById("status");
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    errorEl.textContent = "";
    var fd = new FormData(form);
    if (!fd.get("start")) { errorEl.textContent = "Choose a time."; return; }
    if (!form.elements.name.value.trim()) { errorEl.textContent = "Enter your name."; form.elements.name.focus(); return; }
    if (!form.elements.email.checkValidity() || !form.elements.email.value) { errorEl.textContent = "Enter a valid email address."; form.elements.email.focus(); return; }
    var metadata = {}, tracking = {}, guests = [];
    fd.forEach(function (v, k) {
      var m = /^metadata\[(.+)\]$/.exec(k);
      if (m) metadata[m[1]] = String(v);
      if (/^utm_/.test(k)) tracking[k] = String(v);
      if (k === "guests" && v) guests.push(String(v));
    });
    var button = document.getElementById("submit");
    button.disabled = true;
    statusEl.textContent = "Booking…";
    fetch("/api/book/event", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        eventTypeId: Number(fd.get("eventTypeId")), start: String(fd.get("start")),
        timeZone: String(fd.get("timeZone")), language: "en",
        responses: { name: String(fd.get("name")), email: String(fd.get("email")), notes: String(fd.get("notes") || ""), guests: guests },
        metadata: metadata, tracking: tracking,
        rescheduleUid: fd.get("rescheduleUid") ? String(fd.get("rescheduleUid")) : undefined
      })
    }).then(function (res) {
      return res.json().then(function (json) { return { ok: res.ok, json: json }; });
    }).then(function (r) {
      if (!r.ok) throw new Error((r.json && r.json.error && r.json.error.message) || "Booking failed");
      var b = r.json.booking, o = r.json.organizer;
      // Booker's useBookings (apps/web/modules/bookings/hooks/useBookings.ts) fires the deprecated event,
      // then the reduced V2 one; a reschedule fires rescheduleBookingSuccessful(V2) instead.
      // Status there is the Prisma enum, upper case.
      var rescheduling = !!fd.get("rescheduleUid");
      fire(rescheduling ? "rescheduleBookingSuccessful" : "bookingSuccessful", {
        booking: b, eventType: r.json.eventType, date: b.start, duration: b.duration,
        organizer: { name: o.name, email: o.email, timeZone: o.timeZone }, confirmed: b.status === "accepted"
      });
      fire(rescheduling ? "rescheduleBookingSuccessfulV2" : "bookingSuccessfulV2", {
        uid: b.uid, title: b.title, startTime: b.start, endTime: b.end, eventTypeId: b.eventTypeId,
        status: String(b.status).toUpperCase(), paymentRequired: false, isRecurring: false, videoCallUrl: b.location
      });
      form.hidden = true;
      var when = new Date(b.start);
      document.getElementById("success-detail").textContent = b.title + " — " + when.toUTCString();
      var success = document.getElementById("success");
      success.hidden = false;
      success.setAttribute("data-booking-uid", b.uid);
      statusEl.textContent = "Booked.";
      success.focus();
      fire("__routeChanged", {});
    }).catch(function (err) {
      errorEl.textContent = err.message;
      statusEl.textContent = "";
      button.disabled = false;
    });
  });
})();
`;

interface PageBooking {
  eventTypeId: number;
  start: string;
  timeZone: string;
  language?: string;
  name: string;
  email: string;
  notes?: string;
  guests: string[];
  metadata: Record<string, unknown>;
  tracking: Record<string, string>;
  rescheduleUid?: string;
}

function parsePageBooking(ctx: RequestContext): { input: PageBooking; wantsJson: boolean } {
  const type = String(ctx.req.headers['content-type'] ?? '');
  if (type.includes('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(ctx.rawBody);
    const metadata: Record<string, unknown> = {};
    const tracking: Record<string, string> = {};
    for (const [k, v] of form) {
      const m = /^metadata\[(.+)\]$/.exec(k);
      if (m) metadata[m[1]!] = v;
      if (UTM_KEYS.includes(k)) tracking[k] = v;
    }
    const notes = form.get('notes');
    const rescheduleUid = form.get('rescheduleUid');
    return {
      wantsJson: false,
      input: {
        ...(rescheduleUid ? { rescheduleUid } : {}),
        eventTypeId: Number(form.get('eventTypeId')),
        start: form.get('start') ?? '',
        timeZone: form.get('timeZone') ?? 'UTC',
        name: form.get('name') ?? '',
        email: form.get('email') ?? '',
        ...(notes ? { notes } : {}),
        guests: form.getAll('guests').filter(Boolean),
        metadata,
        tracking,
      },
    };
  }
  const body = jsonBody(ctx);
  const responses = (body['responses'] ?? {}) as Record<string, unknown>;
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const tracking: Record<string, string> = {};
  for (const [k, v] of Object.entries((body['tracking'] ?? {}) as Record<string, unknown>)) {
    if (UTM_KEYS.includes(k) && typeof v === 'string') tracking[k] = v;
  }
  return {
    wantsJson: true,
    input: {
      eventTypeId: Number(body['eventTypeId']),
      start: str(body['start']),
      timeZone: str(body['timeZone']) || 'UTC',
      language: str(body['language']) || 'en',
      name: str(responses['name']),
      email: str(responses['email']),
      ...(str(responses['notes']) ? { notes: str(responses['notes']) } : {}),
      guests: Array.isArray(responses['guests']) ? responses['guests'].filter((g): g is string => typeof g === 'string') : [],
      metadata: (body['metadata'] && typeof body['metadata'] === 'object' ? body['metadata'] : {}) as Record<string, unknown>,
      tracking,
      ...(str(body['rescheduleUid']) ? { rescheduleUid: str(body['rescheduleUid']) } : {}),
    },
  };
}

function book(ctx: RequestContext, sx: SandboxContext): void {
  const { input, wantsJson } = parsePageBooking(ctx);
  try {
    const eventType = sx.store.eventTypes.get(input.eventTypeId);
    if (!eventType) throw new ApiError(404, 'Event type not found');
    if (!input.name.trim()) throw new ApiError(400, 'Name is required');
    if (!/^[^@\s]+@[^@\s]+$/.test(input.email)) throw new ApiError(400, 'A valid email is required');
    const start = new Date(input.start);
    if (Number.isNaN(start.getTime())) throw new ApiError(400, 'Choose a time');
    const booking = input.rescheduleUid
      ? // RegularBookingService.ts: the new booking's metadata is `{ videoCallUrl, ...query metadata }` only.
        sx.bookings.reschedule(input.rescheduleUid, start, { fromPage: { metadata: sanitizeMetadata(input.metadata) } })
      : sx.bookings.create({
      eventType,
      start,
      attendee: {
        name: input.name.trim(),
        email: input.email,
        timeZone: isValidTimeZone(input.timeZone) ? input.timeZone : 'UTC',
        language: input.language ?? 'en',
      },
      guests: input.guests,
      metadata: sanitizeMetadata(input.metadata),
      ...(input.notes ? { notes: input.notes } : {}),
      tracking: input.tracking,
    });
    const owner = sx.bookings.owner(eventType);
    if (!wantsJson) {
      ctx.res.writeHead(303, { location: `/booking/${booking.uid}` });
      ctx.res.end();
      return;
    }
    sendJson(ctx.res, 200, {
      booking: bookingOutput(booking, eventType, owner),
      eventType: { id: eventType.id, slug: eventType.slug, title: eventType.title, length: eventType.lengthInMinutes },
      organizer: { name: owner.name, email: owner.email, timeZone: owner.timeZone },
    });
  } catch (err) {
    if (!(err instanceof ApiError) || wantsJson) throw err;
    sendHtml(ctx.res, err.status, page('Booking failed', '', `<main><h1>Booking failed</h1><p role="alert">${esc(err.message)}</p></main>`));
  }
}

function confirmationPage(ctx: RequestContext, sx: SandboxContext): void {
  const booking = sx.store.bookings.get(ctx.params['uid']!);
  if (!booking) {
    sendHtml(ctx.res, 404, page('Booking not found', '', '<main><h1>Booking not found</h1></main>'));
    return;
  }
  sendHtml(
    ctx.res,
    200,
    page(
      'This meeting is scheduled',
      '',
      `<main><h1>This meeting is scheduled</h1><p>${esc(booking.title)}</p><p><time datetime="${booking.start}">${esc(new Date(booking.start).toUTCString())}</time></p><p>Status: ${esc(booking.status)}</p></main>`,
    ),
  );
}
