// Under a nonce-based Content-Security-Policy the page lives under its first response's policy,
// while each response it fetches carries a new nonce. Parsing the fetched page already checks
// its inline styles against the live page's policy (a violation per style, with the new nonce),
// and what a morph inserts with the new nonce the page refuses. So the fetched text gets the
// page's own nonces before it is parsed: it then reads as the page's first response would.
// (A browser hides an element's nonce attribute once it is in a page under such a policy:
// nonce="". The `nonce` property keeps the value.)

var SOURCE = /'nonce-([A-Za-z0-9+/_=-]+)'/g;

// `text` with each nonce of `policies` (the fetched response's CSP headers, and its <meta> ones
// in the text itself) replaced by the page's nonce for the same kind of element.
export function withPageNonces(text, policies) {
  var kinds = freshNonces(policies + ';' + metaPolicies(text));
  kinds.forEach(function (kind, fresh) {
    var own = pageNonce(kind);
    if (own && own !== fresh) text = text.split(fresh).join(own);
  });
  return text;
}

// Each nonce the policies name, with the kind of element it is for ('script', 'style' or '').
function freshNonces(policies) {
  var kinds = new Map();
  policies.split(/[;,]/).forEach(function (directive) {
    var name = (directive.trim().split(/\s+/)[0] || '').toLowerCase();
    var kind = /^(script|style)-src/.test(name) ? name.split('-')[0] : '';
    Array.from(directive.matchAll(SOURCE)).forEach(function (source) {
      if (!kinds.get(source[1])) kinds.set(source[1], kind);
    });
  });
  return kinds;
}

// The policies of the page's <meta http-equiv="content-security-policy"> tags. Read from the
// text (parsing it is what must not happen before its nonces are the page's); a textarea decodes
// the character references of their content (&#39;nonce-...&#39; from an escaping template).
function metaPolicies(text) {
  var box = document.createElement('textarea');
  return (text.match(/<meta\b[^>]*>/gi) || [])
    .filter((tag) => /http-equiv\s*=\s*["']?content-security-policy["'\s>]/i.test(tag))
    .map(function (tag) {
      box.innerHTML = (tag.match(/\scontent\s*=\s*(?:"([^"]*)"|'([^']*)')/i) || []).slice(1).join('');
      return box.value;
    })
    .join(';');
}

// The nonce of the page's own elements of this kind (a page may give scripts and styles each
// their own), else of any: our tag always carries one when the page's policy names one.
function pageNonce(kind) {
  var any = '';
  var carriers = document.querySelectorAll('[nonce]');
  for (var i = 0; i < carriers.length; i++) {
    var nonce = carriers[i].nonce;
    var name = carriers[i].localName === 'link' ? 'style' : carriers[i].localName;
    if (nonce && name === kind) return nonce;
    any = any || nonce;
  }
  return any;
}
