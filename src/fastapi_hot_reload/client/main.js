// fastapi-hot-reload browser client: keeps the page current when the server says a file changed.
// Settings come from the script tag, messages from the server: both are spelled in protocol.js
// (and described in _protocol.py). One message switch; each kind of update lives in a module of
// its own.
import { connect } from './connection.js';
import { whenShown } from './hidden.js';
import { explain, explainArrival, setState, what } from './log.js';
import { hideError, showError } from './overlay.js';
import * as wire from './protocol.js';
import { touches } from './scope.js';
import { showRecords, tagRequests } from './serverlog.js';
import { clearStatus, enableStatus, showTrouble } from './status.js';
import { refreshImages, swapStylesheets } from './swaps.js';
import { reload, update } from './update.js';

var boot = wire.setting(wire.ATTR_BOOT) || '';
var rev = Number(wire.setting(wire.ATTR_REV) || 0);
var page = wire.setting(wire.ATTR_PAGE);
var lostAt = 0; // when the socket closed under us, for the restart's timing
var url = new URL('../' + wire.WS, import.meta.url); // beside the client, so prefixes work
url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
if (page) url.searchParams.set(wire.QUERY_PAGE, page);

function reloadWhy(paths) {
  if (paths.some((path) => /\.m?js$/.test(path))) return 'scripts run again only on a reload';
  return 'no in-place update for it';
}

// Apply a change that touches this page. A message the client makes itself (a restart) carries
// its own console `entry`.
function apply(message) {
  var paths = message.paths || [];
  var entry = message.entry || { what: what(message), t: message.t };
  if (message.type === wire.RELOAD) {
    return reload(Object.assign({ why: reloadWhy(paths) }, entry));
  }
  if (message.type === wire.PAGE) {
    // Templates changed (and maybe stylesheets or images, swapped here too): fetch and morph.
    swapStylesheets(paths);
    refreshImages(paths);
    hideError(); // a good change: the error it showed is fixed
    return update(entry);
  }
  var found = message.type === wire.CSS ? swapStylesheets(paths) : refreshImages(paths);
  var kind = message.type === wire.CSS ? 'stylesheet' : 'image';
  explain({
    what: entry.what,
    action: found ? kind + ' swapped in place' : 'nothing to do',
    why: found ? '' : 'not on this page',
    t: found ? message.t : undefined,
  });
}

// A change newer than the page: the page is up to date with it once it is applied, or at once
// when it does not touch the page; a hidden tab applies it when shown.
function changed(message) {
  if (message.rev <= rev) return;
  rev = message.rev;
  if (!touches(message)) {
    return explain({ what: what(message), action: 'nothing to do', why: 'not used by this page' });
  }
  whenShown(message, apply);
}

// hello.missed: the changes since the rev this tab connected with (`?rev=`), when the server
// still remembers them all; without it, a newer rev means the page must update.
function hello(message) {
  var closedAt = lostAt || undefined;
  lostAt = 0;
  clearStatus();
  setState('connected'); // first: an update it starts says 'morphing' or 'reloading' after it
  if (message.boot !== boot) {
    boot = message.boot; // a new server: its revs count from its start
    rev = message.rev;
    var entry = { what: 'the server restarted', why: 'new server code' };
    Object.assign(entry, { t: closedAt, since: 'the connection closed' });
    return whenShown({ type: wire.PAGE, entry: entry }, apply);
  }
  if (message.missed) message.missed.forEach(changed);
  else if (message.rev > rev) {
    // Which file is unknown (a script, say): reload, as for any file but a template.
    rev = message.rev;
    var why = { what: 'a file changed while the page connected', why: 'the page predates it' };
    whenShown({ type: wire.RELOAD, entry: why }, apply);
  }
}

function onMessage(message) {
  switch (message.type) {
    case wire.HELLO:
      return hello(message);
    case wire.ERROR:
      return showError(message.error || {});
    case wire.PAGE:
    case wire.RELOAD:
    case wire.CSS:
    case wire.IMAGE:
      return changed(message);
    case wire.LOG:
      return showRecords(message);
  }
}

function onTrouble(kind, detail) {
  if (kind === 'lost' && !lostAt) lostAt = Date.now();
  showTrouble(kind, detail);
}

enableStatus(wire.setting(wire.ATTR_STATUS) !== wire.STATUS_OFF);
tagRequests(page);
explainArrival();
connect(url, onMessage, onTrouble, wire.setting(wire.ATTR_EVENTS) !== null, function () {
  var query = {};
  query[wire.QUERY_REV] = rev;
  return query; // so the server can replay exactly what this tab missed
});
document.addEventListener('keydown', function (event) {
  if (event.key === 'Escape') hideError();
});
