/*
 * loader.js: the classic-script form of the snippet, for tag managers and site builders that
 * strip `type="module"`:  <script src="https://BFF-HOST/loader.js" async></script>
 * It adds the module script (widget.js, from the same origin as itself) once per page, with the
 * page's CSP nonce when it had one. Under Trusted Types the script URL goes through a policy
 * named `calbridge` that allows exactly that one URL. ES5 on purpose: it must run anywhere.
 */
(function () {
  var d = document;
  var me = d.currentScript;
  if (!me || (window.customElements && customElements.get('calbridge-booking')) || d.querySelector('script[data-calbridge-widget]')) return;
  var url = new URL('widget.js', me.src).href;
  var src = url;
  var tt = window.trustedTypes;
  if (tt && tt.createPolicy) {
    try {
      src = tt.createPolicy('calbridge', {
        createScriptURL: function (u) {
          if (u !== url) throw new TypeError('calbridge: unexpected script URL');
          return u;
        },
      }).createScriptURL(url);
    } catch (e) {
      // The page allows no policy of that name: a page that does not enforce Trusted Types
      // takes the plain string; one that does will refuse it and say so in its console.
    }
  }
  var s = d.createElement('script');
  s.type = 'module';
  s.setAttribute('data-calbridge-widget', '');
  if (me.nonce) s.nonce = me.nonce;
  s.src = src;
  d.head.appendChild(s);
})();
