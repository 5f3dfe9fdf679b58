// The connection to the server: the only module that talks to it. Reconnects at once, then
// 100 ms doubling up to 1 s between tries, forever (every 10 s once the server said no); hands
// every message to `onMessage`, and each kind of trouble to `onTrouble(kind, detail)`:
//   'lost' (close code)  an open connection closed: the server restarts, or the network blinked
//   'down'               a connect failed and the server does not answer HTTP either
//   'refused' (reason)   the server refuses this page (its host or origin), in its own words
//   'blocked' (reason)   the server answers HTTP, but neither websockets nor events get through
// A websocket that cannot open while the server is up (a server without websocket support, a
// proxy that drops the upgrade) is replaced by Server-Sent Events from `{path}/events`, which
// carry the same messages; `events` (the server already knows) starts with them. `query()`
// gives each try's extra parameters (`{rev: N}`: the server replays what this tab missed).
import { log, setState } from './log.js';
import { EVENTS, HELLO, QUERY_ORIGIN } from './protocol.js';

var PATIENT_MS = 10000;

export function connect(url, onMessage, onTrouble, events, query) {
  var eventsUrl = new URL(EVENTS + url.search, url); // the same page id
  eventsUrl.searchParams.set(QUERY_ORIGIN, location.origin); // judged as the websocket's Origin
  eventsUrl.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  var socket = null;
  var opened = false; // the connection of this try opened
  var everOpened = false; // a websocket ever opened on this page
  var trying = false; // Server-Sent Events, tried after a websocket that failed to open
  var warned = false;
  var tries = 0; // failed connects since the last hello
  var stopped = false; // the page is reloading, or hidden for good or for the bfcache
  var waitingSaid = false;
  var answered = false; // a probe got an HTTP answer since the last hello
  var patient = false; // the server said no: ask again, but rarely

  function receive(event) {
    var message;
    try {
      message = JSON.parse(event.data);
    } catch (error) {
      return; // not ours to understand
    }
    if (message.type === HELLO) {
      if (trying) fellBack();
      trying = false;
      if (waitingSaid) log('connected again');
      tries = 0;
      waitingSaid = answered = patient = false;
    }
    onMessage(message);
  }

  function fellBack() {
    // Said once, and only where websockets never worked: not for a restart that the websocket
    // missed by a hair. Pages the server renders from now on start with events (data-events).
    if (warned || everOpened) return;
    warned = true;
    console.warn(
      '[hot-reload] the websocket cannot connect, so Server-Sent Events are used instead. ' +
        "The server needs websocket support for it (uvicorn: pip install 'uvicorn[standard]'), " +
        'and a proxy in between must pass the upgrade on.'
    );
  }

  function closed(event) {
    var wasOpen = opened;
    var websocketFailed = !events && !opened && !trying;
    socket = null;
    if (stopped) return;
    if (websocketFailed) {
      trying = true; // the server may be up without websockets: ask it over plain HTTP
      return open(eventsUrl);
    }
    trying = false; // that failed too: the server is down
    setState('reconnecting');
    if (wasOpen) onTrouble('lost', event && event.code);
    else probe();
    var delay = tries === 0 ? 0 : Math.min(1000, 50 * Math.pow(2, tries));
    if (tries === 1 && !waitingSaid) {
      log('server unreachable, waiting for it to come back');
      waitingSaid = true;
    }
    tries += 1;
    setTimeout(open, patient ? PATIENT_MS : delay);
  }

  // A failed websocket says nothing about why; a plain HTTP request to the same URL does.
  function probe() {
    var http = new URL(url.href);
    http.protocol = http.protocol === 'wss:' ? 'https:' : 'http:';
    http.search = '?origin=' + encodeURIComponent(location.origin);
    fetch(http.href, { cache: 'no-store' }).then(
      function (response) {
        return response.text().then(function (text) {
          if (stopped) return;
          if (response.status === 403) return trouble('refused', text);
          // Accepted over plain HTTP, yet the socket failed twice: it cannot get through.
          if (answered) trouble('blocked', response.status === 426 ? text : 'HTTP ' + response.status);
          answered = true;
        });
      },
      function () {
        if (!stopped) onTrouble('down');
      }
    );
  }

  function trouble(kind, reason) {
    if (!patient) log('cannot connect: ' + reason);
    patient = true;
    onTrouble(kind, reason);
  }

  // The URL of one try: its own parameters (page id, origin) and the ones `query()` gives now.
  function withQuery(base) {
    var fresh = new URL(base.href);
    var params = query();
    Object.keys(params).forEach(function (name) {
      fresh.searchParams.set(name, params[name]);
    });
    return fresh.href;
  }

  function open(target) {
    if (stopped || socket) return;
    if (target || events || typeof WebSocket !== 'function') {
      opened = false;
      socket = new EventSource(withQuery(target || eventsUrl));
      socket.onopen = function () {
        opened = true;
      };
      socket.onerror = function () {
        socket.close(); // no retries of its own: ours, above
        closed();
      };
    } else {
      opened = false;
      socket = new WebSocket(withQuery(url));
      socket.onopen = function () {
        opened = everOpened = true;
      };
      socket.onclose = closed; // an error is always followed by a close
    }
    socket.onmessage = receive;
  }

  function stop() {
    stopped = true;
    if (!socket) return;
    socket.onmessage = socket.onclose = socket.onerror = null; // ours: no reconnect
    socket.close(1000, 'page closed'); // an EventSource takes no arguments
    socket = null;
  }

  // Not on beforeunload: a download link or a cancelled "Leave site?" fires it, and the page
  // stays. pagehide is the page really going away (or into the back/forward cache).
  window.addEventListener('pagehide', stop);
  window.addEventListener('pageshow', function (event) {
    if (!event.persisted) return; // restored from the back/forward cache: catch up
    stopped = false;
    tries = 0;
    setState('connecting');
    open();
  });

  setState('connecting');
  open();
  return { stop: stop };
}
