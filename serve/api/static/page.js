// newsdesk try-it page: the helpers both page scripts (app.js, stories.js) use. Loaded first.
// Article text is untrusted: element() only ever sets it through textContent.
"use strict";

window.newsdeskPage = Object.freeze({
  $: function (id) {
    return document.getElementById(id);
  },

  element: function (tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  },

  // Headers of an API call: JSON answers, a JSON body when there is one, and the key typed on the page.
  requestHeaders: function (json) {
    const headers = { Accept: "application/json" };
    if (json) headers["Content-Type"] = "application/json";
    const input = document.getElementById("api-key");
    const key = input ? input.value.trim() : "";
    if (key) headers["X-API-Key"] = key;
    return headers;
  },
});
