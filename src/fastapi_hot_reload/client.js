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
    } else if (message.type === 'error') {
      showError(message.error || {});
    } else if (message.type === 'reload' && message.rev > rev) {
      reload((message.paths || []).join(', ') + ' changed');
    } else if ((message.type === 'css' || message.type === 'image') && message.rev > rev) {
      rev = message.rev; // the page is up to date again, without a reload
      var paths = message.paths || [];
      var found = message.type === 'css' ? swapStylesheets(paths) : refreshImages(paths);
      log(message.type + ' ' + paths.join(', ') + (found ? ' updated in place' : ' not on this page'));
    }
  }

  // In-place updates: stylesheets and images are fetched again under a new query string.
  function matches(url, paths) {
    var path = new URL(url, location.href).pathname;
    return paths.some(function (changed) {
      return path === '/' + changed || path.endsWith('/' + changed);
    });
  }

  function busted(url) {
    var fresh = new URL(url, location.href);
    fresh.searchParams.set('hot-reload', String(Date.now()));
    return fresh.href;
  }

  function swapStylesheets(paths) {
    var found = 0;
    document.querySelectorAll('link[rel~="stylesheet"][href]').forEach(function (link) {
      if (link.hotReloadOld) return; // already being replaced
      if (matches(link.href, paths)) found += swapLink(link);
      else if (link.sheet) found += refreshImports(link.sheet, paths);
    });
    document.querySelectorAll('style').forEach(function (style) {
      if (style.sheet) found += refreshImports(style.sheet, paths);
    });
    return found;
  }

  function swapLink(link) {
    // The new sheet loads beside the old one, which goes only then: the page never flashes.
    var fresh = link.cloneNode();
    link.hotReloadOld = true;
    fresh.href = busted(link.href);
    fresh.onload = function () {
      link.remove();
    };
    fresh.onerror = function () {
      fresh.remove(); // keep the old styles rather than none
      link.hotReloadOld = false;
    };
    link.after(fresh);
    return 1;
  }

  function refreshImports(sheet, paths) {
    var rules;
    try {
      rules = sheet.cssRules;
    } catch (error) {
      return 0; // a sheet from another origin: not ours to read
    }
    var found = 0;
    for (var i = rules.length - 1; i >= 0; i--) {
      var rule = rules[i];
      if (!(rule instanceof CSSImportRule)) continue;
      var href = new URL(rule.href, sheet.href || location.href).href;
      if (matches(href, paths)) {
        var media = rule.media.mediaText;
        sheet.insertRule('@import url("' + busted(href) + '")' + (media ? ' ' + media : '') + ';', i);
        dropWhenLoaded(sheet, sheet.cssRules[i], rule, 100);
        found += 1;
      } else if (rule.styleSheet) {
        found += refreshImports(rule.styleSheet, paths);
      }
    }
    return found;
  }

  function dropWhenLoaded(sheet, fresh, old, triesLeft) {
    // An @import has no load event: wait until its new sheet has rules (or about a second).
    var loaded = fresh.styleSheet && fresh.styleSheet.cssRules.length > 0;
    if (!loaded && triesLeft > 0) {
      setTimeout(dropWhenLoaded, 10, sheet, fresh, old, triesLeft - 1);
      return;
    }
    var index = Array.prototype.indexOf.call(sheet.cssRules, old);
    if (index >= 0) sheet.deleteRule(index);
  }

  function refreshImages(paths) {
    var found = 0;
    document.querySelectorAll('img[src]').forEach(function (img) {
      if (!matches(img.src, paths)) return;
      img.src = busted(img.src);
      found += 1;
    });
    return found;
  }

  // The error overlay: in a shadow root, so the page's styles neither break it nor are broken
  // by it; every text goes in through textContent, so markup in an error is shown as text.
  var overlay = null;

  function element(parent, tag, text, className) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    if (className) node.className = className;
    parent.appendChild(node);
    return node;
  }

  function hideError() {
    if (overlay) overlay.remove();
    overlay = null;
  }

  function showError(error) {
    hideError();
    var where = error.file ? error.file + (error.line ? ':' + error.line : '') : '';
    log('template error, not reloading: ' + error.message + (where ? ' (' + where + ')' : ''));
    overlay = document.createElement('hot-reload-error');
    var shadow = overlay.attachShadow({ mode: 'open' });
    element(shadow, 'style', OVERLAY_STYLE);
    var box = element(shadow, 'div', '', 'box');
    box.setAttribute('role', 'alert');
    element(box, 'h2', error.message || 'Template error');
    if (where) element(box, 'p', where, 'where');
    var source = element(box, 'pre', '', 'source');
    (error.source || []).forEach(function (entry) {
      var text = String(entry[0]).padStart(5) + '  ' + entry[1];
      element(source, 'span', text, entry[0] === error.line ? 'hit' : '');
    });
    element(box, 'p', 'Fix the file and save: the page reloads by itself.', 'hint');
    var close = element(box, 'button', '\u00d7', 'close');
    close.setAttribute('aria-label', 'Dismiss');
    close.addEventListener('click', hideError);
    (document.body || root).appendChild(overlay);
  }

  var OVERLAY_STYLE =
    ':host{position:fixed;inset:0;z-index:2147483647;background:rgba(0,0,0,.45);' +
    'display:flex;align-items:flex-start;justify-content:center;padding-top:10vh}' +
    '.box{position:relative;max-width:min(60rem,92vw);max-height:75vh;overflow:auto;' +
    'background:#fff;color:#1d1d1f;border-top:6px solid #b00020;border-radius:6px;' +
    'padding:1rem 1.5rem;font:15px/1.5 system-ui,sans-serif;box-shadow:0 10px 40px #0006}' +
    'h2{font-size:1.1rem;color:#b00020;margin:.2rem 2rem .5rem 0;white-space:pre-wrap}' +
    '.where,pre{font:13px/1.45 ui-monospace,monospace}' +
    'pre{background:#f6f6f8;padding:.75rem;overflow:auto}pre span{display:block;min-height:1em}' +
    '.hit{background:#ffe3e3}' +
    '.hint{color:#555;margin:.5rem 0 0}.close{position:absolute;top:.5rem;right:.75rem;' +
    'border:0;background:none;font-size:1.5rem;cursor:pointer;color:#555}';

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

  document.addEventListener('keydown', function (event) {
    if (event.key === 'Escape') hideError();
  });
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
