    // The console's push stream (chats/stream.py), opened with a ticket the
    // console gives behind the agent's sign-in (good for a minute to open it):
    // so every (re)connection asks a new ticket, and a dropped stream is
    // closed here rather than left to the browser's own retry with a stale
    // ticket. After 6 failures in a row (no stream server, refused) it stops
    // trying and the page keeps its full polling pace. ``on.open()`` runs once
    // a stream is open, ``on.changed()`` on each push, ``on.lost()`` when an
    // open stream drops.
    function openPushStream(ticketUrl, on) {
      var stream = null, fails = 0;
      function retry() {
        fails += 1;
        if (fails <= 6) setTimeout(open, fails === 1 ? 1000 : 5000 * fails);
      }
      function open() {
        if (!ticketUrl || !window.EventSource || stream) return;
        fetch(ticketUrl, { credentials: "same-origin" }).then(function (r) {
          if (!r.ok) throw new Error("no ticket");
          return r.json();
        }).then(function (data) {
          var es = new EventSource(data.url);
          stream = es;
          es.onopen = function () { fails = 0; on.open(); };
          es.onmessage = function () { on.changed(); };
          es.onerror = function () {
            if (stream !== es) return;
            es.close(); stream = null;
            on.lost();
            retry();
          };
        }).catch(retry);
      }
      open();
    }
