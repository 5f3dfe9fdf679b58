// Server log records in this tab's console. The server sends the records of requests this tab
// made: the page's own render, and the fetch and XMLHttpRequest calls (htmx's included) to this
// origin, which carry the page's id in a header added here. Other origins get no header: a
// custom header would make their requests need a CORS preflight.
import { HEADER_PAGE as HEADER } from './protocol.js';

export function showRecords(message) {
  (message.records || []).forEach(function (record) {
    var method = console[record.method] ? record.method : 'log';
    var where = record.request ? ' (' + record.request + ')' : '';
    console[method]('[server] ' + record.level + ' ' + record.logger + ': ' + record.text + where);
  });
  if (message.dropped) {
    console.warn('[server] ' + message.dropped + ' more log records not shown here: see the terminal');
  }
}

function sameOrigin(url) {
  try {
    return new URL(url, location.href).origin === location.origin;
  } catch (error) {
    return false;
  }
}

export function tagRequests(page) {
  if (!page) return;
  var fetch_ = window.fetch;
  if (fetch_) {
    window.fetch = function (input, init) {
      var url = input instanceof Request ? input.url : String(input);
      if (!sameOrigin(url)) return fetch_.apply(this, arguments);
      var source = init && init.headers ? init.headers : input instanceof Request ? input.headers : {};
      var headers = new Headers(source);
      if (!headers.has(HEADER)) headers.set(HEADER, page);
      return fetch_.call(this, input, Object.assign({}, init, { headers: headers }));
    };
  }
  var open = XMLHttpRequest.prototype.open;
  var send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) {
    this.hotReloadSameOrigin = sameOrigin(url);
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    if (this.hotReloadSameOrigin) this.setRequestHeader(HEADER, page);
    return send.apply(this, arguments);
  };
}
