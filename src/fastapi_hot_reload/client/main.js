// fastapi-hot-reload browser client: keeps the page current when the server says a file changed.
// Settings come from the script tag: data-boot (server process), data-rev (changes seen),
// data-page (this page's id, for its server log records), data-status="off" (no status element),
// data-events (use Server-Sent Events from the start), data-templates (what the page rendered,
// see scope.js).
// One message switch; each kind of update lives in a module of its own.
// Messages (JSON): hello {boot, rev, missed?}; page / reload / css / image {rev, paths, t,
// templates?, scripts?} where t is when the server saw the change (ms since the epoch) and
// templates/scripts say which pages it touches (none: every page); error {rev, error: {message, file, line, source,
// editor}} where editor is a link to the file and line, or null; log {records: [{level, method,
// logger, text, request}], dropped}: server log records of this tab's requests.
import { connect } from './connection.js';
import { whenShown } from './hidden.js';
import { explain, explainArrival, setState, what } from './log.js';
import { hideError, showError } from './overlay.js';
import { touches } from './scope.js';
import { showRecords, tagRequests } from './serverlog.js';
import { clearStatus, enableStatus, showTrouble } from './status.js';
import { refreshImages, swapStylesheets } from './swaps.js';
import { reload, update } from './update.js';

var tag = document.querySelector('script[data-hot-reload]');
var settings = tag ? tag.dataset : {};
var boot = settings.boot || '';
var rev = Number(settings.rev || 0);
var lostAt = 0; // when the socket closed under us, for the restart's timing
var url = new URL('../ws', import.meta.url); // beside the client, so prefixes work
url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
if (settings.page) url.searchParams.set('page', settings.page);

function reloadWhy(paths) {
  if (paths.some((path) => /\.m?js$/.test(path))) return 'scripts run again only on a reload';
  return 'no in-place update for it';
}

// Apply a change that touches this page. A message the client makes itself (a restart) carries
// its own console `entry`.
function apply(message) {
  var paths = message.paths || [];
  var entry = message.entry || { what: what(message), t: message.t };
  if (message.type === 'reload') {
    return reload(Object.assign({ why: reloadWhy(paths) }, entry));
  }
  if (message.type === 'page') {
    // Templates changed (and maybe stylesheets or images, swapped here too): fetch and morph.
    swapStylesheets(paths);
    refreshImages(paths);
    hideError(); // a good change: the error it showed is fixed
    return update(entry);
  }
  var found = message.type === 'css' ? swapStylesheets(paths) : refreshImages(paths);
  var kind = message.type === 'css' ? 'stylesheet' : 'image';
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
    return whenShown({ type: 'page', entry: entry }, apply);
  }
  if (message.missed) message.missed.forEach(changed);
  else if (message.rev > rev) {
    // Which file is unknown (a script, say): reload, as for any file but a template.
    rev = message.rev;
    var why = { what: 'a file changed while the page connected', why: 'the page predates it' };
    whenShown({ type: 'reload', entry: why }, apply);
  }
}

function onMessage(message) {
  switch (message.type) {
    case 'hello':
      return hello(message);
    case 'error':
      return showError(message.error || {});
    case 'page':
    case 'reload':
    case 'css':
    case 'image':
      return changed(message);
    case 'log':
      return showRecords(message);
  }
}

function onTrouble(kind, detail) {
  if (kind === 'lost' && !lostAt) lostAt = Date.now();
  showTrouble(kind, detail);
}

enableStatus(settings.status !== 'off');
tagRequests(settings.page);
explainArrival();
connect(url, onMessage, onTrouble, 'events' in settings, function () {
  return { rev: rev }; // so the server can replay exactly what this tab missed
});
document.addEventListener('keydown', function (event) {
  if (event.key === 'Escape') hideError();
});
