// newsdesk try-it page, "Several articles": groups pasted or opened articles with POST /v1/cluster.
// Article text is untrusted: it only ever reaches the page through textContent.
"use strict";

(function () {
  const SEPARATOR = /^\s*-{3,}\s*$/m;
  const MAX_FILE_BYTES = 20 * 1000 * 1000;
  let opened = []; // articles from files: {name, text}

  const { $, element, requestHeaders } = window.newsdeskPage;

  // Pasted articles are separated by a line of three or more dashes; an article's first line is its title
  // when a blank line follows it.
  function pastedArticles() {
    return $("stories-text")
      .value.split(SEPARATOR)
      .map(function (chunk) {
        return chunk.trim();
      })
      .filter(function (chunk) {
        return chunk.length > 0;
      })
      .map(function (chunk, index) {
        const parts = chunk.split(/\n\s*\n/);
        if (parts.length > 1 && parts[0].length <= 200 && parts[0].indexOf("\n") < 0) {
          return { id: "pasted " + (index + 1), title: parts[0], text: parts.slice(1).join("\n\n") };
        }
        return { id: "pasted " + (index + 1), text: chunk };
      });
  }

  function allArticles() {
    return pastedArticles().concat(
      opened.map(function (file) {
        return { id: file.name, text: file.text };
      })
    );
  }

  function setStatus(text) {
    $("stories-status").textContent = text;
  }

  function showError(message) {
    const box = $("stories-error");
    box.textContent = message;
    box.hidden = false;
  }

  function label(member) {
    return member.title || member.id || "article " + (member.index + 1);
  }

  function renderGroups(data) {
    const list = $("stories-groups");
    list.replaceChildren();
    data.groups.forEach(function (group) {
      const card = element("li", "card story-group");
      card.dataset.story = String(group.story);
      const heading = element("h3", "story-title", label(group.representative));
      card.appendChild(heading);
      const count = group.articles.length;
      let meta = count + (count === 1 ? " article" : " articles");
      if (group.duplicates) meta += ", " + group.duplicates + " near-duplicate" + (group.duplicates === 1 ? "" : "s");
      card.appendChild(element("p", "muted small story-meta", meta));
      const members = element("ul", "story-members");
      group.articles.forEach(function (member) {
        const item = element("li", "story-member", label(member));
        if (member.index === group.representative.index) {
          item.appendChild(element("span", "badge", "representative"));
        }
        if (member.duplicate_of !== null && member.duplicate_of !== undefined) {
          const original = group.articles.find(function (m) {
            return m.index === member.duplicate_of;
          });
          item.appendChild(element("span", "badge duplicate", "near-duplicate of " + label(original || { index: member.duplicate_of })));
        }
        members.appendChild(item);
      });
      card.appendChild(members);
      if (group.summary && group.summary.length) {
        const summary = element("ul", "story-summary");
        group.summary.forEach(function (sentence) {
          summary.appendChild(element("li", "", sentence.text));
        });
        card.appendChild(summary);
      }
      list.appendChild(card);
    });
    list.hidden = false;
  }

  async function group() {
    const articles = allArticles();
    $("stories-error").hidden = true;
    if (articles.length < 2) {
      showError("Paste at least two articles (separated by a line of ---) or open several saved pages.");
      return;
    }
    setStatus("Grouping " + articles.length + " articles…");
    $("stories-run").disabled = true;
    try {
      const response = await fetch("v1/cluster", {
        method: "POST",
        headers: requestHeaders(true),
        body: JSON.stringify({ articles: articles, summarize: $("stories-summarize").checked }),
        cache: "no-store",
      });
      let data = null;
      try {
        data = await response.json();
      } catch (failure) {
        data = null;
      }
      if (!response.ok || data === null) {
        const detail = data && data.error ? data.error.message : "The server answered " + response.status + ".";
        showError(detail);
        setStatus("");
        return;
      }
      renderGroups(data);
      setStatus(
        data.articles + " articles in " + data.stories + (data.stories === 1 ? " story" : " stories") +
          (data.duplicates ? ", " + data.duplicates + " near-duplicate" + (data.duplicates === 1 ? "" : "s") : "") + "."
      );
    } catch (failure) {
      showError("The request did not get an answer (" + failure.message + ").");
      setStatus("");
    } finally {
      $("stories-run").disabled = false;
    }
  }

  async function openFiles(files) {
    const read = [];
    for (const file of files) {
      if (file.size > MAX_FILE_BYTES) {
        showError(file.name + " is larger than 20 MB; it was not opened.");
        continue;
      }
      read.push({ name: file.name, text: new TextDecoder("utf-8").decode(await file.arrayBuffer()) });
    }
    opened = opened.concat(read);
    $("stories-files").textContent = opened.length
      ? "Opened: " + opened.map(function (f) { return f.name; }).join(", ")
      : "";
    setStatus(opened.length + " saved page(s) opened; press Group.");
  }

  function start() {
    if (!$("stories-run")) return;
    $("stories-run").addEventListener("click", group);
    $("stories-file").addEventListener("change", function (event) {
      openFiles(Array.from(event.target.files || []));
      event.target.value = "";
    });
    $("stories-clear").addEventListener("click", function () {
      opened = [];
      $("stories-text").value = "";
      $("stories-files").textContent = "";
      $("stories-groups").replaceChildren();
      $("stories-groups").hidden = true;
      setStatus("");
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
