// The status element: a small note in the bottom-right corner, there only while the page may be
// out of date (the server restarting, not answering, or refusing this page); gone by itself once
// the page is current. It takes no clicks (pointer-events: none), so it never hides what is
// under it from the mouse, and it does not move when the user prefers reduced motion.
import { log } from './log.js';
import { shadowHost } from './shadow.js';

var NOT_ANSWERING_MS = 3000;
var enabled = true;
var host = null;
var line = null;
var since = 0; // when the server went away
var timer = 0;
var cause = '';

export function enableStatus(on) {
  enabled = on;
}

// `kind` and `detail` as connection.js reports them.
export function showTrouble(kind, detail) {
  if (!enabled) return;
  if (kind === 'refused' || kind === 'blocked') return show('cannot connect: ' + detail, kind);
  if (!since) since = Date.now();
  if (kind === 'lost') cause = 'restarting\u2026';
  else if (!cause) cause = 'connecting\u2026'; // never connected yet
  if (!timer) timer = setInterval(tick, 1000);
  tick();
}

export function clearStatus() {
  clearInterval(timer);
  timer = since = 0;
  cause = '';
  if (host) host.remove();
  host = line = null;
}

function tick() {
  var gone = Date.now() - since;
  if (gone < NOT_ANSWERING_MS) return show(cause, 'waiting');
  var text = 'server not answering for ' + Math.floor(gone / 1000) + ' s \u2014 see the terminal';
  if (!host || host.dataset.state !== 'down') log(text);
  show(text, 'down');
}

function show(text, state) {
  if (state === 'refused' || state === 'blocked') {
    clearInterval(timer);
    timer = 0;
  }
  if (!host) create();
  line.textContent = text;
  host.dataset.state = state;
}

function create() {
  var shadow = shadowHost('hot-reload-status', STYLE);
  host = shadow.host;
  line = document.createElement('div');
  line.setAttribute('role', 'status');
  shadow.appendChild(line);
}

var STYLE =
  ':host{all:initial;position:fixed;right:12px;bottom:12px;z-index:2147483646;' +
  'pointer-events:none;max-width:min(32rem,calc(100vw - 24px))}' +
  'div{font:12px/1.4 system-ui,sans-serif;color:#fff;background:rgba(29,29,31,.88);' +
  'border-radius:6px;padding:5px 10px 5px 24px;position:relative;box-shadow:0 2px 8px #0003;' +
  'animation:in .2s ease-out}' +
  'div::before{content:"";position:absolute;left:10px;top:50%;width:7px;height:7px;' +
  'margin-top:-3.5px;border-radius:50%;background:#f5a623;animation:pulse 1s ease-in-out infinite}' +
  ':host([data-state=down]) div::before{background:#e5484d}' +
  ':host([data-state=refused]) div::before,:host([data-state=blocked]) div::before' +
  '{background:#e5484d;animation:none}' +
  '@keyframes pulse{50%{opacity:.3}}@keyframes in{from{opacity:0;transform:translateY(4px)}}' +
  '@media (prefers-reduced-motion:reduce){div,div::before{animation:none}}';
