// The connection to the server: the only module that talks to it. Reconnects at once, then
// 100 ms doubling up to 1 s between tries, forever; hands every message to `onMessage`.
// `address()` gives the socket URL for each try.
import { log, setState } from './log.js';

export function connect(address, onMessage) {
  var socket = null;
  var tries = 0; // failed connects since the last hello
  var stopped = false; // the page is reloading, or hidden for good or for the bfcache
  var waitingSaid = false;

  function receive(event) {
    var message;
    try {
      message = JSON.parse(event.data);
    } catch (error) {
      return; // not ours to understand
    }
    if (message.type === 'hello') {
      if (waitingSaid) log('connected again');
      tries = 0;
      waitingSaid = false;
    }
    onMessage(message);
  }

  function closed() {
    socket = null;
    if (stopped) return;
    setState('reconnecting');
    var delay = tries === 0 ? 0 : Math.min(1000, 50 * Math.pow(2, tries));
    if (tries === 1 && !waitingSaid) {
      log('server unreachable, waiting for it to come back');
      waitingSaid = true;
    }
    tries += 1;
    setTimeout(open, delay);
  }

  function open() {
    if (stopped || socket) return;
    socket = new WebSocket(address());
    socket.onmessage = receive;
    socket.onclose = closed; // an error is always followed by a close
  }

  function stop() {
    stopped = true;
    if (!socket) return;
    socket.onmessage = socket.onclose = null; // this close is ours: no reconnect
    socket.close(1000, 'page closed');
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
