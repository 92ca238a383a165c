/**
 * The plain privacy page served at `/privacy`: the consent step links to it when a tenant
 * has not set its own `privacyPolicyUrl`. It describes what this server stores for the
 * booking widget, and nothing tenant-specific, so it can be cached and shared by all tenants.
 */
export const PRIVACY_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Privacy: what the booking widget stores</title>
<style>
  body { font: 1rem/1.5 system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; background: #fff; }
  h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
  @media (prefers-color-scheme: dark) { body { color: #eee; background: #111; } a { color: #9cf; } }
</style>
</head>
<body>
<main>
<h1>Privacy: what the booking widget stores</h1>
<p>This page describes the booking widget that a business placed on its website. The business is responsible for your
booking data; its own privacy policy, where it has one, applies in addition to this page. The widget is run by
Calbridge, which connects the business's website to its scheduling provider, Cal.com.</p>

<h2>Before you agree</h2>
<p>Nothing is loaded from Cal.com and nothing about you is stored until you agree on the consent step. The widget only
reads its public settings (the consent text, the theme) from this server.</p>

<h2>When you agree: a consent record</h2>
<ul>
  <li>the version of the consent text you saw and a fingerprint (SHA-256) of that text, and which purposes you chose;</li>
  <li>the time, the address of the page (without its query or fragment), the referring site's address and the page's
    campaign (UTM) parameters;</li>
  <li>your network address shortened to its first three parts (IPv4 /24) or first three groups (IPv6 /48), never the full address;</li>
  <li>your browser's family (for example "Chrome"), never the full user-agent string.</li>
</ul>
<p>You then get a session that lasts a few minutes and only lets the page report the booking you make.</p>

<h2>When you book</h2>
<p>The calendar is shown by Cal.com, which receives what you enter (such as your name, email address and answers) and
technical data such as your IP address; Cal.com's privacy policy applies to it. This server keeps a copy of the booking
as Cal.com reports it to the business (time, event type, attendees' names and email addresses, answers, status, and the
link to your consent record), so the business can manage it.</p>

<h2>What is never stored here</h2>
<ul>
  <li>passwords or Cal.com sign-in tokens in the page;</li>
  <li>your full IP address or full user-agent string;</li>
  <li>anything from the page before you agree.</li>
</ul>

<h2>Your rights</h2>
<p>To see, correct or erase your data, contact the business whose website you booked on; it can export or erase what
this server holds about you.</p>
</main>
</body>
</html>
`;
