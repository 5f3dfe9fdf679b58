// What the page tells the developer (console lines) and tests (the readiness signal).

export function log(text) {
  console.info('[hot-reload] ' + text);
}

// What a change message is about: `a.html, b.css changed`, or its own console entry's `what`.
export function what(message) {
  return message.entry ? message.entry.what : (message.paths || []).join(', ') + ' changed';
}

// document.documentElement.dataset.hotReload: connecting, connected, reconnecting,
// morphing, reloading.
export function setState(value) {
  document.documentElement.dataset.hotReload = value;
}

// One console line per update: what changed, what was done (and why), and how long after the
// server saw the change (`t`, ms since the epoch, from the server's message) the page was
// updated. Every update goes through here:
//   explain({ what: 'style.css changed', action: 'stylesheet swapped in place', t: message.t })
// `since` names the moment `t` is (default: the server seeing the change).
export function explain(entry) {
  var took = elapsed(entry.t);
  var after = took === null ? '' : ', ' + took + ' ms after ' + (entry.since || 'the server saw it');
  log(entry.what + ': ' + entry.action + (entry.why ? ' (' + entry.why + ')' : '') + after);
}

// A full reload explains itself twice: now (in case the console is kept) and on the new page,
// which alone knows when the page was updated. The tab's sessionStorage carries the entry over.
var PENDING = 'hot-reload:reloading';

export function explainReload(entry) {
  explain({ what: entry.what, action: 'reloading the page', why: entry.why });
  try {
    sessionStorage.setItem(PENDING, JSON.stringify(Object.assign({ href: location.href }, entry)));
  } catch (error) {
    // storage off or full: the new page cannot say how long it took, nothing worse
  }
}

export function explainArrival() {
  var entry = null;
  try {
    entry = JSON.parse(sessionStorage.getItem(PENDING));
    sessionStorage.removeItem(PENDING);
  } catch (error) {
    return;
  }
  if (!entry || entry.href !== location.href) return; // this tab went elsewhere meanwhile
  explain({ what: entry.what, action: 'page reloaded', why: entry.why, t: entry.t, since: entry.since });
}

// Milliseconds since `t`, or null when unknown or when the clocks disagree (a server in a
// container or on another machine): better no number than a wrong one.
function elapsed(t) {
  if (typeof t !== 'number') return null;
  var ms = Date.now() - t;
  return ms >= 0 && ms < 60000 ? Math.round(ms) : null;
}
