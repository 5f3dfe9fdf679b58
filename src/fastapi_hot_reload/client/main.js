// fastapi-hot-reload browser client: keeps the page current when the server says a file changed.
// Settings come from the script tag: data-boot (server process), data-rev (changes seen),
// data-page (this page's id, for its server log records), data-status="off" (no status element),
// data-events (use Server-Sent Events from the start).
// One message switch; each kind of update lives in a module of its own.
// Messages (JSON): hello {boot, rev}; page / reload / css / image {rev, paths, t} where t is when the
// server saw the change (ms since the epoch); error {rev, error: {message, file, line, source,
// editor}} where editor is a link to the file and line, or null; log {records: [{level, method,
// logger, text, request}], dropped}: server log records of this tab's requests.
import { connect } from './connection.js';
import { explain, explainArrival, setState } from './log.js';
import { hideError, showError } from './overlay.js';
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

// The page was rendered for an older rev (or by an older server): fetch it again and morph.
function refresh(message, entry) {
  boot = message.boot || boot;
  rev = message.rev;
  hideError(); // a good change: the error it showed is fixed
  return update(entry);
}

function changed(message) {
  return (message.paths || []).join(', ') + ' changed';
}

function reloadWhy(paths) {
  if (paths.some((path) => /\.m?js$/.test(path))) return 'scripts run again only on a reload';
  return 'no in-place update for it';
}

function swap(message) {
  rev = message.rev; // the page is up to date again, without a reload
  var paths = message.paths || [];
  var found = message.type === 'css' ? swapStylesheets(paths) : refreshImages(paths);
  var kind = message.type === 'css' ? 'stylesheet' : 'image';
  explain({
    what: changed(message),
    action: found ? kind + ' swapped in place' : 'nothing to do',
    why: found ? '' : 'not on this page',
    t: found ? message.t : undefined,
  });
}

function hello(message) {
  var closedAt = lostAt || undefined;
  lostAt = 0;
  clearStatus();
  setState('connected');
  if (message.boot !== boot) {
    var restart = { what: 'the server restarted', why: 'new server code' };
    return refresh(message, Object.assign(restart, { t: closedAt, since: 'the connection closed' }));
  }
  // Which file is unknown (a script, say): reload, as for any file but a template.
  if (message.rev > rev) {
    return reload({ what: 'a file changed while the page connected', why: 'the page predates it' });
  }
}

function onMessage(message) {
  switch (message.type) {
    case 'hello':
      return hello(message);
    case 'error':
      return showError(message.error || {});
    case 'page': // templates changed (and maybe stylesheets or images, swapped here too)
      if (message.rev > rev) {
        swapStylesheets(message.paths || []);
        refreshImages(message.paths || []);
        refresh(message, { what: changed(message), t: message.t });
      }
      return;
    case 'reload':
      if (message.rev > rev) {
        reload({ what: changed(message), why: reloadWhy(message.paths || []), t: message.t });
      }
      return;
    case 'css':
    case 'image':
      if (message.rev > rev) swap(message);
      return;
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
connect(url, onMessage, onTrouble, 'events' in settings);
document.addEventListener('keydown', function (event) {
  if (event.key === 'Escape') hideError();
});
