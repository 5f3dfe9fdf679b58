// fastapi-hot-reload browser client: reload the page when the server says a file changed.
// Settings come from this script tag: data-boot (server process) and data-rev (changes seen).
(function () {
  'use strict';

  var script = document.currentScript;
  var root = document.documentElement;
  if (!script || root.dataset.hotReload) return; // once per page, however often it is included

  var boot = script.dataset.boot;
  var rev = Number(script.dataset.rev);
  var url = new URL('ws', script.src); // beside client.js, so root_path and proxy prefixes work
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';

  var socket = null;
  var tries = 0; // failed connects since the last hello
  var leaving = false; // reloading, or the page is hidden for good or for the bfcache
  var waitingSaid = false;

  function log(text) {
    console.info('[hot-reload] ' + text);
  }

  function state(value) {
    root.dataset.hotReload = value;
  }

  function reload(why) {
    if (leaving) return;
    log('reloading: ' + why);
    leaving = true;
    state('reloading');
    location.reload();
  }

  function onMessage(event) {
    var message;
    try {
      message = JSON.parse(event.data);
    } catch (error) {
      return; // not ours to understand
    }
    if (message.type === 'hello') {
      if (message.boot !== boot) return reload('the server restarted');
      if (message.rev > rev) return reload('a file changed while connecting');
      if (waitingSaid) log('connected again');
      tries = 0;
      waitingSaid = false;
      state('connected');
    } else if (message.type === 'reload' && message.rev > rev) {
      reload((message.paths || []).join(', ') + ' changed');
    }
  }

  function onClose() {
    socket = null;
    if (leaving) return;
    state('reconnecting');
    // At once, then 100 ms, doubling up to 1 s between tries; never give up.
    var delay = tries === 0 ? 0 : Math.min(1000, 50 * Math.pow(2, tries));
    if (tries === 1 && !waitingSaid) {
      log('server unreachable, waiting for it to come back');
      waitingSaid = true;
    }
    tries += 1;
    setTimeout(connect, delay);
  }

  function connect() {
    if (leaving || socket) return;
    socket = new WebSocket(url.href);
    socket.onmessage = onMessage;
    socket.onclose = onClose; // an error is always followed by a close
  }

  // Not on beforeunload: a download link or a cancelled "Leave site?" fires it, and the page
  // stays. pagehide is the page really going away (or into the back/forward cache).
  function leave() {
    leaving = true;
    if (!socket) return;
    socket.onmessage = socket.onclose = null; // this close is ours: no reconnect
    socket.close(1000, 'page closed');
    socket = null;
  }

  window.addEventListener('pagehide', leave);
  window.addEventListener('pageshow', function (event) {
    if (!event.persisted) return; // restored from the back/forward cache: catch up
    leaving = false;
    tries = 0;
    state('connecting');
    connect();
  });

  state('connecting');
  connect();
})();
