// Bring the page up to date without losing its state: fetch it again and morph the DOM into it,
// or reload it in full where a morph would not be safe, saying why in the console.
// Settings from the script tag: data-morph="false" (always reload), data-method (a page that
// answered a POST is never fetched again nor reloaded: that would send the form again).
import { explain, explainReload, log, setState } from './log.js';
import { sameKey } from './head.js';
import { morph } from './morph.js';
import { withPageNonces } from './nonce.js';
import * as wire from './protocol.js';

var reloading = false;
var scripts = scriptKeys(document); // as loaded; morphs keep this current
var last = Promise.resolve(false);
var next = null;

window.addEventListener('pageshow', function (event) {
  if (event.persisted) reloading = false; // back from the back/forward cache
});

// A full reload, unless the page answered a POST. Returns false: nothing was morphed.
// `entry` says what changed and why (see log.js's explain).
export function reload(entry) {
  if (reloading) return false;
  var method = wire.setting(wire.ATTR_METHOD);
  if (method) {
    var why = 'this page answered a ' + method + ' and reloading it would send the form ' +
      'again; it is stale until you navigate';
    explain({ what: entry.what, action: 'not reloading', why: why });
    return false;
  }
  reloading = true;
  explainReload(entry);
  setState('reloading');
  location.reload();
  return false;
}

// Update the page in place. One update runs at a time; calls made while one waits join it.
// Resolves to true once the page is morphed; false when it reloads or stays as it is.
export function update(entry) {
  if (next) return next;
  if (!reloading && fetchable()) setState('morphing');
  next = last.then(function () {
    next = null;
    return once(entry);
  });
  last = next;
  return next;
}

async function once(entry) {
  if (reloading || !fetchable()) return reload(entry);
  try {
    var morphed = await fetchAndMorph(entry);
    if (morphed) explain(Object.assign({}, entry, { action: 'page updated in place' }));
    return morphed;
  } catch (error) {
    return reload(because(entry, 'the update failed: ' + error));
  } finally {
    // Unless another update waits, or the connection changed state meanwhile.
    if (!next && document.documentElement.dataset.hotReload === 'morphing') setState('connected');
  }
}

// `entry` with the reason a morph was not safe: reloaded instead.
function because(entry, why) {
  return Object.assign({}, entry, { why: why });
}

async function fetchAndMorph(entry) {
  var why = entry.what;
  var response = await fetch(location.href, {
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { accept: 'text/html' },
  });
  var type = response.headers.get('content-type') || '';
  var ourErrorPage = response.headers.get(wire.HEADER_RESPONSE) === wire.ERROR_PAGE;
  if (response.redirected && withoutHash(response.url) !== withoutHash(location.href)) {
    log('the page now redirects to ' + response.url + ': going there');
    reloading = true;
    setState('reloading');
    location.assign(response.url);
    return false;
  }
  if (!/^text\/html/i.test(type)) {
    return reload(because(entry, 'the server answered ' + (type || 'no content type') + ', not HTML'));
  }
  if (!response.ok && !ourErrorPage) {
    return reload(because(entry, 'the server answered ' + response.status));
  }
  var text = withPageNonces(await response.text(), policies(response.headers));
  var fresh = new DOMParser().parseFromString(text, 'text/html');
  var freshScripts = scriptKeys(fresh);
  // The error page has none of the app's scripts; morphing into it and back keeps them running.
  if (!ourErrorPage && freshScripts.join('\n') !== scripts.join('\n')) {
    return reload(because(entry, "the page's scripts changed: a morph would not run them"));
  }
  var detail = { reason: why, document: fresh };
  var before = new CustomEvent('hot-reload:before-update', { cancelable: true, detail: detail });
  if (!document.dispatchEvent(before)) {
    return reload(because(entry, 'a hot-reload:before-update listener asked for a full reload'));
  }
  await morph(document.documentElement, fresh.documentElement);
  if (!ourErrorPage) scripts = freshScripts;
  if (window.htmx) window.htmx.process(document.body); // new or changed hx-* attributes
  document.dispatchEvent(new CustomEvent('hot-reload:updated', { detail: { reason: why } }));
  return true;
}

// The page's own scripts that run (not ours, not JSON or templates), each as written.
function scriptKeys(doc) {
  return Array.from(doc.querySelectorAll('script:not([' + wire.ATTR_MARK + '])'))
    .filter(function (script) {
      return /^(|module|importmap|.*(java|ecma)script.*)$/i.test(script.type);
    })
    .map(sameKey);
}

function policies(headers) {
  return ['content-security-policy', 'content-security-policy-report-only']
    .map((name) => headers.get(name) || '')
    .join(',');
}

// Whether the page may be fetched again and morphed: not switched off, and it answered a GET.
function fetchable() {
  return !wire.setting(wire.ATTR_METHOD) && wire.setting(wire.ATTR_MORPH) !== wire.MORPH_OFF;
}

function withoutHash(url) {
  return url.split('#')[0];
}
