// The client's own elements on the page (error overlay, status note) live in an open shadow root:
// the page's styles neither break them nor are broken by them.

// A `tagName` element holding a shadow root styled by `css`, added to the page; its shadow root.
export function shadowHost(tagName, css) {
  var host = document.createElement(tagName);
  var shadow = host.attachShadow({ mode: 'open' });
  var style = document.createElement('style');
  style.textContent = css;
  shadow.appendChild(style);
  (document.body || document.documentElement).appendChild(host);
  return shadow;
}
