/* SSO chat loader: paste
 *   <script src="https://GATEWAY/chat/loader.js" data-site="10001" data-campaign="1" async></script>
 * It adds a chat button and the chat window (an iframe of the gateway) and
 * exposes window.SsoChat.open(), .close(), .signInWithJwt(token), .signIn(), .signOut()
 * and .configure({ getToken: function () { return tokenOrPromise; } }).
 *
 * getToken: the host page mints a fresh visitor JWT only when the window needs
 * one (the window opens without a signed-in visitor, SsoChat.signIn() is
 * called, or a token came back expired). It returns the JWT (or a promise of
 * it), or null when the host page's user is not logged in. A page may also set
 * window.SsoChatConfig = { getToken: ... } before the loader runs.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.SsoChat) return;
  var origin = new URL(script.src).origin;
  var site = script.getAttribute("data-site"), campaign = script.getAttribute("data-campaign");
  var ready = false, queue = [], getToken = null;
  if (window.SsoChatConfig && typeof window.SsoChatConfig.getToken === "function") {
    getToken = window.SsoChatConfig.getToken;
  }
  var frame = document.createElement("iframe");
  frame.src = origin + "/chat/" + encodeURIComponent(site) + "/" + encodeURIComponent(campaign) + "/";
  frame.title = "Chat window";
  frame.id = "sso-chat-frame";
  frame.style.cssText = "position:fixed;right:20px;bottom:84px;width:360px;height:520px;max-height:80vh;" +
    "border:1px solid #dde2ec;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.18);" +
    "background:#fff;z-index:2147483000;display:none";
  var button = document.createElement("button");
  button.type = "button";
  button.id = "sso-chat-button";
  button.textContent = "Chat with us";
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "sso-chat-frame");
  button.style.cssText = "position:fixed;right:20px;bottom:20px;padding:12px 20px;border:0;" +
    "border-radius:24px;background:#2456d6;color:#fff;font:600 15px system-ui,sans-serif;" +
    "cursor:pointer;z-index:2147483000;box-shadow:0 4px 14px rgba(0,0,0,.2)";

  var storeKey = "sso-chat:" + site + ":" + campaign;
  function remember(token) {
    try { sessionStorage.setItem(storeKey, token); } catch (e) { /* storage blocked */ }
  }
  function remembered() {
    try { return sessionStorage.getItem(storeKey); } catch (e) { return null; }
  }
  function post(message) {
    if (ready) frame.contentWindow.postMessage(message, origin); else queue.push(message);
  }
  /* Ask the host page for a fresh JWT and hand it to the window. */
  function fetchToken() {
    if (!getToken) return Promise.resolve(false);
    return Promise.resolve().then(function () { return getToken(); }).then(function (jwt) {
      if (!jwt) return false;
      post({ type: "sso-chat:jwt", jwt: String(jwt) });
      return true;
    }, function () { return false; });
  }
  // A phone (under 480 px wide): the window takes the whole screen, the
  // button stays on top of it to close it.
  var phone = window.matchMedia ? window.matchMedia("(max-width: 480px)") : null;
  function layout() {
    if (phone && phone.matches) {
      frame.style.right = "0"; frame.style.bottom = "0"; frame.style.width = "100%";
      frame.style.height = "calc(100% - 64px)"; frame.style.maxHeight = "none"; frame.style.borderRadius = "0";
      frame.style.border = "0"; frame.style.borderBottom = "1px solid #dde2ec";
      button.style.right = "12px"; button.style.bottom = "10px";
    } else {
      frame.style.right = "20px"; frame.style.bottom = "84px"; frame.style.width = "360px";
      frame.style.height = "520px"; frame.style.maxHeight = "80vh"; frame.style.borderRadius = "12px";
      frame.style.border = "1px solid #dde2ec";
      button.style.right = "20px"; button.style.bottom = "20px";
    }
  }
  if (phone && phone.addEventListener) phone.addEventListener("change", layout);
  layout();
  // The window marks messages read ("Seen" for the agent) only while shown.
  function open() {
    frame.style.display = "block"; button.textContent = "Close chat";
    button.setAttribute("aria-expanded", "true");
    frame.focus();
    post({ type: "sso-chat:shown", shown: true });
  }
  function close() {
    frame.style.display = "none"; button.textContent = "Chat with us";
    button.setAttribute("aria-expanded", "false");
    button.focus();
    post({ type: "sso-chat:shown", shown: false });
  }
  window.addEventListener("message", function (e) {
    if (e.origin !== origin || e.source !== frame.contentWindow) return;
    if (e.data && e.data.type === "sso-chat:ready") {
      ready = true;
      var token = remembered();
      if (token) post({ type: "sso-chat:restore", token: token });
      queue.splice(0).forEach(post);
      post({ type: "sso-chat:shown", shown: frame.style.display !== "none" });
      if (e.data.wantsToken) fetchToken();
    } else if (e.data && e.data.type === "sso-chat:need-token") {
      fetchToken();
    } else if (e.data && e.data.type === "sso-chat:token" && typeof e.data.token === "string") {
      remember(e.data.token);
    }
  });
  button.addEventListener("click", function () {
    if (frame.style.display === "none") open(); else close();
  });
  function mount() { document.body.appendChild(frame); document.body.appendChild(button); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);

  window.SsoChat = {
    open: open,
    close: close,
    /* Sign the visitor in with a JWT the host page already has: no redirect. */
    signInWithJwt: function (token) {
      open();
      post({ type: "sso-chat:jwt", jwt: String(token) });
    },
    /* Set the host page's token callback (see the top of this file). */
    configure: function (options) {
      if (options && typeof options.getToken === "function") getToken = options.getToken;
    },
    /* The host page's user signed out: the window forgets them and their chat,
       and the gateway revokes the window's tokens (a replayed copy is refused). */
    signOut: function () {
      try { sessionStorage.removeItem(storeKey); } catch (e) { /* storage blocked */ }
      post({ type: "sso-chat:sign-out" });
    },
    /* Sign the visitor in with a token from the getToken callback. */
    signIn: function () {
      open();
      return fetchToken();
    }
  };
})();
